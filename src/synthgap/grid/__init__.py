"""Experiment grids: parse and validate a grid file, run it into a cell store, collect the table.

>>> from synthgap.grid import load_grid, run_grid, collect
>>> grid = load_grid("grids/quick.toml")
>>> df = run_grid(grid, "out/quick", train_run, evaluate_cell, workers=2)   # the models layer's work
>>> df = collect("out/quick")                                               # at any time, even mid-run
"""

from __future__ import annotations

from synthgap.grid.runner import EXECUTORS, InlineExecutor, make_executor, run_grid
from synthgap.grid.spec import (
    CLEAN,
    REAL,
    TRANSFER,
    VARIANTS,
    Budget,
    Cell,
    Grid,
    Run,
    coordinate_seed,
    known_models,
    load_grid,
    parse_grid,
    validate_grid,
)
from synthgap.grid.store import COLUMNS, collect, write_tables
from synthgap.grid.testsets import TestSet, make_test_set

__all__ = [
    "CLEAN",
    "COLUMNS",
    "EXECUTORS",
    "REAL",
    "TRANSFER",
    "VARIANTS",
    "Budget",
    "Cell",
    "Grid",
    "InlineExecutor",
    "Run",
    "TestSet",
    "collect",
    "coordinate_seed",
    "known_models",
    "load_grid",
    "make_executor",
    "make_test_set",
    "parse_grid",
    "run_grid",
    "validate_grid",
    "write_tables",
]
