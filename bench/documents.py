"""Documents for members at scale (issue 15, point 1): the yearly
statements of every household checked and published in one go, and the
member's and staff's pages with them.

    .venv/bin/python bench/documents.py [--files 5000] [--kb 2] [--history 20]
                                        [--requests 50] [--target 60]
                                        [--database-url postgres://…/gp_bench_documents]
                                        [--json var/bench/documents-<vendor>.json]

The data: the demo cooperative (demo.cast.build_demo) with enough flats
for --files households (3 estates × 4 buildings × n), an account for every
member, and --history years of statements already published for alice's
contract plus a letter a month for alice (her list is long). Then a ZIP
on disk of --files small PDFs (demo.pdf, padded to about --kb KiB each),
named `<contract number>_Betriebskosten_2025.pdf`, one per current
contract, as an ERP exports them.

Measured (wall-clock and CPU time):

a. documents.services.batch_check on the ZIP as uploaded: every file
   read, checked and written to the private storage, the report kept;
b. documents.services.batch_publish: the documents in one transaction
   (its SQL statements are counted: a fixed number whatever the files);
   (a) + (b) must stay under --target seconds (issue 15: 5,000 in 60 s);
c. documents.services.documents_email: one e-mail per member account
   into the outbox (the task after commit; informational);
d. the member's list GET /dokumente/ and Mein Bereich as alice
   (requests per second, SQL statements; at most 12);
e. the staff report GET /bearbeitung/dokumente/stapel/<id>/ (page 1 and
   the last page of 50 files) as tom.

Default database: SQLite in a temporary directory; with --database-url
postgres://… that database (its name must contain "bench") is dropped,
created and dropped again at the end. Exits 1 when (a) + (b) is over
--target seconds, a page runs more than 12 statements or answers
otherwise than 200, or a file is refused that should pass."""

import argparse
import datetime
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.appointments_db import percentile, timed
from bench.member_pages import drop_database, prepare_database
from bench.rooms import second_step

ROOT = Path(__file__).resolve().parent.parent
STATEMENTS = 12
PLAIN = {"key", "label", "runs", "median_ms", "p95_ms", "cpu_median_ms", "per_second", "statements"}


def statements_zip(path: Path, contracts: list[str], *, kb: int) -> int:
    """The ERP's export: one small PDF per contract; returns its size."""
    from demo.pdf import pdf_simple

    pad = max(0, kb * 1024 - 900)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for index, number in enumerate(contracts):
            lines = [
                f"Nutzungsvertrag {number}",
                "Abrechnungszeitraum 01.01.2025 bis 31.12.2025",
                f"Ergebnis: {'Guthaben' if index % 3 else 'Nachzahlung'} {index % 400},{index % 100:02d} €",
            ]
            data = pdf_simple("Betriebskostenabrechnung 2025", lines)
            # Padding inside a comment before %%EOF keeps it a valid PDF.
            if pad:
                data = data.replace(b"%%EOF", b"%" + (b"x" * pad) + b"\n%%EOF")
            archive.writestr(f"{number}_Betriebskosten_2025.pdf", data)
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=5000, help="statements in the batch")
    parser.add_argument("--kb", type=int, default=2, help="about this many KiB per PDF")
    parser.add_argument("--history", type=int, default=20, help="years of alice's documents")
    parser.add_argument("--requests", type=int, default=50, help="timed requests a page")
    parser.add_argument("--target", type=float, default=60.0, help="(a)+(b) limit in seconds")
    parser.add_argument("--statements", type=int, default=STATEMENTS, help="a page's limit")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument(
        "--json", help="where the figures go (default var/bench/documents-<vendor>)"
    )
    args = parser.parse_args()

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="documents-", dir=ROOT / "var" / "bench"))
    rows: list[dict] = []
    problems: list[str] = []
    report: dict = {}
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group
        from django.core.files import File
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from accounts import roles
        from accounts.models import User
        from demo.cast import build_demo, staff_ensure
        from demo.pdf import pdf_simple
        from documents.models import Document, DocumentBatch, DocumentKind
        from documents.services import (
            About,
            batch_check,
            batch_publish,
            document_publish,
            documents_email,
        )
        from members.models import Contract, Member

        vendor = connection.vendor
        started = time.perf_counter()
        per_building = max(4, math.ceil(args.files / 12))
        cast = build_demo(units_per_building=per_building)
        lena = staff_ensure("lena@example.org", "Lena", "Lorenz", roles.HANDLER)
        lena.groups.add(Group.objects.get(name=roles.DOCUMENTS))
        password = make_password("bench-documents")
        User.objects.bulk_create(
            (
                User(email=f"m{member.member_number}@example.org", member=member, password=password)
                for member in Member.objects.filter(user__isnull=True)
            ),
            batch_size=1000,
        )
        contracts = list(
            Contract.objects.current()
            .exclude(pk=Contract.objects.current().get(members=cast.alice.member).pk)
            .order_by("number")
            .values_list("number", flat=True)[: args.files]
        )
        if len(contracts) < args.files:
            problems.append(f"only {len(contracts)} contracts for {args.files} files")
        # alice's long list: a statement a year for her household, a letter a month for her.
        alice_contract = Contract.objects.current().get(members=cast.alice.member)
        this_year = timezone.localdate().year
        for year in range(this_year - args.history, this_year):
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            wanted = [
                (alice_contract, About(DocumentKind.STATEMENT, f"Abrechnung {year}", first, last)),
                *(
                    (cast.alice.member, About(DocumentKind.LETTER, f"Brief {year}-{m}", day))
                    for m, day in enumerate((datetime.date(year, m, 15) for m in range(1, 13)), 1)
                ),
            ]
            for addressee, about in wanted:
                data = pdf_simple(about.title, [str(year)])
                document_publish(
                    actor=lena,
                    upload=SimpleUploadedFile("x.pdf", data, content_type="application/pdf"),
                    addressee=addressee,
                    about=about,
                )
        zip_path = workdir / "betriebskosten-2025.zip"
        zip_bytes = statements_zip(zip_path, contracts, kb=args.kb)
        seeded = (
            f"{vendor}: {Contract.objects.current().count():,} current contracts, "
            f"{User.objects.filter(member__isnull=False).count():,} member accounts, "
            f"{Document.objects.count():,} documents before; ZIP of {len(contracts):,} PDFs, "
            f"{zip_bytes / 1024 / 1024:.1f} MB ({time.perf_counter() - started:.0f} s to seed)"
        )
        print(seeded, flush=True)

        def record(key, label, wall, cpu, **notes):
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "runs": len(wall),
                    "median_ms": statistics.median(wall),
                    "p95_ms": percentile(wall, 0.95),
                    "cpu_median_ms": statistics.median(cpu),
                    "per_second": 1000 / statistics.median(wall) if wall else None,
                    **notes,
                }
            )

        # (a) check
        about = About(
            DocumentKind.STATEMENT,
            "Betriebskostenabrechnung 2025",
            datetime.date(2025, 1, 1),
            datetime.date(2025, 12, 31),
        )
        start, start_cpu = time.perf_counter(), time.process_time()
        with zip_path.open("rb") as handle:
            upload = File(handle, name=zip_path.name)
            batch = batch_check(actor=lena, uploads=[upload], numbers="contract", about=about)
        check_s = time.perf_counter() - start
        record(
            "a_check",
            f"(a) batch_check, {len(contracts):,} PDFs in a ZIP",
            [check_s * 1000],
            [(time.process_time() - start_cpu) * 1000],
            statements=None,
            accepted=batch.files_accepted,
            refused=batch.files_refused,
        )
        if batch.files_refused:
            problems.append(
                f"(a) refused {batch.files_refused} files: "
                + ", ".join(sorted({e["problem"] for e in batch.report if e["problem"]}))
            )

        # (b) publish
        tom = cast.tom
        assert tom.is_lead_or_admin
        start, start_cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            published = batch_publish(actor=tom, batch=batch)
        publish_s = time.perf_counter() - start
        record(
            "b_publish",
            f"(b) batch_publish, {published:,} documents",
            [publish_s * 1000],
            [(time.process_time() - start_cpu) * 1000],
            statements=len(captured.captured_queries),
        )
        total_s = check_s + publish_s

        # (c) the e-mails (the task's work)
        start, start_cpu = time.perf_counter(), time.process_time()
        sent = documents_email(batch_id=batch.pk)
        record(
            "c_email",
            f"(c) documents_email, {sent:,} e-mails into the outbox",
            [(time.perf_counter() - start) * 1000],
            [(time.process_time() - start_cpu) * 1000],
            statements=None,
            emails=sent,
        )

        # (d), (e) pages
        def page(client, key, label, path, runs):
            statuses: dict[int, int] = {}

            def get():
                response = client.get(path, secure=True)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                return response

            wall, cpu, _ = timed(get, runs)
            with CaptureQueriesContext(connection) as captured:
                get()
            count = len(captured.captured_queries)
            record(key, label, wall, cpu, statements=count, statuses=statuses)
            if set(statuses) != {200}:
                problems.append(f"{label} answered {statuses}")
            if count > args.statements:
                problems.append(f"{label} ran {count} SQL statements (at most {args.statements})")

        member = Client()
        member.force_login(cast.alice)
        mine = Document.objects.filter(member=cast.alice.member).count()
        household = Document.objects.filter(contract=alice_contract).count()
        page(member, "d_list", f"(d) GET /dokumente/ as alice ({mine + household} documents)",
             "/dokumente/", args.requests)  # fmt: skip
        page(
            member, "d_list_2", "(d) GET /dokumente/?seite=2", "/dokumente/?seite=2", args.requests
        )
        page(member, "d_home", "(d) GET /mein-bereich/ as alice", "/mein-bereich/", args.requests)
        staff = Client()
        staff.force_login(tom)
        second_step(staff, tom)
        base = f"/bearbeitung/dokumente/stapel/{batch.public_id}/"
        last = max(1, math.ceil(batch.files_total / 50))
        runs = max(1, args.requests // 5)
        page(staff, "e_report", f"(e) GET report, page 1 of {last}", base, runs)
        page(staff, "e_report_last", f"(e) GET report, page {last}", f"{base}?seite={last}", runs)
        page(staff, "e_list", "(e) GET /bearbeitung/dokumente/", "/bearbeitung/dokumente/", runs)

        report = {
            "database": database,
            "vendor": vendor,
            "seed": {
                "files": len(contracts),
                "zip_bytes": zip_bytes,
                "documents_after": Document.objects.count(),
                "batches": DocumentBatch.objects.count(),
            },
            "check_seconds": round(check_s, 2),
            "publish_seconds": round(publish_s, 2),
            "check_and_publish_seconds": round(total_s, 2),
            "target_seconds": args.target,
            "rows": rows,
        }
        if total_s > args.target:
            problems.append(f"(a)+(b) took {total_s:.1f} s, over {args.target:g} s")
    finally:
        if "django" in sys.modules:
            drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    report["problems"] = problems
    vendor = report.get("vendor", "unknown")
    target = Path(args.json) if args.json else ROOT / "var" / "bench" / f"documents-{vendor}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")

    print()
    print(f"{'workload':<64} {'median':>10} {'p95':>10} {'CPU':>10} {'/s':>8} {'SQL':>4}  notes")
    for row in rows:
        notes = ", ".join(f"{key} {value}" for key, value in row.items() if key not in PLAIN)
        print(
            f"{row['label']:<64} {row['median_ms']:>8.1f}ms {row['p95_ms']:>8.1f}ms "
            f"{row['cpu_median_ms']:>8.1f}ms {row['per_second'] or 0:>8.1f} "
            f"{row['statements'] if row['statements'] is not None else '-':>4}  {notes}"
        )
    if "check_and_publish_seconds" in report:
        seconds = report["check_and_publish_seconds"]
        verdict = "OK" if seconds <= args.target else "OVER TARGET"
        print(f"target check + publish {seconds:.1f} s under {args.target:g} s: {verdict}")
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"written to {target}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
