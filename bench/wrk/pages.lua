-- GET workloads of bench/rig.py. Run with one connection per thread
-- (wrk -t N -c N) and the connections file as the script argument:
--
--   wrk -t16 -c16 -d10s --timeout 30s -s bench/wrk/pages.lua http://127.0.0.1:PORT FILE
--
-- FILE has one line per connection: the Cookie header ("-" for none), then
-- the paths, tab-separated; a connection sends its paths in turn. Every
-- request says X-Forwarded-Proto: https, as the TLS proxy in front of
-- gunicorn does in production. A response other than 200 counts as an error.
-- done() prints one line: "BENCH-JSON " and the figures as JSON.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local function fields_of(file, number)
  local lines = {}
  for line in io.lines(file) do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  local fields = {}
  for field in string.gmatch(lines[(number - 1) % #lines + 1], "[^\t]+") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local fields = fields_of(args[1], id)
  request_headers = { ["X-Forwarded-Proto"] = "https" }
  if fields[1] ~= "-" then
    request_headers["Cookie"] = fields[1]
  end
  paths = {}
  for i = 2, #fields do
    table.insert(paths, fields[i])
  end
  turn = 0
  bad = 0
end

function request()
  turn = turn % #paths + 1
  return wrk.format("GET", paths[turn], request_headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
  end
  local errors = summary.errors
  local socket = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "completed": %d, "seconds": %.3f, "p50_ms": %.2f, '
      .. '"p99_ms": %.2f, "errors": %d, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad_total + socket, bad_total, socket
  ))
end
