"""The documents benchmark (bench/documents.py) never rots: a tiny run on
the database kind of this test run seeds households and accounts, checks
and publishes a ZIP of statements, e-mails the members, serves the
member's list, Mein Bereich and the staff report, prints every figure and
writes them as JSON. No timing is asserted (--target far above any
machine); the pages' SQL statement bound and "every file passes" are."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
TIMING = r"[\d.]+ms +[\d.]+ms +[\d.]+ms +[\d.]+ +(\d+|-)"


def test_the_documents_benchmark_runs(tmp_path):
    figures = tmp_path / "documents.json"
    command = [sys.executable, str(ROOT / "bench" / "documents.py"),
               "--files", "60", "--history", "2", "--requests", "2", "--target", "100000",
               "--json", str(figures)]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_documents_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert re.search(r"ZIP of 60 PDFs", out), out
    for label in (
        r"\(a\) batch_check, 60 PDFs in a ZIP",
        r"\(b\) batch_publish, 60 documents",
        r"\(c\) documents_email, \d+ e-mails into the outbox",
        r"\(d\) GET /dokumente/ as alice \(26 documents\)",
        r"\(d\) GET /mein-bereich/ as alice",
        r"\(e\) GET report, page 1 of 2",
        r"\(e\) GET /bearbeitung/dokumente/",
    ):
        assert re.search(rf"^{label} +{TIMING}  ", out, re.MULTILINE), (label, out)
    assert "target check + publish" in out and "OVER TARGET" not in out, out
    assert "FAIL" not in out, out

    report = json.loads(figures.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert report["problems"] == []
    assert rows["a_check"]["accepted"] == 60 and rows["a_check"]["refused"] == 0
    assert rows["c_email"]["emails"] >= 60
    pages = [row for key, row in rows.items() if key[0] in "de"]
    assert len(pages) == 6
    for row in pages:
        assert 0 < row["statements"] <= 12, row
        assert set(row["statuses"]) == {"200"}, row
    assert report["seed"]["documents_after"] == 26 + 60
