"""Certificates answered at once (issue 15, point 3): how long a member
waits for her membership certificate, against a fresh database.

    .venv/bin/python bench/certificates.py [--runs 30] [--requests 20] [--target 1000]
                                           [--database-url postgres://…/gp_bench_certificates]
                                           [--json var/bench/certificates-<vendor>.json]

The data: the test cast (demo.cast.build_demo, 4 units a building) with the
demo's forms, alice's membership certificate form among them.

Measured (wall-clock median and p95, CPU median):

a. the first certificate of the process: WeasyPrint loads its fonts and
   Django compiles the templates once (what the first member after a
   restart waits);
b. certificates.services.certificate_request, --runs times: the request
   filed, the certificate made (facts, code), the PDF rendered and stored
   as the request's attachment and the request closed, in one transaction;
   target: median and p95 under --target ms (the issue: under 1 s);
c. core.pdf.render_pdf alone for the same letter (the share of the
   layout in (b));
d. Mein Bereich's button, POST /bescheinigungen/ausstellen/mitgliedsbescheinigung/
   through django.test.Client as alice, --requests times: (b) with the
   request's middleware, session and redirect;
e. the download GET /bescheinigungen/<id>/pdf/ and the public check
   GET /pruefen/<code>/: SQL statements and time.

Before each run of (b) and (d) the certificates issued so far are moved
an hour back (not timed), so every run makes a new one instead of reusing
the last (certificates.services.REUSE_MINUTES). Pages must not run more
than 12 SQL statements. Prints a table and writes the figures as JSON to
var/bench/certificates-<vendor>.json (or --json). Default database:
SQLite in a temporary directory under var/bench/; with --database-url
postgres://… that database (its name must contain "bench") is dropped,
created and dropped again at the end. Exits 1 when (b)'s median or p95 is
over --target, a page runs more statements than allowed or answers
otherwise than expected."""

import argparse
import datetime
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.appointments_db import percentile
from bench.member_pages import drop_database, prepare_database

ROOT = Path(__file__).resolve().parent.parent
STATEMENTS = 12


def measure(call, runs: int, before=None) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU milliseconds of `runs` calls, `before` (untimed)
    ahead of each; the last result."""
    wall, cpu, result = [], [], None
    for _ in range(runs):
        if before is not None:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="certificate_request calls, (b)")
    parser.add_argument("--requests", type=int, default=20, help="button presses, (d)")
    parser.add_argument("--target", type=float, default=1000.0, help="(b)'s limit in ms")
    parser.add_argument("--statements", type=int, default=STATEMENTS, help="a page's limit")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--json", help="where the figures go")
    args = parser.parse_args()

    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="certificates-", dir=ROOT / "var" / "bench"))
    rows: list[dict] = []
    problems: list[str] = []
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.db import connection, transaction
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse
        from django.utils import timezone

        from certificates.codes import code_grouped, code_hash, code_new
        from certificates.models import Certificate
        from certificates.services import TEMPLATES, certificate_pdf, certificate_request
        from demo.cast import build_demo
        from tickets.models import Channel, RequestType

        with transaction.atomic():
            cast = build_demo(units_per_building=4)
        print(f"{database}: the test cast, {RequestType.objects.count()} forms", flush=True)
        form = RequestType.objects.get(slug="mitgliedsbescheinigung")
        assert form.certificate in TEMPLATES

        def older() -> None:
            Certificate.objects.update(issued_at=timezone.now() - datetime.timedelta(hours=1))

        def issue():
            return certificate_request(
                request_type=form,
                member=cast.alice.member,
                answers={"purpose": "Wohngeldstelle", "delivery": "download"},
                channel=Channel.PORTAL,
                created_by=cast.alice,
            )

        def record(key, label, wall, cpu, *, statements=None, **extra) -> dict:
            row = {
                "key": key,
                "label": label,
                "runs": len(wall),
                "median_ms": round(statistics.median(wall), 1),
                "p95_ms": round(percentile(wall, 0.95), 1),
                "cpu_median_ms": round(statistics.median(cpu), 1),
                "statements": statements,
                **extra,
            }
            rows.append(row)
            return row

        # (a) the first one of the process.
        wall, cpu, first = measure(issue, 1)
        record("a_first", "(a) the first certificate after a start", wall, cpu)

        # (b) filing and issuing, with its statements counted once more.
        wall, cpu, _last = measure(issue, args.runs, before=older)
        older()
        with CaptureQueriesContext(connection) as captured:
            issue()
        b = record(
            "b_certificate_request",
            f"(b) certificate_request x{args.runs}",
            wall,
            cpu,
            statements=len(captured.captured_queries),
            pdf_bytes=first.attachment.size,
        )
        if b["median_ms"] > args.target or b["p95_ms"] > args.target:
            problems.append(
                f"(b) median {b['median_ms']} ms / p95 {b['p95_ms']} ms over {args.target:g} ms"
            )

        # (c) the layout alone.
        code = code_new()
        wall, cpu, pdf = measure(lambda: certificate_pdf(certificate=first, code=code), args.runs)
        record("c_render_pdf", f"(c) render_pdf x{args.runs}", wall, cpu, pdf_bytes=len(pdf))

        # (d) the button on Mein Bereich.
        client = Client()
        client.force_login(cast.alice)
        statuses: dict[str, int] = {}
        button = reverse("certificates:issue", args=[form.slug])

        def press():
            response = client.post(button, secure=True)  # production settings: HTTPS only
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            return response

        wall, cpu, _response = measure(press, args.requests, before=older)
        older()
        with CaptureQueriesContext(connection) as captured:
            press()
        record(
            "d_button",
            f"(d) POST {button} x{args.requests}",
            wall,
            cpu,
            statements=len(captured.captured_queries),
            statuses=statuses,
        )
        if set(statuses) != {"302"}:
            problems.append(f"(d) answered {statuses}")

        # (e) the download and the public check.
        latest = Certificate.objects.latest("pk")
        Certificate.objects.filter(pk=latest.pk).update(code_hash=code_hash(code))
        anonymous = Client()
        for key, who, url, expected in [
            ("e_download", client, reverse("certificates:download", args=[latest.pk]), 200),
            ("e_verify", anonymous, f"/pruefen/{code_grouped(code)}/", 200),
        ]:
            seen: dict[str, int] = {}

            def get(who=who, url=url, seen=seen):
                response = who.get(url, secure=True)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                seen[str(response.status_code)] = seen.get(str(response.status_code), 0) + 1
                return response

            get()  # warm
            with CaptureQueriesContext(connection) as captured:
                get()
            # Counted now: the log is emptied by the next request.
            statements = len(captured.captured_queries)
            wall, cpu, _ = measure(get, args.requests)
            record(key, f"(e) GET {url}", wall, cpu, statements=statements, statuses=seen)
            if set(seen) != {str(expected)}:
                problems.append(f"{url} answered {seen}")
            if statements > args.statements:
                problems.append(f"{url}: {statements} statements")

        vendor = connection.vendor
        print()
        print(f"{'':58} {'median':>8} {'p95':>8} {'cpu med':>8} {'SQL':>4}")
        for row in rows:
            sql = "" if row["statements"] is None else str(row["statements"])
            print(
                f"{row['label']:58} {row['median_ms']:>6.1f}ms {row['p95_ms']:>6.1f}ms "
                f"{row['cpu_median_ms']:>6.1f}ms {sql:>4}"
            )
        print()
        print(
            f"target (b) certificate_request median and p95 under {args.target:g} ms: "
            + ("OK" if not any(p.startswith("(b)") for p in problems) else "OVER TARGET")
        )
        print(
            f"pages at most {args.statements} SQL statements: "
            + ("OK" if not any("statements" in p for p in problems) else "FAIL")
        )
        for problem in problems:
            print(f"FAIL {problem}")
        report = {
            "database": database,
            "vendor": vendor,
            "target_ms": args.target,
            "rows": rows,
            "problems": problems,
        }
        target = (
            Path(args.json) if args.json else ROOT / "var" / "bench" / f"certificates-{vendor}.json"
        )
        target.write_text(json.dumps(report, indent=2))
        print(f"figures: {target}")
    finally:
        drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
