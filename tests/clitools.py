"""Run the ``synthgap`` command as a user would: a fresh interpreter, exit status, stdout, stderr."""

from __future__ import annotations

import subprocess
import sys


def synthgap(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from synthgap.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=cwd,
    )  # fmt: skip
