"""Which index each query of the inbox and the member's pages uses, on a
seeded PostgreSQL database — and whether an index changes that.

    .venv/bin/python bench/plans.py --database-url postgres://…/gp_bench_x
                                    [--without ticket_received] [--runs 3]
                                    [--json var/bench/plans.json]

For a database seeded and kept by bench/seed.py (e.g. `bench/seed.py
--scale 1m --database-url postgres://…/gp_bench_x --keep gp_bench_x`;
nothing is written to it): every SQL statement of each page below is
captured through django.test.Client and run again under EXPLAIN (ANALYZE,
BUFFERS). Printed per statement that reads the requests table: the indexes
its plan uses, how it reads them (Index Scan, Index Only Scan, Bitmap),
its execution time (the median of --runs) and shared buffers read.

The pages, as bench/rig.py loads them: the busiest handler's inbox
(default view; status "in progress" + the most frequent request type; all
requests newest first; "received today", "older than 30 days"; received
in the last 90 days, as the overview's links filter; searched for
"Heizung") and a request page of theirs; the member with the most
requests: Meine Anliegen, one request, Mein Bereich.

With --without NAME (repeatable) every statement is explained a second
time in a transaction that drops those indexes first and is rolled back:
the plans the database would choose without them, side by side. So
"did index X change the inbox's plans?" is answered on the same data in
the same run."""

import argparse
import datetime
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.member_pages import drop_database, prepare_database

ROOT = Path(__file__).resolve().parent.parent
TABLE = "tickets_ticket"


def plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def explain(cursor, statement: str, runs: int, indexes: set[str]) -> dict:
    """How `statement` reads the requests table (each index by name with
    its scan type, or a sequential scan), its median execution time and
    the shared buffers it touched."""
    times, plan = [], None
    for _ in range(runs):
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}")
        plan = cursor.fetchone()[0][0]
        times.append(plan["Execution Time"])
    reads = []
    for node in plan_nodes(plan["Plan"]):
        if node.get("Index Name") in indexes:
            reads.append(f"{node['Node Type']} {node['Index Name']}")
        elif (
            node["Node Type"] in ("Seq Scan", "Parallel Seq Scan")
            and node.get("Relation Name") == TABLE
        ):
            reads.append(node["Node Type"])
    return {
        "reads": reads,
        "ms": round(statistics.median(times), 2),
        "buffers": plan["Plan"].get("Shared Hit Blocks", 0)
        + plan["Plan"].get("Shared Read Blocks", 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://…/<seeded bench db>")
    parser.add_argument("--without", action="append", default=[], help="an index to drop")
    parser.add_argument("--runs", type=int, default=3, help="EXPLAIN ANALYZE runs each")
    parser.add_argument("--json", help="default var/bench/plans.json")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("--database-url must be postgres://… (a database seeded by bench/seed.py)")

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="plans-", dir=ROOT / "var" / "bench"))
    pages = []
    try:
        database = prepare_database(args.database_url, workdir, fresh=False)
        # Django is set up by now (prepare_database).
        from django.db import connection
        from django.db.models import Count
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts.models import User
        from tickets.models import OPEN, Status, Ticket

        busiest = (
            Ticket.objects.filter(status__in=OPEN, assignee__isnull=False)
            .values("assignee")
            .annotate(n=Count("pk"))
            .order_by("-n")[0]["assignee"]
        )
        handler = User.objects.get(pk=busiest)
        common_type = (
            Ticket.objects.visible_to_staff(handler)
            .values("request_type")
            .annotate(n=Count("pk"))
            .order_by("-n", "request_type")[0]["request_type"]
        )
        own = (
            Ticket.objects.filter(assignee=handler, status__in=OPEN)
            .order_by("-created_at")
            .values_list("reference", flat=True)[0]
        )
        member_id = (
            Ticket.objects.filter(member__user__isnull=False)
            .values("member")
            .annotate(n=Count("pk"))
            .order_by("-n")[0]["member"]
        )
        member = User.objects.get(member_id=member_id)
        theirs = Ticket.objects.filter(member_id=member_id).order_by("-created_at")[0].reference
        today = timezone.localdate()
        staff, resident = Client(), Client()
        staff.force_login(handler)
        resident.force_login(member)
        wanted = [
            ("inbox, default view", staff, "/bearbeitung/", {}),
            (
                "inbox, in progress + most frequent type",
                staff,
                "/bearbeitung/",
                {"view": "all", "status": Status.IN_PROGRESS, "request_type": common_type},
            ),
            ("inbox, all, newest first", staff, "/bearbeitung/", {"view": "all", "sort": "newest"}),
            ("inbox, all, received today", staff, "/bearbeitung/", {"view": "all", "age": "today"}),
            (
                "inbox, all, older than 30 days",
                staff,
                "/bearbeitung/",
                {"view": "all", "age": "older"},
            ),
            (
                "inbox, all, received in the last 90 days (overview link)",
                staff,
                "/bearbeitung/",
                {
                    "view": "all",
                    "received_from": (today - datetime.timedelta(days=89)).isoformat(),
                    "received_to": today.isoformat(),
                },
            ),
            ("inbox, all, search Heizung", staff, "/bearbeitung/", {"view": "all", "q": "Heizung"}),
            ("staff request page", staff, f"/bearbeitung/anliegen/{own}/", {}),
            ("member: Meine Anliegen", resident, "/anliegen/", {}),
            ("member: one request", resident, f"/anliegen/{theirs}/", {}),
            ("member: Mein Bereich", resident, "/mein-bereich/", {}),
        ]
        print(
            f"{database}: {Ticket.objects.count():,} requests; handler {handler.email}, "
            f"member {member.email} ({Ticket.objects.filter(member_id=member_id).count()} requests)"
        )
        for label, client, path, query in wanted:
            client.get(path, query, secure=True)  # warm-up
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, query, secure=True)
            if response.status_code != 200:
                sys.exit(f"{label}: HTTP {response.status_code}")
            statements = [
                q["sql"]
                for q in captured.captured_queries
                if q["sql"].startswith("SELECT") and f'"{TABLE}"' in q["sql"]
            ]
            pages.append({"label": label, "path": path, "query": query, "statements": []})
            for statement in statements:
                pages[-1]["statements"].append({"sql": statement})
        connection.close()
    finally:
        if "django" in sys.modules:
            drop_database(None)
        shutil.rmtree(workdir, ignore_errors=True)

    url = args.database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as raw, raw.cursor() as cursor:
        cursor.execute("SET jit = off")  # as the portal's connections (config.settings)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
        indexes = {name for (name,) in cursor.fetchall()}
        for page in pages:
            for statement in page["statements"]:
                statement["with"] = explain(cursor, statement["sql"], args.runs, indexes)
        raw.rollback()
        if args.without:
            for name in args.without:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            for page in pages:
                for statement in page["statements"]:
                    statement["without"] = explain(cursor, statement["sql"], args.runs, indexes)
            raw.rollback()  # the indexes are back

    print()
    for page in pages:
        print(f"{page['label']}  ({page['path']}{'?…' if page['query'] else ''})")
        for number, statement in enumerate(page["statements"], 1):
            found = statement["with"]
            line = f"  {number}. {found['ms']:8.2f} ms {found['buffers']:>7} buf  " + (
                ", ".join(found["reads"]) or "-"
            )
            print(line)
            if "without" in statement:
                other = statement["without"]
                same = "same plan" if other["reads"] == found["reads"] else "OTHER PLAN"
                print(
                    f"     without {'+'.join(args.without)}: {other['ms']:8.2f} ms "
                    f"{other['buffers']:>7} buf  {same}: " + (", ".join(other["reads"]) or "-")
                )
    users = [
        f"{page['label']} #{number}"
        for page in pages
        for number, statement in enumerate(page["statements"], 1)
        if any(read.split()[-1] in args.without for read in statement["with"]["reads"])
    ]
    changed = [
        f"{page['label']} #{number}"
        for page in pages
        for number, statement in enumerate(page["statements"], 1)
        if "without" in statement and statement["without"]["reads"] != statement["with"]["reads"]
    ]
    if args.without:
        print(f"\nstatements that use {', '.join(args.without)}: {users or 'none'}")
        print(f"statements whose plan differs without it: {changed or 'none'}")
    path = Path(args.json) if args.json else ROOT / "var" / "bench" / "plans.json"
    path.write_text(json.dumps({"database": database, "pages": pages}, indent=2) + "\n")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
