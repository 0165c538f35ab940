"""How far the letter-count summary of a checkpoint moves under its prior's rendering nuisance,
against how far one wrong letter moves it: what the letters likelihood's width has to separate.

Usage: .venv/bin/python scripts/count_spread.py CHECKPOINT [CHECKPOINT ...] [-n 10] [--renders 8]
           [--seed 77] [--test-variant plain|own]

For each checkpoint: the fitted width epsilon (``fit_epsilon``, 50 held-aside captchas of its
prior, stream 5), then, on n captchas of its style (``--test-variant plain``: the plain generator,
as the grids' clean cells; stream ``--seed``), the distance from each captcha's counts to those of
``--renders`` fresh renders from the checkpoint's prior of its true text, and of the text with its
last letter changed. Prints a markdown table (median and 90th percentile of each).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from synthgap.generators import create_generator
from synthgap.inference import LetterCountLikelihood, fit_epsilon, generator_for
from synthgap.models.checkpoint import load_checkpoint


def spread(path: Path, n: int, renders: int, seed: int, test_variant: str) -> dict:
    model = load_checkpoint(path)
    prior = generator_for(model.meta)
    test = create_generator(prior.name) if test_variant == "plain" else prior
    eps = fit_epsilon(model, prior, 5)
    lik, rng = LetterCountLikelihood(model, eps), np.random.default_rng([seed, 1])
    images, latents = test.generate(n, seed)
    true_d, wrong_d = [], []
    for img, lat in zip(images, latents, strict=True):
        wrong = lat.text[:-1] + ("a" if lat.text[-1] != "a" else "b")
        for text, out in ((lat.text, true_d), (wrong, wrong_d)):
            r = np.stack([prior.render(prior.sample_latent(rng, text=text)) for _ in range(renders)])
            out.append(np.sqrt(lik.distances(img, r)))
    t, w = np.concatenate(true_d), np.concatenate(wrong_d)
    return {"checkpoint": path.name, "epsilon": eps, "true median": np.median(t),
            "true p90": np.quantile(t, 0.9), "one-letter-off median": np.median(w),
            "one-letter-off p10": np.quantile(w, 0.1)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+", type=Path)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--renders", type=int, default=8)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--test-variant", choices=["plain", "own"], default="plain")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = [spread(p, args.n, args.renders, args.seed, args.test_variant) for p in args.checkpoints]
    print("    " + " ".join(["python scripts/count_spread.py", *sys.argv[1:]]) + "\n")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
