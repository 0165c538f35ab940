"""Deterministic stand-ins for the models layer's train_run / evaluate_cell, used by test_grid.py.

A module (not a test file) so that worker processes can import them. Knobs come from environment
variables, which worker processes inherit: STANDIN_DELAY (seconds per evaluation) and STANDIN_LOG
(a file that gets one line per evaluation, appended atomically).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

MODELS = ["tiny_a", "tiny_b", "broken"]


def train_run(run, out_dir: Path) -> Path:
    if run.model == "broken":
        raise RuntimeError("this model never trains")
    path = Path(out_dir) / "weights.json"
    path.write_text(json.dumps({"train_seed": run.train_seed}))
    return path


def expected_metrics(cell) -> dict:
    return {"accuracy": (cell.test_seed % 10007) / 10007, "trained": cell.run.train_seed % 1000}


def evaluate_cell(cell, checkpoint: Path) -> dict:
    time.sleep(float(os.environ.get("STANDIN_DELAY", "0")))
    log = os.environ.get("STANDIN_LOG")
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{cell.id}\n".encode())
        os.close(fd)
    if cell.severity == 5:
        raise ValueError("severity 5 is too much for this stand-in")
    trained = json.loads(Path(checkpoint).read_text())["train_seed"]
    return {"accuracy": (cell.test_seed % 10007) / 10007, "trained": trained % 1000}


def run_killable(grid_file: str, out: str) -> None:
    """Entry point of the kill test's subprocess: a 2-worker local pool."""
    from synthgap.grid import load_grid, run_grid

    grid = load_grid(grid_file, models=MODELS)
    run_grid(grid, Path(out), train_run, evaluate_cell, workers=2, progress=False)
