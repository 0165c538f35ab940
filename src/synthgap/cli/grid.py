"""``synthgap check-grid | run | report``: validate a grid, run it (resumably), summarise it."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.grid import load_grid
from synthgap.grid.runner import EXECUTORS, make_executor, run_grid
from synthgap.grid.work import evaluate_cell, train_run
from synthgap.report import build_report, write_report


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
@click.option(
    "--threads", type=int, help="Torch threads per local worker (default: the cores shared among workers)."
)
@click.option(
    "--retrain", is_flag=True, help="Ignore the grid's zoo: train every run (zoo entries as the zoo does)."
)
@click.option(
    "--stale", type=click.Choice(["retrain", "refuse"]), default="retrain", show_default=True,
    help="A zoo entry whose fingerprint no longer matches the code: train the run again, or fail its cells.",
)  # fmt: skip
def run(grid_file: str, out: Path, executor: str, scheduler: str | None, workers: int, threads: int | None,
        retrain: bool, stale: str) -> None:  # fmt: skip
    """Train every run of GRID_FILE once and evaluate all its cells into OUT (cells.parquet/csv).

    Runs that are current entries of the grid's zoo are evaluated without training. Exits 2 when
    any cell failed, after storing all the others."""
    if workers < 1:
        raise UsageError(f"workers: must be >= 1, got {workers}", field="workers")
    if threads is not None and threads < 1:
        raise UsageError(f"threads: must be >= 1, got {threads}", field="threads")
    grid = load_grid(grid_file)
    grid.cells()  # every impossible combination fails here, before any training
    if executor == "dask" and not scheduler:
        raise UsageError("scheduler: --executor dask needs --scheduler ADDR", field="scheduler")
    prepared = {} if grid.zoo is None or retrain else zoo_checkpoints(grid, stale)
    with make_executor(executor, workers=workers, scheduler=scheduler, threads=threads) as pool:
        df = run_grid(grid, out, partial(train_run, zoo=grid.zoo), evaluate_cell, executor=pool,
                      prepared=prepared)  # fmt: skip
    failed = df["error"].notna() & (df["error"] != "")
    click.echo(f"{len(df)} cells in {out}/cells.parquet ({int(failed.sum())} failed)")
    click.echo(build_report(df[~failed]).markdown() if (~failed).any() else "no finished cells")
    if failed.any():
        for error, n in df.loc[failed, "error"].value_counts().items():
            click.echo(f"  {n} cells: {error}", err=True)
        raise UsageError(f"run: {int(failed.sum())} of {len(df)} cells failed", field="run")


def zoo_checkpoints(grid, stale: str) -> dict[str, tuple[str | None, str | None]]:
    """Run id -> (zoo checkpoint to evaluate, None) or (None, error failing the run's cells).

    A current entry is used; a missing one is trained; a stale one is trained (said by name) or,
    with ``stale="refuse"``, fails its cells; a broken one (a file edited or truncated) fails its
    cells with the error naming the file."""
    from synthgap.zoo import load_zoo, status

    zoo = load_zoo(grid.zoo)
    out: dict[str, tuple[str | None, str | None]] = {}
    for run in grid.runs():
        entry = zoo.find(run)
        if entry is None:
            continue
        st = status(zoo, entry)
        if st.state == "current":
            out[run.id] = (str(st.folder), None)
        elif st.state == "broken" or (st.state == "stale" and stale == "refuse"):
            out[run.id] = (None, f"zoo entry {st.line()}")
        click.echo(f"zoo: {st.line()}: " + ("evaluated" if st.state == "current" else
                   "its cells fail" if run.id in out else "training it"), err=True)  # fmt: skip
    return out


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--baseline", help="Model that corruption errors are relative to (default: first by name).")
def report(folder: Path, baseline: str | None) -> None:
    """Write FOLDER/report/ (markdown, a self-contained report.html, CSV per table, figures) from
    FOLDER/cells.parquet and print it."""
    rep, final = write_report(folder, baseline)
    click.echo(rep.markdown())
    click.echo(f"wrote {final}/")
