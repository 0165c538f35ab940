"""The cell store: one small JSON file per finished cell, so a killed grid loses nothing finished.

Layout of a store folder DIR::

    DIR/settings.json        test size, test seed, budget, real folders: fixed for the folder
    DIR/runs/<run id>/       a finished training run: run.json + whatever train_run wrote
    DIR/cells/<cell id>.json one evaluated cell (its coordinates, parameters, metrics, error)
    DIR/cells.parquet, DIR/cells.csv   the tidy table, rewritten by ``write_tables``

Every file and run folder appears atomically (temp file + ``os.replace``), so a kill -9 leaves
only dot-named temp files, which the next ``open_store`` removes. Cell files are named by the
cell's stable id, so a cell can never be stored twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from synthgap.errors import UsageError
from synthgap.grid.spec import Cell, Run
from synthgap.io import atomic_write_bytes, check_writable_dir

# Columns of the cells table, then one column per metric that evaluate_cell returns:
#   cell_id, run_id       stable ids (hashes of the coordinates; cell files are named by cell_id)
#   grid                  the grid's name
#   style .. seed         the run: training style, variant (plain/elastic), model, size, seed
#   train_seed            seed the run trained with (from its coordinates)
#   test_style            style of the test set (differs from style only for transfer)
#   perturbation, family  entry name (or clean / real / transfer) and its family
#   severity              0 for clean, real and the like; 1..5 otherwise (1 for transfer)
#   params                resolved perturbation parameters, JSON
#   test_seed, test_size  the test set's seed and number of synthetic images
#   budget_steps, budget_minutes   the training budget (one of them is empty)
#   error                 empty, or one line saying why this cell has no metrics
#   train_seconds, eval_seconds    wall-clock (train_seconds empty when the run was trained earlier)
#   host, synthgap_version, finished_at   where, with what, and when (UTC) the cell finished
#   versions              JSON of the package versions that can change a number (synthgap.versions())
COLUMNS = [
    "cell_id", "run_id", "grid", "style", "variant", "model", "size", "seed", "train_seed",
    "test_style", "perturbation", "family", "severity", "params", "test_seed", "test_size",
    "budget_steps", "budget_minutes", "error", "train_seconds", "eval_seconds", "host",
    "synthgap_version", "versions", "finished_at",
]  # fmt: skip


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()


def cells_dir(root: Path) -> Path:
    return Path(root) / "cells"


def run_dir(root: Path, run: Run) -> Path:
    return Path(root) / "runs" / run.id


@contextlib.contextmanager
def open_store(root: Path, settings: dict[str, Any]) -> Iterator[Path]:
    """Lock ``root`` for one runner, check it was made with the same settings, drop stale temps."""
    root = Path(root)
    check_writable_dir(root)
    (root / "runs").mkdir(parents=True, exist_ok=True)
    cells_dir(root).mkdir(exist_ok=True)
    with open(root / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"out: {root} is in use by another grid runner", field="out") from None
        path = root / "settings.json"
        if path.exists():
            old = json.loads(path.read_text())
            if old != json.loads(json.dumps(settings)):
                raise UsageError(
                    f"out: {root} holds cells made with other settings ({old}); use a new folder",
                    field="out",
                )
        else:
            atomic_write_bytes(path, _json_bytes(settings))
        for folder in (root / "runs", cells_dir(root)):
            for stale in folder.glob(".*"):  # temp files of a killed runner
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        yield root


def finished_checkpoint(root: Path, run: Run) -> Path | None:
    """The checkpoint of a finished run, or None if it has not been trained (to completion)."""
    folder = run_dir(root, run)
    info = folder / "run.json"
    if not info.is_file():
        return None
    return folder / json.loads(info.read_text())["checkpoint"]


def read_cells(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(cells_dir(root).glob("[!.]*.json"))]


def finished_ids(root: Path) -> set[str]:
    """Ids of cells stored without an error (a failed cell is tried again on the next run)."""
    return {r["cell_id"] for r in read_cells(root) if not r.get("error")}


def write_cell(root: Path, record: dict[str, Any]) -> None:
    atomic_write_bytes(cells_dir(root) / f"{record['cell_id']}.json", _json_bytes(record))


def cell_record(cell: Cell, family: str, grid_name: str) -> dict[str, Any]:
    """The coordinate part of a cell's row (the runner adds metrics, timings and errors)."""
    run = cell.run
    return {
        "cell_id": cell.id, "run_id": run.id, "grid": grid_name, **run.coordinates,
        "train_seed": run.train_seed, "test_style": cell.test_style, "perturbation": cell.perturbation,
        "family": family, "severity": cell.severity, "params": cell.params_json, "test_seed": cell.test_seed,
        "test_size": cell.test_size, "budget_steps": run.budget.steps, "budget_minutes": run.budget.minutes,
    }  # fmt: skip


def collect(root: Path) -> pd.DataFrame:
    """The tidy table of a store: one row per stored cell, metrics as their own columns."""
    rows = []
    for r in read_cells(root):
        metrics = r.pop("metrics", {}) or {}
        rows.append({**r, **metrics})
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df:
            df[col] = pd.Series(dtype=object)
    df = df[COLUMNS + sorted(set(df.columns) - set(COLUMNS))]
    keys = ["style", "variant", "model", "size", "seed", "test_style", "perturbation", "severity"]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def write_tables(root: Path, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Write DIR/cells.parquet and DIR/cells.csv (each atomically) and return the table."""
    df = collect(root) if df is None else df
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write_bytes(Path(root) / "cells.parquet", buf.getvalue())
    atomic_write_bytes(Path(root) / "cells.csv", df.to_csv(index=False).encode())
    return df
