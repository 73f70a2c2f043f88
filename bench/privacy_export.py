"""A member's data export (issue 15, point 5) for a member with many
requests and files: how long the worker takes and how much memory it
holds while it writes the ZIP.

    .venv/bin/python bench/privacy_export.py [--requests 500] [--file-kb 200]
                                             [--database-url postgres://…/gp_bench_privacy]
                                             [--json var/bench/privacy-export-<vendor>.json]

The data: the test cast (demo.cast.build_demo, 4 units a building); alice
files --requests repair reports through the real ticket_open, each with
one PDF of --file-kb kilobytes, and writes one message into each
(ticket_member_reply); hanna answers each in public. Then the export is
prepared twice through privacy.services.data_export_prepare, the worker's
own function: once timed (wall clock, SQL statements), once under
tracemalloc (the peak of Python allocations: the files must stream
through, not sit in memory). Prints a table and writes the figures as
JSON. Default database: SQLite in a temporary directory under var/bench/;
with --database-url postgres://… that database (its name must contain
"bench"; it is dropped and made fresh)."""

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.member_pages import drop_database, prepare_database


def seed(requests: int, file_kb: int):
    from demo.cast import build_demo
    from tickets.files import CleanFile
    from tickets.models import Channel, RequestType
    from tickets.services import ticket_member_reply, ticket_open, ticket_reply

    cast = build_demo(units_per_building=4)
    form = RequestType.objects.get(slug="schadensmeldung")
    pdf = b"%PDF-1.4\n" + b"0" * (file_kb * 1024) + b"\n%%EOF\n"
    answers = {"room": "bathroom", "what": "Der Wasserhahn tropft.", "urgency": "normal",
               "master_key": "yes"}  # fmt: skip
    for n in range(requests):
        ticket = ticket_open(
            request_type=form,
            member=cast.alice.member,
            answers=answers,
            channel=Channel.PORTAL,
            created_by=cast.alice,
            files=[CleanFile(pdf, "application/pdf", f"rechnung-{n}.pdf")],
        )
        ticket_reply(ticket=ticket, actor=cast.hanna, body="Wir kümmern uns darum.",
                     expected_version=ticket.version, public=True)  # fmt: skip
        ticket_member_reply(ticket=ticket, user=cast.alice, body="Danke!")
    return cast


def prepare_once(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy.models import DataExport
    from privacy.services import data_export_prepare, data_export_request

    export = data_export_request(user=user)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        outcome = data_export_prepare(export_id=export.pk)
    seconds = time.perf_counter() - started
    assert outcome == "ready", outcome
    return DataExport.objects.get(pk=export.pk), seconds, len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--file-kb", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    (root / "var" / "bench").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root / "var" / "bench") as work:
        workdir = Path(work)
        label = prepare_database(args.database_url, workdir)
        try:
            from django.db import connection

            started = time.perf_counter()
            cast = seed(args.requests, args.file_kb)
            seeding = time.perf_counter() - started
            export, seconds, statements = prepare_once(cast.alice)
            tracemalloc.start()
            prepare_once(cast.alice)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            figures = {
                "database": label,
                "requests": args.requests,
                "file_kb": args.file_kb,
                "seeding_s": round(seeding, 1),
                "export_s": round(seconds, 2),
                "statements": statements,
                "zip_mb": round(export.size / 1024 / 1024, 1),
                "peak_python_mb": round(peak / 1024 / 1024, 1),
            }
            vendor = connection.vendor
        finally:
            drop_database(args.database_url)
    print(f"Data export, {label}: {args.requests} requests with a {args.file_kb} KB file each")
    print(f"  seeding                 {figures['seeding_s']:>8} s")
    print(f"  export (worker)         {figures['export_s']:>8} s")
    print(f"  SQL statements          {figures['statements']:>8}")
    print(f"  ZIP                     {figures['zip_mb']:>8} MB")
    print(f"  peak Python memory      {figures['peak_python_mb']:>8} MB")
    target = (
        Path(args.json) if args.json else root / "var" / "bench" / f"privacy-export-{vendor}.json"
    )
    target.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
