"""The benchmark rig (issue 11): the portal under gunicorn, driven by wrk.

    .venv/bin/python bench/rig.py [--scale smoke|100k|1m] [--seconds 10]
                                  [--database sqlite|postgres|both]
                                  [--postgres-url postgres://…/genoportal_bench]
                                  [--json PATH] [--check]

For each database (default both, one after the other, each in a process of
its own): a fresh database (SQLite: a file in a temporary directory;
PostgreSQL: --postgres-url, default the server of TEST_DATABASE_URL with
the database "genoportal_bench", dropped and created; its name must
contain "bench"), migrated and seeded by bench/seed.py (fixed seed), static files collected into a temporary STATIC_ROOT, then
gunicorn with 2 sync workers on 127.0.0.1:<a free port> with production
settings (DJANGO_DEBUG=false, a random DJANGO_SECRET_KEY,
DJANGO_ALLOWED_HOSTS=127.0.0.1). HTTPS: nothing is overridden; production
runs behind a TLS proxy (DJANGO_BEHIND_PROXY, the default), and every
request of the rig says "X-Forwarded-Proto: https" as that proxy does. So
the SSL redirect, the Secure cookies, HSTS and the CSRF check's same-origin
Referer behave exactly as in production. E-mail goes to the database task
queue (no worker runs); the server is stopped at the end in every case.

Each workload runs --seconds (default 10) at 16 connections with wrk (the
Debian package; scripts in bench/wrk/, one connection per wrk thread, each
with its own session made by a real login over HTTP first):

* calibration: the login form, anonymous, no SQL (checked: 0 queries);
* member: Meine Anliegen /anliegen/, one request /anliegen/<ref>/ (each
  connection its member's own), Mein Bereich /mein-bereich/ — 16 members;
* staff, as the busiest handler: a request page /bearbeitung/anliegen/<ref>/
  (the handler's open requests, one per connection), the inbox's default
  view /bearbeitung/, the inbox filtered (all requests, status "in
  progress", the most frequent request type), the inbox searched (all
  requests, five German words from the answers, each connection one after
  the other);
* a member files a request: form GET + POST, review GET + POST with the
  real CSRF token, the figure is requests filed per second (run last: it
  writes).

Per workload also the SQL queries of one request (after one warm-up),
through Django's test client in this process against the same database
(CaptureQueriesContext; for the filing each of the four steps; "repeated"
in the JSON counts queries whose shape, literals aside, ran before in the
same request) and the gunicorn workers' peak RSS (the largest VmHWM of the
worker processes, reset before each workload through /proc/<pid>/clear_refs).

Prints one table per database: workload | req/s | % of calibration | p50 ms
| p99 ms | errors | queries | worker RSS MB, and writes the same as JSON to
var/bench/<database>-<scale>.json (or --json, one database only). Exits 0:
no targets are asserted yet. --check flags each row under the issue's
targets (a share of the calibration rate, p99, queries, RSS) and then exits
1 if any is missed."""

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

import psycopg

# Run as a script: the project root on the path, for bench.common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import HOST, free_port, postgres_drop, postgres_fresh

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPTS = ROOT / "bench" / "wrk"
SCALES = ("smoke", "100k", "1m")
CONNECTIONS = 16
WORKERS = 2
STAFF_SESSIONS = 4  # sessions of the busiest handler, shared out over the connections
WRK_TIMEOUT_S = 30  # per request: slow pages count as slow, not as errors
HEALTH_WAIT_S = 60
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/genoportal"
PR_SET_PDEATHSIG = 1  # linux/prctl.h

# Targets of issue 11 as shares of the calibration rate (--check).
MEMBER_SHARE, FILING_SHARE, STAFF_PAGE_SHARE, INBOX_SHARE, SEARCH_SHARE = 0.7, 0.25, 0.4, 0.3, 0.2
SEARCH_P99_MS = 300
QUERIES_MAX = 12
RSS_MAX_MB = 100

# A request of a plain kind that is no emergency: nothing in it calls for the
# fire brigade or the on-call handler (checked with tickets.emergency).
FILING_TEXT = "Die Tür vom Küchenschrank klemmt, bitte bei Gelegenheit ansehen."
FILING_IBAN = "DE89370400440532013000"


@dataclass
class Workload:
    key: str
    label: str
    script: str  # in bench/wrk/
    paths: list[list[str]]  # one list per connection, sent in turn
    share: float | None = None  # the target, a share of the calibration rate
    p99_ms: float | None = None  # the target for p99
    queries: list[int] = field(default_factory=list)  # per request (the filing: per step)
    repeated: int = 0
    lines: list[list[str]] = field(default_factory=list)  # for wrk, with the cookies


@dataclass
class Row:
    workload: str
    label: str
    unit: str
    requests: int
    completed: int
    rps: float
    share: float | None
    p50_ms: float
    p99_ms: float
    errors: int
    queries: int
    queries_steps: list[int]
    repeated: int
    rss_mb: float | None
    flags: list[str] = field(default_factory=list)


def default_postgres_url() -> str:
    parts = urlparse(os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG)
    return urlunparse(parts._replace(path="/genoportal_bench"))


def server_env(database_url: str, workdir: Path) -> dict[str, str]:
    """Production settings for this run; none of the caller's Django or
    portal variables leak in (the test suite's immediate tasks, say)."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "EMAIL_", "DATABASE_"))
    }
    return {
        **base,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": f"bench-{secrets.token_urlsafe(48)}",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "GENOPORTAL_VAR_DIR": str(workdir),  # static files, uploads and mail of this run only
        "GENOPORTAL_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


# --- HTTP: logins and checks before the load ---------------------------------


def fetch(
    port: int, method: str, path: str, cookies: dict[str, str], body: str | None = None
) -> tuple[int, str]:
    """One request as the rig's wrk scripts send it (through the TLS proxy:
    X-Forwarded-Proto; a POST with a same-origin Referer); keeps the cookies
    the answer sets. Returns the status and the Location header."""
    headers = {"X-Forwarded-Proto": "https"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"https://{HOST}:{port}{path}"
    connection = http.client.HTTPConnection(HOST, port, timeout=WRK_TIMEOUT_S * 2)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    cookies[name] = morsel.value
                else:
                    cookies.pop(name, None)
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def login(port: int, email: str, password: str, csrf_cookie: str) -> dict[str, str]:
    """A real login through the form: the cookies of the new session."""
    cookies: dict[str, str] = {}
    status, _ = fetch(port, "GET", "/anmelden/", cookies)
    if status != 200 or csrf_cookie not in cookies:
        raise RuntimeError(f"login form for {email}: HTTP {status}, cookies {sorted(cookies)}")
    body = urlencode(
        {"csrfmiddlewaretoken": cookies[csrf_cookie], "email": email, "password": password}
    )
    status, location = fetch(port, "POST", "/anmelden/", cookies, body)
    # A login that still owes a second step goes to /anmelden/code/ or /sicherheit/.
    if status != 302 or "/anmelden/" in location or "/sicherheit/" in location:
        raise RuntimeError(f"login of {email}: HTTP {status} to {location!r}")
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def health_wait(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + HEALTH_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped ({process.returncode}):\n{log_tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if fetch(port, "GET", "/healthz", {})[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"/healthz did not answer within {HEALTH_WAIT_S} s:\n{log_tail(log)}")


def log_tail(log: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


def stop_with_parent() -> None:
    """In the child before exec: SIGTERM when the rig dies (Linux prctl)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workdir: Path) -> Iterator[subprocess.Popen]:
    """gunicorn in a process group of its own, stopped (the whole group) on
    the way out, however that is taken; should the rig be killed outright,
    the kernel sends gunicorn SIGTERM (PR_SET_PDEATHSIG)."""
    log = workdir / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--workers", str(WORKERS), "--worker-class", "sync",
        "--bind", f"{HOST}:{port}", "--timeout", "120", "--graceful-timeout", "5",
        "--error-logfile", "-", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        try:
            health_wait(port, process, log)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry.name))
    return pids


def peak_reset(master: int) -> None:
    """Peak RSS from now on ("5" resets VmHWM to the current RSS, Linux ≥ 4.0)."""
    for pid in worker_pids(master):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")


def peak_mb(master: int) -> float | None:
    peaks = []
    for pid in worker_pids(master):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks) if peaks else None


def wrk_run(workload: Workload, port: int, seconds: int, workdir: Path) -> dict:
    wrk = shutil.which("wrk") or "wrk"  # checked in main()
    lines = workdir / f"{workload.key}.tsv"
    lines.write_text("".join("\t".join(line) + "\n" for line in workload.lines))
    command = [
        wrk, "-t", str(CONNECTIONS), "-c", str(CONNECTIONS), "-d", f"{seconds}s",
        "--timeout", f"{WRK_TIMEOUT_S}s", "-s", str(WRK_SCRIPTS / workload.script),
        f"http://{HOST}:{port}", str(lines),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + WRK_TIMEOUT_S + 30
    )
    for line in result.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line.removeprefix("BENCH-JSON "))
    raise RuntimeError(
        f"wrk gave no figures ({result.returncode}):\n{result.stdout}{result.stderr}"
    )


# --- In this process: the data, the queries ----------------------------------


def django_start(env: dict[str, str]) -> str:
    """Django set up on the run's database, migrated; returns its label."""
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "GENOPORTAL_", "EMAIL_"))]:
        del os.environ[key]
    os.environ.update(env)
    # Django can only be imported once the environment above is set; the
    # other in-process functions import from it after this one ran.
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def form_data(definitions: list[dict]) -> dict[str, str | list[str]] | None:
    """Answers to every field of a form as the browser posts them; None for
    a form that needs a file (the rig sends none)."""
    # Django is set up by now (django_start).
    from django.utils import timezone

    from tickets.emergency import EMERGENCY
    from tickets.models import ROOMS, YES_NO, FieldKind

    data: dict[str, str | list[str]] = {}
    for definition in definitions:
        key, kind = definition["key"], definition["kind"]
        calm = [c["value"] for c in definition.get("choices", []) if c.get("priority") != EMERGENCY]
        if kind == FieldKind.FILE:
            if definition["required"]:
                return None
        elif kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
            data[key] = FILING_TEXT
        elif kind == FieldKind.CHOICE and calm:
            data[key] = calm[0]
        elif kind == FieldKind.MULTICHOICE and calm:
            data[key] = [calm[0]]
        elif kind == FieldKind.DATE:
            data[key] = timezone.localdate().isoformat()
        elif kind == FieldKind.NUMBER:
            data[key] = str(definition.get("min") or definition.get("max") or "1")
        elif kind == FieldKind.YESNO:
            data[key] = YES_NO[-1][0]
        elif kind == FieldKind.ROOM:
            data[key] = ROOMS[0][0]
        elif kind == FieldKind.IBAN:
            data[key] = FILING_IBAN
        elif definition["required"]:
            return None
    return data


def filing_form(users) -> tuple[str, dict]:
    """A portal form every one of `users` may send, with answers that pass
    and are no emergency; repair reports first."""
    # Django is set up by now (django_start).
    from django.http import QueryDict

    from cooperative.models import Cooperative
    from tickets.emergency import emergency_reasons
    from tickets.forms import RequestForm
    from tickets.models import Category, RequestType
    from tickets.selectors import request_types_for_member

    words = Cooperative.objects.current().emergency_words
    allowed = None
    for user in users:
        ids = set(request_types_for_member(user).values_list("pk", flat=True))
        allowed = ids if allowed is None else allowed & ids
    candidates = RequestType.objects.filter(pk__in=allowed or ()).order_by("pk")
    for request_type in sorted(candidates, key=lambda t: t.category != Category.REPAIR):
        definitions = request_type.snapshot()
        data = form_data(definitions)
        if data is None:
            continue
        form = RequestForm(
            QueryDict(urlencode(data, doseq=True)), definitions=definitions, language="de"
        )
        if form.is_valid() and not emergency_reasons(
            answers=form.answers(), definitions=definitions, words=words
        ):
            return request_type.slug, data
    raise RuntimeError("no portal form that all benchmark members may send without a file")


def shape(statement: str) -> str:
    """A query with its literals taken out: the same shape, other values."""
    statement = re.sub(r"'(?:[^']|'')*'", "?", statement)
    statement = re.sub(r"(?<![\w\"])-?\d+(?:\.\d+)?", "?", statement)
    return re.sub(r"\(\s*\?(?:\s*,\s*\?)*\s*\)", "(?)", statement)


def repeated(captured) -> int:
    shapes = [
        shape(q["sql"])
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
    ]
    return len(shapes) - len(set(shapes))


def queries_of(client, path: str, method: str = "get", data=None, expect=200) -> tuple[int, int]:
    """SQL queries of one request (and how many of them repeat a shape)."""
    # Django is set up by now (django_start).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data, secure=True)
    if response.status_code != expect:
        raise RuntimeError(f"{method.upper()} {path}: HTTP {response.status_code}, not {expect}")
    return len(captured), repeated(captured)


def measure_queries(workloads: dict[str, Workload], plan: dict) -> None:
    """One warm-up request, then one counted, for the first path of each
    workload; the filing's four steps, twice (the second counted)."""
    # Django is set up by now (django_start).
    from django.test import Client

    from accounts.models import User

    member = User.objects.get(email=plan["members"][0])
    staff = User.objects.get(email=plan["staff"])
    clients = {"anonymous": Client(HTTP_HOST=HOST)}
    for role, user in (("member", member), ("staff", staff)):
        clients[role] = Client(HTTP_HOST=HOST)
        clients[role].force_login(user)
    for workload in workloads.values():
        if workload.key == "file_request":
            continue
        client = clients[plan["roles"][workload.key]]
        counts, repeats = [], 0
        for path in dict.fromkeys(paths[0] for paths in workload.paths):
            queries_of(client, path)
            count, repeat = queries_of(client, path)
            counts.append(count)
            repeats = max(repeats, repeat)
            if workload.key not in ("inbox_search", "staff_request"):
                break  # the same page for every connection
        workload.queries, workload.repeated = [max(counts)], repeats
    form_path, review_path, data = plan["filing"]
    steps = (
        (form_path, "get", None, 200),
        (form_path, "post", data, 302),
        (review_path, "get", None, 200),
        (review_path, "post", {}, 302),
    )
    for _ in range(2):
        measured = [queries_of(clients["member"], *step) for step in steps]
    filing = workloads["file_request"]
    filing.queries = [count for count, _ in measured]
    filing.repeated = max(repeat for _, repeat in measured)


def plan_workloads(result) -> tuple[dict[str, Workload], dict]:
    """The workloads with their paths per connection (cookies come after the
    logins), from the seeded data."""
    # Django is set up by now (django_start).
    from django.db.models import Count

    from accounts.models import User
    from tickets.models import FINISHED, Status, Ticket

    members = [email for email in result.members if email in result.ticket_for][:CONNECTIONS]
    if not members:
        raise RuntimeError("the seed names no member with a request")
    staff_email = result.staff[0]
    staff = User.objects.get(email=staff_email)
    visible = Ticket.objects.visible_to_staff(staff)
    own = list(
        visible.filter(assignee=staff)
        .exclude(status__in=FINISHED)
        .order_by("-created_at")
        .values_list("reference", flat=True)[:CONNECTIONS]
    ) or list(visible.order_by("-created_at").values_list("reference", flat=True)[:CONNECTIONS])
    common_type = (
        visible.values("request_type").annotate(n=Count("pk")).order_by("-n", "request_type")
    )[0]["request_type"]
    filtered = urlencode({"view": "all", "status": Status.IN_PROGRESS, "request_type": common_type})
    searches = [f"/bearbeitung/?{urlencode({'view': 'all', 'q': w})}" for w in result.search_words]
    searches = searches[:5]
    if not searches:
        raise RuntimeError("the seed names no search words")
    slug, data = filing_form(User.objects.filter(email__in=members))
    form_path, review_path = f"/anliegen/neu/{slug}/", f"/anliegen/neu/{slug}/pruefen/"

    def each(paths_of) -> list[list[str]]:
        return [paths_of(n) for n in range(CONNECTIONS)]

    def member_of(n: int) -> str:
        return members[n % len(members)]

    workloads = [
        Workload(
            "calibration",
            "calibration: login form (anonymous, no SQL)",
            "pages.lua",
            each(lambda n: ["/anmelden/"]),
        ),
        Workload(
            "member_list",
            "member: Meine Anliegen",
            "pages.lua",
            each(lambda n: ["/anliegen/"]),
            share=MEMBER_SHARE,
        ),
        Workload(
            "member_request",
            "member: one request",
            "pages.lua",
            each(lambda n: [f"/anliegen/{result.ticket_for[member_of(n)]}/"]),
            share=MEMBER_SHARE,
        ),
        Workload(
            "mein_bereich",
            "member: Mein Bereich",
            "pages.lua",
            each(lambda n: ["/mein-bereich/"]),
            share=MEMBER_SHARE,
        ),
        Workload(
            "staff_request",
            "staff: request page",
            "pages.lua",
            each(lambda n: [f"/bearbeitung/anliegen/{own[n % len(own)]}/"]),
            share=STAFF_PAGE_SHARE,
        ),
        Workload(
            "inbox",
            "staff: inbox, default view",
            "pages.lua",
            each(lambda n: ["/bearbeitung/"]),
            share=INBOX_SHARE,
        ),
        Workload(
            "inbox_filtered",
            "staff: inbox, status + type filter",
            "pages.lua",
            each(lambda n: [f"/bearbeitung/?{filtered}"]),
            share=INBOX_SHARE,
        ),
        Workload(
            "inbox_search",
            f"staff: inbox search, {len(searches)} words",
            "pages.lua",
            # Each connection the words in turn, from a different one.
            each(lambda n: searches[n % len(searches) :] + searches[: n % len(searches)]),
            share=SEARCH_SHARE,
            p99_ms=SEARCH_P99_MS,
        ),
        Workload(
            "file_request",
            "member files a request (filed/s)",
            "file_request.lua",
            each(lambda n: [form_path, review_path]),
            share=FILING_SHARE,
        ),
    ]
    roles = {
        "calibration": "anonymous",
        "member_list": "member",
        "member_request": "member",
        "mein_bereich": "member",
        "file_request": "member",
    }
    plan = {
        "members": members,
        "staff": staff_email,
        "roles": {w.key: roles.get(w.key, "staff") for w in workloads},
        "filing": (form_path, review_path, data),
        "member_of": member_of,
    }
    return {w.key: w for w in workloads}, plan


# --- The run -----------------------------------------------------------------


def sessions(port: int, plan: dict, password: str, workloads: dict[str, Workload]) -> None:
    """Logs in the members (one per connection) and the handler, and puts
    each connection's cookies (and, for the filing, its token and form) into
    the lines for wrk."""
    # Django is set up by now (django_start).
    from django.conf import settings

    csrf = settings.CSRF_COOKIE_NAME
    members = {
        email: login(port, email, password, csrf) for email in dict.fromkeys(plan["members"])
    }
    staff = [login(port, plan["staff"], password, csrf) for _ in range(STAFF_SESSIONS)]
    form_path, review_path, data = plan["filing"]
    for workload in workloads.values():
        role = plan["roles"][workload.key]
        workload.lines = []
        for n, paths in enumerate(workload.paths):
            if role == "anonymous":
                workload.lines.append(["-", *paths])
                continue
            cookies = members[plan["member_of"](n)] if role == "member" else staff[n % len(staff)]
            if workload.key != "file_request":
                workload.lines.append([cookie_header(cookies), *paths])
                continue
            token = cookies[csrf]
            body = urlencode({"csrfmiddlewaretoken": token, **data}, doseq=True)
            workload.lines.append(
                [
                    cookie_header(cookies),
                    token,
                    form_path,
                    review_path,
                    f"https://{HOST}:{port}",
                    body,
                ]
            )


def preflight(port: int, workload: Workload) -> None:
    """Each page answers 200 to the first connection before the load (and
    both workers have served it once); the filing goes through once."""
    line = workload.lines[0]
    cookies = {}
    if line[0] != "-":
        cookies = dict(part.split("=", 1) for part in line[0].split("; "))
    if workload.key == "file_request":
        _, token, form_path, review_path, _origin, body = line
        steps = (
            ("GET", form_path, None, 200, ""),
            ("POST", form_path, body, 302, review_path),
            ("GET", review_path, None, 200, ""),
            ("POST", review_path, f"csrfmiddlewaretoken={token}", 302, "/anliegen/"),
        )
        for method, path, body_sent, status_expected, target in steps:
            status, location = fetch(port, method, path, cookies, body_sent)
            if status != status_expected or target not in location:
                raise RuntimeError(f"{workload.key}: {method} {path} gave {status} {location!r}")
        return
    for _ in range(2 * WORKERS):
        status, location = fetch(port, "GET", line[1], cookies)
        if status != 200:
            raise RuntimeError(f"{workload.key}: GET {line[1]} gave {status} {location!r}")


def run_database(database: str, args) -> int:
    # Django is set up in this process by django_start, which also puts the
    # project on sys.path (this file runs as a script): bench.seed and the
    # Django modules are imported after it.
    workdir = Path(tempfile.mkdtemp(prefix="genoportal-rig-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    if database == "postgres":
        url = args.postgres_url or default_postgres_url()
    try:
        if database == "postgres":
            postgres_fresh(url)
        env = server_env(url, workdir)
        label = django_start(env)
        from django.core.management import call_command
        from django.db import connections

        from bench.seed import seed_database

        print(f"{label}: seeding scale {args.scale} …", flush=True)
        seeded = seed_database(scale=args.scale)  # ANALYZE (PostgreSQL) included
        counts = ", ".join(f"{value:,} {name}" for name, value in seeded.counts.items())
        print(f"seeded in {seeded.seconds:.1f} s: {counts}", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        workloads, plan = plan_workloads(seeded)
        measure_queries(workloads, plan)
        connections.close_all()  # gunicorn has the database to itself

        rows = []
        port = free_port()
        with gunicorn(env, port, workdir) as server:
            sessions(port, plan, seeded.password, workloads)
            for workload in workloads.values():
                preflight(port, workload)
                peak_reset(server.pid)
                figures = wrk_run(workload, port, args.seconds, workdir)
                rows.append(row_of(workload, figures, peak_mb(server.pid)))
                print(f"  {workload.label}: {rows[-1].rps:.1f}/s", flush=True)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if database == "postgres":
            with contextlib.suppress(psycopg.Error):  # unreachable: said above already
                postgres_drop(url)
        shutil.rmtree(workdir, ignore_errors=True)

    calibration = rows[0].rps
    for row, workload in zip(rows, workloads.values(), strict=True):
        row.share = row.rps / calibration if calibration else None
        if args.check:
            row.flags = misses(row, workload)
    report = {
        "database": label,
        "scale": args.scale,
        "seconds": args.seconds,
        "connections": CONNECTIONS,
        "workers": WORKERS,
        "seed": {"counts": seeded.counts, "seconds": round(seeded.seconds, 1)},
        "rows": [asdict(row) for row in rows],
    }
    target = (
        Path(args.json) if args.json else ROOT / "var" / "bench" / f"{database}-{args.scale}.json"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report, rows, check=args.check)
    print(f"written to {target}")
    if rows[0].queries:
        print(f"NOTE: the calibration page ran {rows[0].queries} queries (expected 0)")
    return 1 if any(row.flags for row in rows) else 0


def row_of(workload: Workload, figures: dict, rss_mb: float | None) -> Row:
    filing = workload.key == "file_request"
    return Row(
        workload=workload.key,
        label=workload.label,
        unit="filed/s" if filing else "req/s",
        requests=figures["requests"],
        completed=figures["completed"],
        rps=figures["completed"] / figures["seconds"] if figures["seconds"] else 0.0,
        share=None,
        p50_ms=figures["p50_ms"],
        p99_ms=figures["p99_ms"],
        errors=figures["errors"],
        queries=max(workload.queries),
        queries_steps=workload.queries,
        repeated=workload.repeated,
        rss_mb=round(rss_mb, 1) if rss_mb is not None else None,
    )


def misses(row: Row, workload: Workload) -> list[str]:
    flags = []
    if workload.share is not None and (row.share or 0) < workload.share:
        flags.append(f"share < {workload.share:.0%}")
    if workload.p99_ms is not None and row.p99_ms > workload.p99_ms:
        flags.append(f"p99 > {workload.p99_ms:.0f} ms")
    if row.queries > QUERIES_MAX:
        flags.append(f"queries > {QUERIES_MAX}")
    if row.repeated:
        flags.append(f"{row.repeated} repeated query shapes")
    if row.rss_mb is not None and row.rss_mb > RSS_MAX_MB:
        flags.append(f"RSS > {RSS_MAX_MB} MB")
    if row.errors:
        flags.append("errors")
    return flags


def print_table(report: dict, rows: list[Row], *, check: bool) -> None:
    counts = report["seed"]["counts"]
    print(
        f"\n{report['database']}, scale {report['scale']} ({counts.get('tickets', 0):,} requests, "
        f"{counts.get('member_accounts', 0):,} member accounts); "
        f"{report['seconds']} s per workload, {CONNECTIONS} connections, "
        f"gunicorn {WORKERS} sync workers"
    )
    header = (
        f"{'workload':<46}{'req/s':>8}{'% calib':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'queries':>13}{'RSS MB':>8}"
    )
    print(header + ("  check" if check else ""))
    for row in rows:
        queries = (
            "+".join(map(str, row.queries_steps)) if len(row.queries_steps) > 1 else row.queries
        )
        share = f"{row.share:.0%}" if row.share is not None else "–"
        rss = f"{row.rss_mb:.0f}" if row.rss_mb is not None else "–"
        line = (
            f"{row.label:<46}{row.rps:>8.1f}{share:>9}{row.p50_ms:>9.1f}{row.p99_ms:>9.1f}"
            f"{row.errors:>8}{queries!s:>13}{rss:>8}"
        )
        if check:
            line += "  " + ("; ".join(row.flags) or "ok")
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="100k")
    parser.add_argument("--seconds", type=int, help="per workload (default 10; smoke 2)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        help="postgres://…/<name with 'bench'> (default: TEST_DATABASE_URL's server, "
        "database genoportal_bench)",
    )
    parser.add_argument("--json", help="where the figures go (one database only)")
    parser.add_argument("--check", action="store_true", help="flag rows under the targets")
    args = parser.parse_args()
    # SIGTERM (a timeout, Ctrl-C's cousin) runs the finally blocks: gunicorn
    # stopped, the PostgreSQL database dropped, the temporary files removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.seconds is None:
        args.seconds = 2 if args.scale == "smoke" else 10
    if args.seconds < 1:
        parser.error("--seconds must be at least 1")
    if shutil.which("wrk") is None:
        parser.error("wrk not found: apt-get install wrk (the Debian package)")
    if args.database != "both":
        return run_database(args.database, args)
    if args.json:
        parser.error("--json needs one --database")
    # One process per database: Django is set up once per process.
    status = 0
    for database in ("sqlite", "postgres"):
        command = [
            sys.executable, __file__, "--database", database,
            "--scale", args.scale, "--seconds", str(args.seconds),
        ]  # fmt: skip
        if args.postgres_url:
            command += ["--postgres-url", args.postgres_url]
        if args.check:
            command.append("--check")
        status = max(status, subprocess.call(command))
    return status


if __name__ == "__main__":
    sys.exit(main())
