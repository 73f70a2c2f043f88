"""The benchmark rig never rots: bench/rig.py --scale smoke runs on the
database of this test run (SQLite: a temporary file; PostgreSQL: a database
named *bench* on the same server), and every workload answers, without
errors, with its SQL queries counted. No timing is asserted."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = {
    "calibration",
    "member_list",
    "member_request",
    "mein_bereich",
    "staff_request",
    "inbox",
    "inbox_filtered",
    "inbox_search",
    "file_request",
}


def test_the_benchmark_rig_runs_every_workload_without_errors(tmp_path):
    figures = tmp_path / "bench.json"
    command = [
        sys.executable, str(ROOT / "bench" / "rig.py"),
        "--scale", "smoke", "--seconds", "1", "--json", str(figures),
    ]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_smoke_{os.getpid()}"
        command += [
            "--database",
            "postgres",
            "--postgres-url",
            urlunparse(urlparse(url)._replace(path=name)),
        ]
    else:
        command += ["--database", "sqlite"]
    # The rig sets production settings itself; nothing of this test run's
    # (immediate tasks, the browser fixture's async switch) goes along.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    rig = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = rig.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        rig.terminate()  # the rig stops gunicorn and drops its database on SIGTERM
        out, err = rig.communicate(timeout=30)
        raise AssertionError(f"the rig took over 150 s:\n{out[-4000:]}{err[-4000:]}") from None
    assert rig.returncode == 0, out[-4000:] + err[-4000:]
    rows = json.loads(figures.read_text())["rows"]
    assert {row["workload"] for row in rows} == WORKLOADS
    for row in rows:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert isinstance(row["queries"], int), row
    calibration = next(row for row in rows if row["workload"] == "calibration")
    assert calibration["queries"] == 0
