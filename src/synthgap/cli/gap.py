"""``synthgap gap DIR``: the synthetic-to-real gap of a grid result folder, or of a folder of eval
reports, with bootstrap intervals."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.io import atomic_dir


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--boot", type=int, default=2000, show_default=True, help="Bootstrap replicates.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap draws.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default FOLDER/gap)."
)
def gap(folder: Path, boot: int, seed: int, out: Path | None) -> None:
    """Write gap.csv, elastic_vs_plain.csv, gap.md, gap.png from FOLDER/cells.parquet (a grid) or,
    without it, from the `synthgap eval` / `eval-peer --predictions` reports (.json + .csv) under FOLDER."""
    from synthgap.gap import cells_from_evals, elastic_vs_plain, figure, gap_table, markdown
    from synthgap.report import load_cells

    if boot < 100:
        raise UsageError(f"boot: use at least 100 replicates, got {boot}", field="boot")
    grid = (folder / "cells.parquet").exists()
    df = load_cells(folder) if grid else cells_from_evals(folder)
    table = gap_table(df, boot=boot, seed=seed)
    if table.empty:
        where = f"{folder}/cells.parquet has no real cells (add a [real] table to the grid)" if grid else (
            f"no real-set report under {folder}")  # fmt: skip
        raise UsageError(f"gap: {where}", field="dir")
    gain = elastic_vs_plain(df, boot=boot, seed=seed)
    text = markdown(table, gain)
    final = out or folder / "gap"
    staged = final.with_name(final.name + ".new")
    if staged.exists():  # left by an interrupted run
        shutil.rmtree(staged)
    with atomic_dir(staged) as tmp:
        table.to_csv(tmp / "gap.csv", index=False)
        gain.to_csv(tmp / "elastic_vs_plain.csv", index=False)
        (tmp / "gap.md").write_text(f"Bootstrap: {boot} replicates, seed {seed}.\n\n{text}")
        figure(table, tmp / "gap.png")
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    click.echo(text)
    click.echo(f"wrote {final}/")
