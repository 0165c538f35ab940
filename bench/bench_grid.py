"""A smoke grid end to end (train every model a few steps, evaluate every cell): one timed round.

Catches a grid that got slow or broke as a whole; `grids/smoke.toml` says what it runs.
"""

from __future__ import annotations

from pathlib import Path

from synthgap.grid import load_grid
from synthgap.grid.runner import make_executor, run_grid
from synthgap.grid.work import evaluate_cell, train_run

GRID = Path(__file__).resolve().parents[1] / "grids" / "smoke.toml"


def bench_smoke_grid(benchmark, tmp_path):
    grid = load_grid(GRID)

    def run_once():
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        with make_executor("inline") as pool:
            return run_grid(grid, out, train_run, evaluate_cell, executor=pool, progress=False)

    df = benchmark.pedantic(run_once, rounds=1, iterations=1)
    assert len(df) == len(grid.cells()) and not (df["error"].fillna("") != "").any()
