-- "A member files a request" for bench/rig.py: each connection (one per
-- thread: wrk -t N -c N) repeats the member's four steps in order:
--   GET the form (200), POST it (302 to the review page),
--   GET the review page (200), POST "send" (302 to the new request).
--
--   wrk -t16 -c16 -d10s --timeout 30s -s bench/wrk/file_request.lua http://127.0.0.1:PORT FILE
--
-- FILE has one line per connection, tab-separated: the Cookie header (with
-- the session and the CSRF cookie), the CSRF token, the form path, the
-- review path, the origin for the Referer (https://127.0.0.1:PORT: over
-- HTTPS Django's CSRF check wants a same-origin Referer) and the form's
-- urlencoded body (the token included). Every request says
-- X-Forwarded-Proto: https, as the TLS proxy in production does. Any other
-- answer counts as an error and starts the sequence again. done() prints
-- "BENCH-JSON " and the figures as JSON; "completed" counts requests filed.

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
  local cookie, token, origin = fields[1], fields[2], fields[5]
  form_path, review_path, form_body = fields[3], fields[4], fields[6]
  review_body = "csrfmiddlewaretoken=" .. token
  get_headers = { ["Cookie"] = cookie, ["X-Forwarded-Proto"] = "https" }
  local function post_headers(path)
    return {
      ["Cookie"] = cookie,
      ["X-Forwarded-Proto"] = "https",
      ["Referer"] = origin .. path,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
  end
  form_headers, review_headers = post_headers(form_path), post_headers(review_path)
  step = 1
  filed = 0
  bad = 0
end

function request()
  if step == 1 then
    return wrk.format("GET", form_path, get_headers)
  elseif step == 2 then
    return wrk.format("POST", form_path, form_headers, form_body)
  elseif step == 3 then
    return wrk.format("GET", review_path, get_headers)
  end
  return wrk.format("POST", review_path, review_headers, review_body)
end

local function expected(status, headers)
  local location = headers["Location"] or headers["location"] or ""
  if step == 1 or step == 3 then
    return status == 200
  elseif step == 2 then
    return status == 302 and location:find(review_path, 1, true) ~= nil
  end
  -- Sent: on to the new request, not back to the form.
  return status == 302 and location:find("/anliegen/", 1, true) ~= nil
    and location:find("/neu/", 1, true) == nil
end

function response(status, headers, body)
  if expected(status, headers) then
    if step == 4 then
      filed = filed + 1
      step = 1
    else
      step = step + 1
    end
  else
    bad = bad + 1
    step = 1
  end
end

function done(summary, latency, requests)
  local bad_total, filed_total = 0, 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    filed_total = filed_total + (thread:get("filed") or 0)
  end
  local errors = summary.errors
  local socket = errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "completed": %d, "seconds": %.3f, "p50_ms": %.2f, '
      .. '"p99_ms": %.2f, "errors": %d, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, filed_total, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad_total + socket, bad_total, socket
  ))
end
