"""``synthgap posterior``: the importance-sampled posterior over strings of given captcha images.

The checkpoint is the proposal, the generator it was trained on the prior, and an ABC likelihood
compares renders to the image: the paper's, on pixels (Le et al. 2017, Section III and Figure 4),
or one on the model's letter counts whose width is fitted on held-aside synthetic captchas.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import numpy as np

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.io import atomic_dir


@cli.command()
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-M", "m", type=int, default=100, show_default=True, help="Importance samples per image.")
@click.option(
    "--likelihood", type=click.Choice(["pixels", "letters"]), default="pixels", show_default=True,
    help="pixels: the paper's ABC on random projections; letters: a kernel on the model's letter counts.",
)  # fmt: skip
@click.option("--sigma", type=float, default=1.0, show_default=True, help="pixels: ABC sigma (0..255).")
@click.option(
    "--epsilon", type=float,
    help="letters: kernel width (default: the letter counts' spread under the rendering nuisance, "
    "measured on 50 held-aside synthetic captchas).",
)  # fmt: skip
@click.option(
    "--ess-target", type=float,
    help="Temper the likelihood per captcha until ESS / M reaches this fraction (default: untempered).",
)  # fmt: skip
@click.option("--dim", type=int, default=500, show_default=True, help="Random projections of the likelihood.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top-k", type=int, default=5, show_default=True, help="Strings kept per image.")
@click.option("--style", help="Prior to use (default: the style and variant the checkpoint was trained on).")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New folder for the results.")
def posterior(checkpoint, images, m, likelihood, sigma, epsilon, ess_target, dim, seed, top_k, style, threads,
              out) -> None:  # fmt: skip
    """Posterior over the strings shown in IMAGES, with CHECKPOINT as proposal.

    Writes OUT/posterior.csv (per image and rank: string, probability, ESS, log evidence, the
    model's own prediction and confidence), OUT/posterior.png (a panel like the paper's Figure 4)
    and OUT/run.json (the command's settings). Images of any size and mode are read as real sets
    are (gray, resized to 200x50): real captchas come in their site's size.
    """
    import torch

    from synthgap.grid.spec import coordinate_seed
    from synthgap.inference import fit_epsilon, generator_for, model_posteriors
    from synthgap.inference.figures import figure4_panel, posterior_table
    from synthgap.models.checkpoint import load_checkpoint
    from synthgap.realdata import read_image

    for name, value, lo in (("M", m, 1), ("dim", dim, 1), ("top-k", top_k, 1), ("threads", threads, 1)):
        if value < lo:
            raise UsageError(f"{name}: must be >= {lo}, got {value}", field=name)
    if not sigma > 0:
        raise UsageError(f"sigma: must be > 0, got {sigma}", field="sigma")
    if epsilon is not None and not epsilon > 0:
        raise UsageError(f"epsilon: must be > 0, got {epsilon}", field="epsilon")
    if ess_target is not None and not 0 < ess_target <= 1:
        raise UsageError(f"ess-target: must be in (0, 1], got {ess_target}", field="ess-target")
    if Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())):
        raise UsageError(f"out: {out} already exists and is not empty", field="out")
    pixels = np.stack([read_image(p) for p in images])
    torch.set_num_threads(threads)
    model = load_checkpoint(checkpoint)
    gen = generator_for(model.meta, style)
    names = [Path(p).name for p in images]
    if len(set(names)) < len(names):  # same file name in several folders: keep the paths apart
        names = [str(p) for p in images]
    pred, conf = model.confidence(pixels)
    if likelihood == "letters" and epsilon is None:  # held-aside captchas: a 63-bit stream of their own
        epsilon = fit_epsilon(model, gen, coordinate_seed("posterior-fit", seed))
    t0 = time.perf_counter()
    posts = model_posteriors(model, gen, pixels, m, seed, likelihood=likelihood, sigma=sigma, dim=dim,
                             epsilon=epsilon, top_k=top_k, ess_target=ess_target)  # fmt: skip
    ms = 1000.0 * (time.perf_counter() - t0) / len(pixels)
    table = posterior_table(names, posts, pred, conf)
    settings = {"checkpoint": str(Path(checkpoint).resolve()), "images": [str(p) for p in images], "M": m,
                "likelihood": likelihood, "sigma": sigma, "epsilon": epsilon,
                "ess_target": ess_target, "dim": dim, "seed": seed, "top_k": top_k,
                "style": gen.name, "variant": gen.variant, "ms_per_captcha": ms,
                "argv": sys.argv[1:]}  # fmt: skip
    with atomic_dir(Path(out)) as tmp:
        table.to_csv(tmp / "posterior.csv", index=False)
        figure4_panel(pixels, names, table, top_k).savefig(tmp / "posterior.png", dpi=110)
        (tmp / "run.json").write_text(json.dumps(settings, indent=1) + "\n")
    click.echo(table.to_markdown(index=False, floatfmt=".3f"))
    click.echo(f"{ms:.0f} ms per captcha at M={m}; wrote {out}/")
