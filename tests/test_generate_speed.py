"""scripts/generate_speed.py: one line of three timings per style-variant, bad input refused."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "generate_speed.py"
LINE = re.compile(r"^(\S+)\s+first (\d+\.\d+)  next (\d+\.\d+)  warm (\d+\.\d+) ms/image$")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_prints_first_next_and_warm_per_variant():
    r = run("baidu2011", "--n", "3")
    assert r.returncode == 0, r.stderr
    rows = [LINE.match(line) for line in r.stdout.splitlines()]
    assert [m.group(1) for m in rows] == ["baidu2011-plain", "baidu2011-elastic"]
    assert all(float(t) > 0 for m in rows for t in m.groups()[1:])


def test_unknown_style_and_bad_n_exit_2_naming_them():
    r = run("nosuch", "--n", "3")
    assert r.returncode == 2 and "unknown style nosuch" in r.stderr and r.stdout == ""
    r = run("baidu2011", "--n", "0")
    assert r.returncode == 2 and "--n: must be >= 1, got 0" in r.stderr
