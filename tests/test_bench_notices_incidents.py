"""The benchmark of the lists that grow with time (bench/notices_incidents.py)
never rots: a tiny run on the database kind of this test run seeds a few
hundred requests, a year of notices and a few incidents, serves the staff
and member notices pages, the incidents list and the largest incident,
prints every figure and writes them as JSON. No timing is asserted
(--limit-ms far above any machine); the pages' SQL statement bound is."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TIMING = r"[\d.]+ms +[\d.]+ms +[\d.]+ms +\d+ +\d+%"


def test_the_lists_benchmark_runs(tmp_path):
    figures = tmp_path / "lists.json"
    command = [sys.executable, str(ROOT / "bench" / "notices_incidents.py"),
               "--tickets", "400", "--years", "1", "--per-week", "1", "--incidents", "10",
               "--big", "1", "--big-size", "60", "--runs", "2", "--warm-up", "1",
               "--limit-ms", "100000", "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_lists_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    seeded = re.search(
        r": 400 requests \(seeded .*\); ([\d,]+) notices \(.*\); (\d+) incidents", out
    )
    assert seeded and int(seeded[2]) > 1, out
    for label in (
        r"\(r\) GET /bearbeitung/ as hanna \(the inbox\)",
        r"\(b0\) GET /mein-bereich/ as alice, no notices yet",
        r"\(a\) GET /bearbeitung/aushaenge/ as hanna",
        r"\(b\) GET /aushaenge/ as alice",
        r"\(b\) GET /mein-bereich/ as alice",
        r"\(c\) GET /bearbeitung/stoerungen/ as tom \(lead\)",
        r"\(c\) GET /bearbeitung/stoerungen/ as ada \(admin\)",
        r"\(d\) GET /bearbeitung/stoerungen/<id>/ \(\d+ requests\) as (tom|ada)",
    ):
        assert re.search(rf"^{label} +{TIMING}  ", out, re.MULTILINE), (label, out)
    assert "FAIL" not in out, out

    report = json.loads(figures.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert report["problems"] == []
    # Seven weeks' worth at least: one a week for a year, in every estate.
    assert report["seed"]["notices"]["notices"] > 7 * report["seed"]["notices"]["estates"]
    assert report["seed"]["incidents"]["big"] == 1
    pages = [row for key, row in rows.items() if key != "calibration"]
    assert len(pages) == 10
    for row in pages:
        assert set(row["statuses"]) == {"200"}, row
        assert 0 < row["statements"] <= 12, row
    # The staff lists show a page at most; the member sees notices now.
    assert 0 < rows["a_staff_notices"]["shown"] <= 50
    assert rows["b0_notices"]["shown"] == 0 < rows["b_notices"]["shown"]
    size = int(re.search(r"\((\d+) requests\)", rows["d_incident"]["label"])[1])
    assert rows["d_incident"]["shown"] == min(size, 50) >= 3
