"""``synthgap check-grid | run | report``: validate a grid, run it (resumably), summarise it."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.grid import load_grid
from synthgap.grid.runner import EXECUTORS, make_executor, run_grid
from synthgap.grid.work import evaluate_cell, train_run
from synthgap.io import atomic_dir
from synthgap.report import build_report, figures, load_cells


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower().split(":")[0]).strip("_")


@cli.command("check-grid")
@click.argument("grid_file", type=click.Path(dir_okay=False))
@click.option("--models", help="Comma-separated model names to accept (default: the models registry).")
def check_grid(grid_file: str, models: str | None) -> None:
    """Parse and validate GRID_FILE; print how many runs and cells it holds."""
    grid = load_grid(grid_file, models=models.split(",") if models else None)
    cells = grid.cells()
    click.echo(f"{grid.name}: {len(grid.runs())} runs, {len(cells)} cells")
    for name, n in sorted(Counter(c.perturbation for c in cells).items()):
        click.echo(f"  {name}: {n}")


@cli.command()
@click.argument("grid_file", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Result folder; rerunning on it resumes, skipping finished cells.",
)
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True)
@click.option("--scheduler", help="dask.distributed scheduler address (with --executor dask).")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Parallel tasks (training uses its own data workers: 1 suits 2 cores).",
)
def run(grid_file: str, out: Path, executor: str, scheduler: str | None, workers: int) -> None:
    """Train every run of GRID_FILE once and evaluate all its cells into OUT (cells.parquet/csv)."""
    grid = load_grid(grid_file)
    grid.cells()  # every impossible combination fails here, before any training
    if executor == "dask" and not scheduler:
        raise UsageError("scheduler: --executor dask needs --scheduler ADDR", field="scheduler")
    with make_executor(executor, workers=workers, scheduler=scheduler) as pool:
        df = run_grid(grid, out, train_run, evaluate_cell, executor=pool)
    failed = df["error"].notna() & (df["error"] != "")
    click.echo(f"{len(df)} cells in {out}/cells.parquet ({int(failed.sum())} failed)")
    click.echo(build_report(df[~failed]).markdown() if (~failed).any() else "no finished cells")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", help="Model that corruption errors are relative to (default: first by name).")
def report(folder: Path, baseline: str | None) -> None:
    """Write FOLDER/report/ (markdown, CSV per table, figures) from FOLDER/cells.parquet and print it."""
    df = load_cells(folder)
    rep = build_report(df, baseline)
    staged = folder / "report.new"
    if staged.exists():  # left by an interrupted report
        shutil.rmtree(staged)
    with atomic_dir(staged) as tmp:
        (tmp / "report.md").write_text(rep.markdown())
        for name, table in rep.tables.items():
            table.to_csv(tmp / f"{slug(name)}.csv", index=False)
        figures(df, tmp)
    final = folder / "report"
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    click.echo(rep.markdown())
    click.echo(f"wrote {final}/")
