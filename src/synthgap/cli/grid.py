"""``synthgap check-grid``: validate a grid file before spending any compute on it."""

from __future__ import annotations

from collections import Counter

import click

from synthgap.cli import cli
from synthgap.grid import load_grid


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
