"""The data export benchmark (bench/privacy_export.py) never rots: a tiny
run on the database kind of this test run seeds a member's requests with
files, prepares her export twice, prints the figures and writes them as
JSON. No timing is asserted; that the statements do not grow with the
requests is (the requests are read in chunks with their events)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, requests: int) -> dict:
    figures = tmp_path / f"privacy-{requests}.json"
    command = [sys.executable, str(ROOT / "bench" / "privacy_export.py"),
               "--requests", str(requests), "--file-kb", "4", "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_privacy_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{requests} requests with a 4 KB file each" in done.stdout, done.stdout
    assert "export (worker)" in done.stdout and "peak Python memory" in done.stdout
    return json.loads(figures.read_text())


def test_the_data_export_benchmark_runs(tmp_path):
    figures = run(tmp_path, 60)
    assert figures["requests"] == 60 and figures["zip_mb"] > 0
    # The requests are read with their events and files in chunks: 500
    # requests took 41 statements; one query per request would be 60 more.
    assert figures["statements"] <= 40, figures
