"""The appointments database benchmark (bench/appointments_db.py) never
rots: a tiny run on the database kind of this test run seeds advisors,
bookings and history, reads free slots, serves the member's page, books
with an advisor and with "any advisor", and prints every figure. No timing
is asserted (--target far above any machine)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def test_the_appointments_database_benchmark_runs():
    command = [sys.executable, str(ROOT / "bench" / "appointments_db.py"),
               "--advisors", "3", "--weeks", "2", "--history", "200", "--runs", "2",
               "--requests", "3", "--bookings", "2", "--target", "100000"]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_appt_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    seeded = re.search(r": 3 advisors, ([\d,]+) bookings over 2 weeks .*, ([\d,]+) past ones", out)
    assert seeded, out
    assert int(seeded[1].replace(",", "")) > 0
    assert int(seeded[2].replace(",", "")) == 200
    timing = r"median [\d.]+ ms, p95 [\d.]+ ms \(CPU median [\d.]+ ms\)"
    assert re.search(r"\(a\) slots_free, 3 advisors, .*: " + timing + r"; [\d,]+ free slots, "
                     r"\d+ SQL statements", out), out  # fmt: skip
    assert re.search(r"\(b\) days_and_times, one advisor, .*: " + timing, out), out
    page = re.search(r"\(c\) GET /termine/neu/vermietung/\?tag=.* as alice, \d+ advisors: "
                     r"[\d.]+ requests/s, .*; \d+ SQL statements, (\d+) free times shown; "
                     r"statuses 200 x8$", out, re.MULTILINE)  # fmt: skip
    assert page, out
    assert int(page[1]) > 0, "the chosen day has free times"
    for kind in ("with an advisor", "any advisor"):
        assert re.search(rf"\(d\) appointment_book {kind}: 2 bookings in [\d.]+ s = [\d.]+ "
                         r"bookings/s; \d+ SQL statements for one", out), out  # fmt: skip
    assert "target (a) median 100000 ms: OK" in out
