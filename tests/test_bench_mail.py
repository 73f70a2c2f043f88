"""The mail intake benchmark (bench/mail_ingest.py) never rots: a short
run on the database kind of this test run processes every kind of message
it sends (new, reply, automatic reply, bounce) with the expected outcome.
No timing is asserted (--target 0)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent


def test_the_mail_intake_benchmark_runs():
    command = [sys.executable, str(ROOT / "bench" / "mail_ingest.py"),
               "--messages", "40", "--target", "0"]  # fmt: skip
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        name = f"/genoportal_bench_mail_{os.getpid()}"
        command += ["--database-url", urlunparse(urlparse(url)._replace(path=name))]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GENOPORTAL_", "DATABASE_"))
    }
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert re.search(r": 40 messages in [\d.]+ s = [\d.]+ messages/s", out), out
    sent = dict(re.findall(r"(\w+) (\d+)", out.split("sent: ", 1)[1].split("\n", 1)[0]))
    got = dict(re.findall(r"(\w+) (\d+)", out.split("outcomes: ", 1)[1].split("\n", 1)[0]))
    # Every reply joins its request; auto-replies and bounces make none.
    assert got.get("reply", "0") == sent.get("reply", "0")
    assert got.get("auto_reply", "0") == sent.get("auto", "0")
    assert got.get("bounce", "0") == sent.get("bounce", "0")
    assert int(got["ticket"]) == int(sent.get("member", 0)) + int(sent.get("stranger", 0))
