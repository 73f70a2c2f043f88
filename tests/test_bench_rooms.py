"""The rooms benchmark (bench/rooms.py) never rots: a tiny run on the
database kind of this test run seeds rooms, history and upcoming bookings,
reads the calendar, serves the member's room and confirmation pages and
the staff list, books, prints every figure and writes them as JSON. No
timing is asserted (--target far above any machine); the pages' SQL
statement bound is."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TIMING = r"[\d.]+ms +[\d.]+ms +[\d.]+ms +[\d.]+ +\d+"


def test_the_rooms_benchmark_runs(tmp_path):
    figures = tmp_path / "rooms.json"
    command = [sys.executable, str(ROOT / "bench" / "rooms.py"),
               "--rooms", "4", "--history", "300", "--months", "2", "--runs", "2",
               "--requests", "3", "--bookings", "4", "--target", "100000",
               "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_rooms_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    seeded = re.search(r": 6 rooms, 300 past bookings, ([\d,]+) over the next 2 months", out)
    assert seeded, out
    assert int(seeded[1].replace(",", "")) > 0
    for label in (
        r"\(a\) month_of bench-gaestewohnung-00 \d{4}-\d\d",
        r"\(a\) month_of bench-raum-01 \d{4}-\d\d",
        r"\(b\) GET /raeume/bench-gaestewohnung-00/",
        r"\(b\) GET /raeume/bench-raum-01/\?monat=\d{4}-\d\d",
        r"\(c\) GET /raeume/bench-gaestewohnung-00/bestaetigen/ \(\d night\(s\)\)",
        r"\(c\) GET /raeume/bench-raum-01/bestaetigen/ \(\d hour\(s\)\)",
        r"\(d\) room_book x4 \(stays and hours\)",
        r"\(e\) GET /bearbeitung/raeume/ as tom",
    ):
        assert re.search(rf"^{label} +{TIMING}  ", out, re.MULTILINE), (label, out)
    assert "target (a) a_month_flat median" in out and "OVER TARGET" not in out, out
    assert "pages at most 12 SQL statements: OK" in out, out
    assert "FAIL" not in out, out

    report = json.loads(figures.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert report["seed"]["history"] == 300
    assert report["problems"] == [] and report["calendar_over_target"] == []
    pages = [row for key, row in rows.items() if key[0] in "bce"]
    assert len(pages) == 7
    for row in pages:
        assert 0 < row["statements"] <= 12, row
        assert set(row["statuses"]) == {"200"}, row
    assert rows["a_month_flat"]["statements"] == rows["a_month_common"]["statements"] == 1
    assert rows["d_room_book"]["failed"] == 0
    assert rows["d_room_book"]["runs"] == 4
    # The staff list's first page: 50 of the upcoming bookings (or all of fewer).
    assert rows["e_staff_list"]["shown"] == min(50, rows["e_staff_list"]["upcoming"]) > 0
