"""``synthgap gap DIR``: the synthetic-to-real gap of a grid result folder, with bootstrap intervals."""

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
def gap(folder: Path, boot: int, seed: int) -> None:
    """Write FOLDER/gap/ (gap.csv, elastic_vs_plain.csv, gap.md, gap.png) from FOLDER/cells.parquet."""
    from synthgap.gap import elastic_vs_plain, figure, gap_table, markdown
    from synthgap.report import load_cells

    if boot < 100:
        raise UsageError(f"boot: use at least 100 replicates, got {boot}", field="boot")
    df = load_cells(folder)
    table = gap_table(df, boot=boot, seed=seed)
    if table.empty:
        raise UsageError(f"gap: {folder}/cells.parquet has no real cells (add a [real] table to the grid)",
                         field="dir")  # fmt: skip
    gain = elastic_vs_plain(df, boot=boot, seed=seed)
    text = markdown(table, gain)
    staged = folder / "gap.new"
    if staged.exists():  # left by an interrupted run
        shutil.rmtree(staged)
    with atomic_dir(staged) as tmp:
        table.to_csv(tmp / "gap.csv", index=False)
        gain.to_csv(tmp / "elastic_vs_plain.csv", index=False)
        (tmp / "gap.md").write_text(f"Bootstrap: {boot} replicates, seed {seed}.\n\n{text}")
        figure(table, tmp / "gap.png")
    final = folder / "gap"
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    click.echo(text)
    click.echo(f"wrote {final}/")
