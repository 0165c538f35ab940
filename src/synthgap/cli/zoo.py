"""``synthgap zoo list | build``: the committed trained checkpoints (synthgap.zoo)."""

from __future__ import annotations

from concurrent.futures import as_completed
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError

zoo_argument = click.argument(
    "zoo_dir", default="results/zoo", type=click.Path(file_okay=False, path_type=Path)
)


@cli.group()
def zoo() -> None:
    """The model zoo: trained checkpoints that grids evaluate instead of training."""


@zoo.command("list")
@zoo_argument
def list_cmd(zoo_dir: Path) -> None:
    """Every entry of ZOO_DIR (default results/zoo) with its state, accuracy and size."""
    from synthgap.zoo import load_zoo, status, weights_kb

    z = load_zoo(zoo_dir)
    rows = []
    for entry in z.entries:
        st = status(z, entry)
        r = st.record or {}
        test = r.get("test", {})
        rows.append({
            "entry": entry.name, "state": st.state, "clean": test.get("recognition_rate"),
            "char": test.get("char_accuracy"), "steps": r.get("steps"), "minutes": r.get("minutes"),
            "stop": r.get("stop"),
            "kb": weights_kb(st.folder) if st.record else None,
            "why": st.why,
        })  # fmt: skip
    import pandas as pd

    table = pd.DataFrame(rows).astype({"steps": "Int64"})  # missing entries leave gaps, not 8750.000
    formats = (".0f", ".0f", ".3f", ".3f", ".0f", ".1f", ".0f", ".0f")  # per column
    click.echo(table.to_markdown(index=False, floatfmt=formats))


@zoo.command("build")
@zoo_argument
@click.option("--only", multiple=True, help="Entry names or shell patterns (repeatable; default all).")
@click.option("--retrain", is_flag=True, help="Train the selected entries again even where current.")
@click.option(
    "--executor", type=click.Choice(["local", "dask", "inline"]), default="inline", show_default=True,
    help="inline: one entry after another in this process; local/dask: --workers at a time.",
)  # fmt: skip
@click.option("--scheduler", help="dask.distributed scheduler address (with --executor dask).")
@click.option("--workers", type=int, default=1, show_default=True, help="Entries trained at a time.")
def build_cmd(zoo_dir: Path, only: tuple[str, ...], retrain: bool, executor: str, scheduler: str | None,
              workers: int) -> None:  # fmt: skip
    """Train the missing, stale or broken entries of ZOO_DIR (resumable: finished entries stay)."""
    from synthgap.grid.runner import make_executor
    from synthgap.zoo import build_entry, load_zoo, status, write_index

    if workers < 1:
        raise UsageError(f"workers: must be >= 1, got {workers}", field="workers")
    z = load_zoo(zoo_dir)
    todo = []
    for entry in z.select(list(only)):
        st = status(z, entry)
        if st.state == "current" and not retrain:
            click.echo(f"{st.line()}: kept")
            continue
        click.echo(f"{st.line()}: to train")
        todo.append(entry)
    failed = 0
    with make_executor(executor, workers=workers, scheduler=scheduler) as pool:
        futures = {pool.submit(build_entry, z, e, progress=executor == "inline"): e for e in todo}
        for future in as_completed(futures):
            entry = futures[future]
            try:
                r = future.result()
            except Exception as e:  # noqa: BLE001 - reported per entry; the others go on
                failed += 1
                click.echo(f"{entry.name}: failed: {type(e).__name__}: {e}", err=True)
                continue
            click.echo(f"{entry.name}: {r['steps']} steps, {r['minutes']} min ({r['stop']}), clean "
                       f"{r['test']['recognition_rate']:.3f} on {r['test']['n']}")  # fmt: skip
    write_index(z)
    if failed:
        raise UsageError(f"zoo: {failed} of {len(todo)} entries failed to build", field="zoo")
