"""The slot benchmark (bench/appointment_slots.py) never rots: a few runs
find free slots and print the figures, and a target no machine meets makes
it exit 1. No timing is asserted."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_slot_benchmark_runs_and_fails_over_its_target():
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "appointment_slots.py"), "--runs", "3",
         "--target", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"median [\d.]+ ms, p95 [\d.]+ ms", run.stdout), run.stdout
    found = re.search(r"(\d+) busy intervals \((\d+)% of the hours\), (\d+) free slots", run.stdout)
    assert found, run.stdout
    assert 25 <= int(found[2]) <= 35, "the benchmark's bookings should fill ~30 % of the hours"
    assert int(found[1]) > 0 and int(found[3]) > 0
    assert "FAIL: median" in run.stdout
