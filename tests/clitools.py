"""Run the ``synthgap`` command as a user would: a fresh interpreter, exit status, stdout, stderr."""

from __future__ import annotations

import subprocess
import sys


def synthgap(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from synthgap.cli import main; main()", *map(str, args)],
        capture_output=True, text=True, cwd=cwd,
    )  # fmt: skip


def grid_text(*, name: str = "tiny", style: str = "wikipedia", models: str = '"crnn_ctc"', test_size: int = 8,
              head: str = "", budget: str = "[budget]\nsteps = 2\n", tables: str = "") -> str:  # fmt: skip
    """A one-style, plain-variant, cpu-size, seed-0 grid file: what the end-to-end tests run.

    ``head`` goes before the tables (top-level keys such as ``zoo = ...``), ``tables`` after.
    """
    return (
        f'name = "{name}"\nstyles = ["{style}"]\nvariants = ["plain"]\nmodels = [{models}]\n'
        f'sizes = ["cpu"]\nseeds = [0]\ntest_size = {test_size}\n{head}{budget}{tables}'
    )
