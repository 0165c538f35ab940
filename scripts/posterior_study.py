"""How the ABC likelihood (pixels or letter counts) and tempering change the importance-sampled
posterior of a converged proposal.

Usage: .venv/bin/python scripts/posterior_study.py CHECKPOINT OUT_DIR [-n 100] [-M 100] [--seed 777]
           [--targets none,0.05,0.1,0.2] [--noise-sigma 0] [--likelihood pixels|letters]

``letters``: the kernel width is fitted (``fit_epsilon``) on 50 held-aside captchas
(stream ``coordinate_seed("posterior-fit", seed)``, as ``synthgap posterior`` does), never the studied ones.

On n fresh captchas of the checkpoint's own style and variant (stream ``--seed``, which training
never uses: its streams are 63-bit hashes of its seed), optionally with white noise of
``--noise-sigma``, and for each ESS target (``none``: the paper's untempered sigma = 1): median
ESS / M, median tempering exponent, coverage of the 50 % and 90 % credible sets, posterior-mode
recognition beside the network's own arg-max, and ms per captcha. Writes OUT_DIR/study.csv and
study.md (with this command line).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthgap.calibration import credible_set_coverage
from synthgap.grid.spec import coordinate_seed
from synthgap.inference import fit_epsilon, generator_for, model_posteriors
from synthgap.metrics import fold
from synthgap.models.checkpoint import load_checkpoint


def study(
    ckpt: Path,
    n: int,
    m: int,
    seed: int,
    targets: list[float | None],
    noise_sigma: float,
    likelihood: str,
) -> pd.DataFrame:
    model = load_checkpoint(ckpt)
    gen = generator_for(model.meta)
    shown = generator_for({**model.meta, "overrides": {**(model.meta.get("overrides") or {}),
                                                       "noise_sigma": noise_sigma}})  # fmt: skip
    images, latents = shown.generate(n, seed)
    truth = fold([lat.text for lat in latents], gen.case_sensitive)
    argmax = np.mean(
        [p == t for p, t in zip(fold(model.predict(images), gen.case_sensitive), truth, strict=True)]
    )
    t0 = time.perf_counter()
    fit_seed = coordinate_seed("posterior-fit", seed)
    eps = fit_epsilon(model, gen, fit_seed) if likelihood == "letters" else None
    fit_s = time.perf_counter() - t0
    rows = []
    for target in targets:
        t0 = time.perf_counter()
        posts = model_posteriors(model, gen, images, m, seed, likelihood=likelihood, epsilon=eps,
                                 ess_target=target)  # fmt: skip
        ms = 1000 * (time.perf_counter() - t0) / n
        folded = [(fold(p.strings, gen.case_sensitive), p.probs) for p in posts]
        mode = [bool(strings) and strings[0] == t for (strings, _), t in zip(folded, truth, strict=True)]
        rows.append({
            "likelihood": likelihood if eps is None else f"letters, epsilon {eps:.3g} (fit {fit_s:.0f} s)",
            "ess_target": "none" if target is None else target, "n": n, "M": m,
            "noise_sigma": noise_sigma, "ess_over_M_median": np.median([p.ess / m for p in posts]),
            "beta_median": np.median([p.beta for p in posts]),
            "coverage50": credible_set_coverage(folded, truth, 0.5),
            "coverage90": credible_set_coverage(folded, truth, 0.9),
            "posterior_mode_recognition": np.mean(mode),
            "argmax_recognition": argmax, "ms_per_captcha": ms,
        })  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("-M", type=int, default=100)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--targets", default="none,0.05,0.1,0.2")
    ap.add_argument("--noise-sigma", type=float, default=0.0)
    ap.add_argument("--likelihood", choices=["pixels", "letters"], default="pixels")
    a = ap.parse_args()
    targets = [None if t == "none" else float(t) for t in a.targets.split(",")]
    df = study(a.checkpoint, a.n, a.M, a.seed, targets, a.noise_sigma, a.likelihood)
    a.out.mkdir(parents=True, exist_ok=True)
    tag = f"study-noise{a.noise_sigma:g}" + ("-letters" if a.likelihood == "letters" else "")
    df.to_csv(a.out / f"{tag}.csv", index=False)
    command = "python scripts/posterior_study.py " + " ".join(sys.argv[1:])
    (a.out / f"{tag}.md").write_text(f"`{command}`\n\n" + df.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(df.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
