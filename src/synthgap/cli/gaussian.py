"""``synthgap gaussian``: the Gaussian misspecification experiment (paper Section IV-A, Figure 3)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.io import atomic_dir


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New folder.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "-M", "M", type=int, default=1000, show_default=True, help="Importance samples per observation."
)
@click.option("--n-test", type=int, default=100, show_default=True, help="Test observations per mu.")
@click.option("--steps", type=int, default=2000, show_default=True, help="Proposal training steps.")
@click.option("--diag", is_flag=True, help="Diagonal proposal covariance (default: full).")
def gaussian(out, seed, M, n_test, steps, diag) -> None:  # noqa: N803
    """Train q(x|y) on model samples, then importance-sample for data drawn away from the prior.

    Writes table.csv, table.md, figure.png and meta.json to OUT.
    """
    import torch

    from synthgap import gaussian as g
    from synthgap import versions

    for name, value in (("M", M), ("n_test", n_test), ("steps", steps)):
        if value < 1:
            raise UsageError(f"{name}: must be >= 1, got {value}", field=name)
    with atomic_dir(out) as tmp:
        torch.set_num_threads(1)  # tiny network: one thread is fastest and makes runs bit-identical
        net, loss = g.train_proposal(seed, steps=steps, full=not diag)
        table = g.evaluate(net, seed, M=M, n_test=n_test)
        table.to_csv(tmp / "table.csv", index=False, float_format="%.6g")
        (tmp / "table.md").write_text(table.to_markdown(index=False, floatfmt=".4g") + "\n")
        g.figure(net, seed, M=M).savefig(tmp / "figure.png", dpi=120)
        meta = {
            "command": f"synthgap gaussian --out {out} --seed {seed} -M {M} --n-test {n_test} --steps {steps}"
            + (" --diag" if diag else ""),
            "seed": seed, "M": M, "n_test": n_test, "steps": steps,
            "proposal_covariance": "diag" if diag else "full",
            "final_training_loss": loss, "model": {"prior_var": g.PRIOR_VAR, "noise_var": g.NOISE_VAR},
            "true_data": {"mus": g.MUS, "var": g.TRUE_VAR}, "versions": versions(),
        }  # fmt: skip
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    click.echo(table.to_markdown(index=False, floatfmt=".4g"))
    click.echo(f"wrote {out}")
