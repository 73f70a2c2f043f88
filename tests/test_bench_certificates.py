"""The certificates benchmark (bench/certificates.py) never rots: a tiny run
on the database kind of this test run files and issues certificates,
renders the letter, presses Mein Bereich's button, downloads and checks
one, prints every figure and writes them as JSON. No timing is asserted
(--target far above any machine); the pages' SQL statement bound is."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TIMING = r"[\d.]+ms +[\d.]+ms +[\d.]+ms"


def test_the_certificates_benchmark_runs(tmp_path):
    figures = tmp_path / "certificates.json"
    command = [sys.executable, str(ROOT / "bench" / "certificates.py"),
               "--runs", "2", "--requests", "2", "--target", "100000",
               "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_certificates_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    for label in (
        r"\(a\) the first certificate after a start",
        r"\(b\) certificate_request x2",
        r"\(c\) render_pdf x2",
        r"\(d\) POST /bescheinigungen/ausstellen/mitgliedsbescheinigung/ x2",
        r"\(e\) GET /bescheinigungen/\d+/pdf/",
        r"\(e\) GET /pruefen/[0-9A-Z-]{34}/",
    ):
        assert re.search(rf"^{label} +{TIMING}", out, re.MULTILINE), (label, out)
    assert "median and p95 under 100000 ms: OK" in out, out
    assert "pages at most 12 SQL statements: OK" in out, out
    assert "FAIL" not in out, out

    report = json.loads(figures.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert report["problems"] == []
    assert rows["b_certificate_request"]["runs"] == 2
    assert rows["b_certificate_request"]["pdf_bytes"] > 5_000
    assert rows["c_render_pdf"]["pdf_bytes"] > 5_000
    assert rows["d_button"]["statuses"] == {"302": 3}
    for key in ("e_download", "e_verify"):
        assert 0 < rows[key]["statements"] <= 12, rows[key]
        assert set(rows[key]["statuses"]) == {"200"}, rows[key]
