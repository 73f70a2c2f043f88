"""The overview benchmark (bench/insights.py) never rots: a tiny run on the
database kind of this test run seeds a few hundred requests and
appointments, serves every
part of the team leads' overview as tom for both periods, times each
selector, prints every figure and writes them as JSON. No timing is
asserted (--target far above any machine)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TIMING = r"[\d.]+ms +[\d.]+ms +[\d.]+ms +\d+"
PARTS = ["eingang", "rueckstand", "zeiten", "schwerpunkte", "ergebnis"]


def test_the_insights_benchmark_runs(tmp_path):
    figures = tmp_path / "insights.json"
    command = [sys.executable, str(ROOT / "bench" / "insights.py"),
               "--tickets", "300", "--runs", "2", "--selector-runs", "1", "--warm-up", "1",
               "--advisors", "3", "--appointments", "300",
               "--target", "100000", "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_insights_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert re.search(r": 300 requests, \d+ open, .*; [\d,]+ appointments of 3 advisors; "
                     r"seeded \(300 requests over 8 years\)", out), out  # fmt: skip
    for days in (90, 365):
        for part in PARTS:
            label = re.escape(f"(a) GET /bearbeitung/ueberblick/?teil={part} ({days} days)")
            assert re.search(rf"^{label} +{TIMING}  ", out, re.MULTILINE), (label, out)
        assert re.search(rf"^\(b\) timings by team \({days} days\) +{TIMING}", out, re.MULTILINE)
    assert "OVER TARGET" not in out and "FAIL" not in out, out

    report = json.loads(figures.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert report["seed"]["requests"] == 300
    assert report["seed"]["appointments"] >= 300  # and those of the next eight weeks
    assert report["problems"] == [] and report["parts_over_target"] == []
    pages = [row for key, row in rows.items() if key.startswith("a_")]
    assert len(pages) == 10
    for row in pages:
        assert set(row["statuses"]) == {"200"}, row
        assert 0 < row["statements"] <= 12, row
    selectors = [row for key, row in rows.items() if key.startswith("b_")]
    assert len(selectors) == 26
    # One query a selector; the hours per advisor: the counts and booked
    # hours, then weekly hours, overrides, absences, blocks and closing
    # days for all advisors at once.
    for row in selectors:
        assert row["statements"] == (6 if "appointments_by_advisor" in row["label"] else 1), row
