"""The team leads' overview on the database (issue 14's speed target):
"with 1,000,000 tickets on PostgreSQL the dashboard renders in under
500 ms and with 100,000 on SQLite in under 300 ms".

    .venv/bin/python bench/insights.py [--tickets N] [--years 8] [--runs 10]
                                       [--advisors 20] [--appointments N]
                                       [--target MS] [--database-url postgres://…/gp_bench_x]
                                       [--reuse] [--json var/bench/insights-<vendor>.json]
                                       [--seed 7]

The data: bench/seed.py's requests (seed_database with a scale of
--tickets requests over --years years of history: the demo cooperative,
its staff and teams, members and households, every request's channel,
team, handler, priority, SLA deadlines, first response, status, ~7 %
open, resolution, ratings, events), then ANALYZE. Default --tickets:
1,000,000 on PostgreSQL, 100,000 on SQLite. bench/seed.py makes no
appointments, so the outcome part's hours per advisor get
bench/appointments_db.py's: the demo's four advisors and --advisors more
with weekly hours, an override, a holiday, and --appointments over the
last three years (attended, some missed and cancelled; default 100,000
on PostgreSQL, 30,000 on SQLite; 0: none) plus eight weeks ahead. With
--reuse the database at --database-url (PostgreSQL, or sqlite:///path) is
used as it is — seeded only if it holds no requests, appointments only if
it holds none — and kept; e.g. one left by
`bench/seed.py --scale 1m --keep genoportal_bench_insights`.

Measured (after a warm-up; median and p95 of wall-clock time, the CPU
time's median, SQL statements of one request):

a. each part of the overview, GET /bearbeitung/ueberblick/?teil=<part>
   (eingang, rueckstand, zeiten, schwerpunkte, ergebnis), through
   django.test.Client as tom (team lead: password and the authenticator's
   code), for the default period (the last 90 days) and the last 365 days;
b. each selector of insights.selectors alone, both periods: which query
   a slow part spends its time in.

Prints a table and writes the figures as JSON to
var/bench/insights-<vendor>.json (or --json). Default database: SQLite, a
file in a temporary directory under var/bench/; with --database-url
postgres://… that database (its name must contain "bench") is dropped,
created and dropped again at the end (unless --reuse). Exits 1 when a
part's median is over --target (default 500 ms on PostgreSQL, 300 ms on
SQLite) or a page answers otherwise than 200."""

import argparse
import datetime
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.appointments_db import build as appointments_build
from bench.appointments_db import percentile
from bench.member_pages import drop_database, prepare_database
from bench.rooms import second_step
from bench.seed import Scale

ROOT = Path(__file__).resolve().parent.parent

PARTS = ["eingang", "rueckstand", "zeiten", "schwerpunkte", "ergebnis"]
PERIODS = [90, 365]  # days: the default and the longest of the list
TARGETS = {"postgresql": 500.0, "sqlite": 300.0}
TICKETS = {"postgresql": 1_000_000, "sqlite": 100_000}
APPOINTMENTS = {"postgresql": 100_000, "sqlite": 30_000}
# The columns of the table; the rest of a row goes to its notes.
PLAIN = {"key", "label", "runs", "median_ms", "p95_ms", "cpu_median_ms", "statements"}


def timed(call, runs: int, warm_up: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU milliseconds of `runs` calls after `warm_up`; the last result."""
    result = None
    for _ in range(warm_up):
        result = call()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu, result


def scale_for(tickets: int, years: int) -> Scale:
    """bench/seed.py's scales, by size: member accounts as its smoke, 100k
    and 1m scales have them."""
    accounts = 60 if tickets <= 1_000 else 5_000 if tickets <= 100_000 else 10_000
    return Scale(accounts=accounts, tickets=tickets, years=years, budget_s=0)


def selector_calls(scope_of):
    """(key, label, call(days)) for each selector the overview uses."""
    # Django is set up by now (prepare_database).
    from django.utils import timezone

    from insights import selectors

    def now_backlog(by):
        return lambda days: selectors.backlog(scope_of(days), by=by, now=timezone.now())

    return [
        ("incoming_type", "incoming_by request_type",
         lambda days: selectors.incoming_by(scope_of(days), "request_type")),
        ("incoming_channel", "incoming_by channel",
         lambda days: selectors.incoming_by(scope_of(days), "channel")),
        ("incoming_estate", "incoming_by estate",
         lambda days: selectors.incoming_by(scope_of(days), "estate")),
        ("per_day", "incoming_per_day", lambda days: selectors.incoming_per_day(scope_of(days))),
        ("backlog_team", "backlog by team", now_backlog("team")),
        ("backlog_assignee", "backlog by assignee", now_backlog("assignee")),
        ("timings_team", "timings by team",
         lambda days: selectors.timings(scope_of(days), by="team")),
        ("timings_type", "timings by request_type",
         lambda days: selectors.timings(scope_of(days), by="request_type")),
        ("rising_type", "rising request_type",
         lambda days: selectors.rising(scope_of(days), "request_type")),
        ("rising_estate", "rising estate", lambda days: selectors.rising(scope_of(days), "estate")),
        ("heat", "heat", lambda days: selectors.heat(scope_of(days))),
        ("reopened_rated", "reopened_and_rated",
         lambda days: selectors.reopened_and_rated(scope_of(days))),
        ("appointments", "appointments_by_advisor",
         lambda days: selectors.appointments_by_advisor(scope_of(days))),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, help="default 1,000,000 PostgreSQL, 100,000 SQLite")
    parser.add_argument("--years", type=int, default=8, help="of history the requests spread over")
    parser.add_argument("--runs", type=int, default=10, help="timed requests of each page")
    parser.add_argument("--selector-runs", type=int, default=5, help="timed calls of a selector")
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--target", type=float, help="a part's median limit in ms (500 / 300)")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is, keep it")
    parser.add_argument("--json", help="default var/bench/insights-<vendor>.json")
    parser.add_argument("--advisors", type=int, default=20, help="with appointments")
    parser.add_argument("--appointments", type=int, help="past ones (100,000 / 30,000; 0: none)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        sys.exit("--reuse needs --database-url (postgres://… or sqlite:///path)")

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="insights-", dir=ROOT / "var" / "bench"))
    rows: list[dict] = []
    problems: list[str] = []
    report: dict = {}
    try:
        database = prepare_database(args.database_url, workdir, fresh=not args.reuse)
        # Django is set up by now (prepare_database).
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import User
        from appointments.models import Appointment
        from bench.seed import seed_database
        from insights.selectors import Scope
        from tickets.models import OPEN, Ticket

        vendor = connection.vendor
        target = args.target or TARGETS[vendor]
        started = time.perf_counter()
        existing = Ticket.objects.count()
        if existing:
            how = f"reused ({existing:,} requests there)"
        else:
            wanted = args.tickets or TICKETS[vendor]
            seed_database(scale=scale_for(wanted, args.years), rng_seed=args.seed)
            how = f"seeded ({wanted:,} requests over {args.years} years)"
        wanted_appointments = (
            APPOINTMENTS[vendor] if args.appointments is None else args.appointments
        )
        if wanted_appointments and not Appointment.objects.exists():
            staff = {user.email: user for user in User.objects.filter(
                email__in=["hanna@example.org", "tom@example.org"])}  # fmt: skip
            cast = argparse.Namespace(
                hanna=staff["hanna@example.org"], tom=staff["tom@example.org"]
            )
            plan = argparse.Namespace(
                advisors=args.advisors, weeks=8, busy=0.3, history=wanted_appointments
            )
            appointments_build(random.Random(args.seed), plan, cast)
            how += f"; appointments of {args.advisors} + 4 advisors seeded"
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        today = timezone.localdate()
        total = Ticket.objects.count()
        open_now = Ticket.objects.filter(status__in=OPEN).count()
        in_period = {
            days: Ticket.objects.filter(
                created_at__gte=Scope(today - datetime.timedelta(days=days - 1), today).start
            ).count()
            for days in PERIODS
        }
        appointments = Appointment.objects.count()
        advisors = Appointment.objects.values("advisor_id").distinct().count()
        seeded = (
            f"{database}: {total:,} requests, {open_now:,} open, "
            + ", ".join(f"{n:,} in the last {d} days" for d, n in in_period.items())
            + f"; {appointments:,} appointments of {advisors} advisors"
            + f"; {how}, analysed, in {built:.1f} s"
        )
        print(seeded, flush=True)

        def record(key, label, wall, cpu, *, statements=None, **extra):
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "runs": len(wall),
                    "median_ms": round(statistics.median(wall), 2),
                    "p95_ms": round(percentile(wall, 0.95), 2),
                    "cpu_median_ms": round(statistics.median(cpu), 2),
                    "statements": statements,
                    **extra,
                }
            )

        # (a) the parts, as tom (team lead) after both login steps
        tom = User.objects.get(email="tom@example.org")
        client = Client()
        client.force_login(tom)
        second_step(client, tom)
        part_medians: dict[str, float] = {}
        for days in PERIODS:
            for part in PARTS:
                query = {"teil": part} if days == 90 else {"teil": part, "zeitraum": str(days)}
                statuses: dict[int, int] = {}

                def get(query=query, statuses=statuses):
                    response = client.get("/bearbeitung/ueberblick/", query, secure=True)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    return response

                wall, cpu, _ = timed(get, args.runs, args.warm_up)
                with CaptureQueriesContext(connection) as captured:
                    response = get()
                key = f"a_{part}_{days}"
                label = f"(a) GET /bearbeitung/ueberblick/?teil={part} ({days} days)"
                record(
                    key,
                    label,
                    wall,
                    cpu,
                    statements=len(captured.captured_queries),
                    statuses={str(k): v for k, v in statuses.items()},
                    kilobytes=round(len(response.content) / 1024),
                )
                part_medians[key] = rows[-1]["median_ms"]
                if set(statuses) != {200}:
                    problems.append(f"{label} answered {statuses}")
                print(f"{label}: median {rows[-1]['median_ms']:.1f} ms", flush=True)

        # (b) each selector alone
        def scope_of(days):
            return Scope(today - datetime.timedelta(days=days - 1), today)

        for days in PERIODS:
            for key, label, call in selector_calls(scope_of):
                wall, cpu, _ = timed(lambda call=call, days=days: call(days), args.selector_runs, 1)
                with CaptureQueriesContext(connection) as captured:
                    call(days)
                record(
                    f"b_{key}_{days}",
                    f"(b) {label} ({days} days)",
                    wall,
                    cpu,
                    statements=len(captured.captured_queries),
                )

        report = {
            "database": database,
            "vendor": vendor,
            "seed": {
                "requests": total,
                "appointments": appointments,
                "open": open_now,
                "in_period": {str(d): n for d, n in in_period.items()},
                "how": how,
                "seconds": round(built, 1),
            },
            "target_ms": target,
            "rows": rows,
        }
    finally:
        if "django" in sys.modules:
            drop_database(None if args.reuse else args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    over = sorted(key for key, value in part_medians.items() if value > target)
    report["parts_over_target"] = over
    report["problems"] = problems
    path = Path(args.json) if args.json else ROOT / "var" / "bench" / f"insights-{vendor}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")

    print()
    print(seeded)
    print(f"{'workload':<64} {'median':>8} {'p95':>8} {'CPU':>8} {'SQL':>4}  notes")
    for row in rows:
        notes = ", ".join(f"{key} {value}" for key, value in row.items() if key not in PLAIN)
        print(
            f"{row['label']:<64} {row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms "
            f"{row['cpu_median_ms']:>6.1f}ms {row['statements']:>4}  {notes}"
        )
    for key, value in part_medians.items():
        verdict = "OVER TARGET" if key in over else "OK"
        print(f"target {key} median {value:.1f} ms under {target:g} ms: {verdict}")
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"written to {path}")
    return 1 if over or problems else 0


if __name__ == "__main__":
    sys.exit(main())
