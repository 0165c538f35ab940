"""The work of a grid cell, done by the models layer: train a run, score a cell's test set.

Clean and real cells also store ``correct_bits``: one character per test captcha, "1" where the
whole string was right, in test-set order (real: sorted file names), so ``synthgap gap`` can
bootstrap intervals from the cells table alone; real cells store ``real_skipped``, the files the
real loader left out.

Module-level functions so that every executor (process pool, dask) can pickle them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthgap.grid.spec import CLEAN, REAL, Cell, Run, coordinate_seed


def train_run(run: Run, out_dir: Path, zoo: str | None = None) -> Path:
    """Train ``run`` on fresh samples of its style and variant; the checkpoint goes in out_dir.

    A run that is an entry of ``zoo`` is trained as the zoo trains it (its settings, to a plateau),
    any other with the grid's budget. A peer row (``peer:NAME``) is not trained: its "checkpoint"
    is peer.json, the peer's config with the style's charset it reads with."""
    from synthgap.models.training import train
    from synthgap.peers import create_peer, peer_name

    if peer_name(run.model) is not None:
        from synthgap.generators import create_generator
        from synthgap.io import atomic_write_bytes

        peer = create_peer(peer_name(run.model), charset=create_generator(run.style).config.charset)
        path = Path(out_dir) / "peer.json"
        atomic_write_bytes(path, (json.dumps(peer.config(), indent=1) + "\n").encode())
        return path

    entry = None
    if zoo is not None:
        from synthgap.zoo import load_zoo

        entry = load_zoo(zoo).find(run)
    budget = entry.train_kwargs() if entry else {"steps": run.budget.steps, "minutes": run.budget.minutes}
    return train(
        Path(out_dir) / "checkpoint", style=run.style, elastic=run.elastic, model=run.model, size=run.size,
        seed=run.train_seed, desc=f"train {run.style} {run.variant} {run.model}", **budget,
    )  # fmt: skip


def case_rule(cell: Cell) -> bool:
    """Case-sensitive scoring only when both the training and the test style are case-sensitive."""
    from synthgap.generators import create_generator

    return (
        create_generator(cell.run.style).case_sensitive and create_generator(cell.test_style).case_sensitive
    )


def load_model(checkpoint: Path):
    """A trained checkpoint folder, or a peer from the peer.json a peer row's train_run wrote."""
    from synthgap.models.checkpoint import load_checkpoint
    from synthgap.peers import create_peer

    checkpoint = Path(checkpoint)
    if checkpoint.name == "peer.json":
        config = json.loads(checkpoint.read_text())
        return create_peer(config["peer"], charset=config["charset"])
    return load_checkpoint(checkpoint)


def evaluate_cell(cell: Cell, checkpoint: Path) -> dict[str, Any]:
    """Recognition and character accuracy on the cell's test set; breaking time on clean cells only
    (it is a property of the model, and timing every cell would triple the grid's cost); the model's
    calibration on the whole set, and the importance-sampled posterior's on a seeded subset."""
    from synthgap.grid.testsets import make_test_set
    from synthgap.models.evaluation import evaluate

    model = load_model(checkpoint)
    test = make_test_set(cell)
    case_sensitive = case_rule(cell)
    scores = evaluate(model, test.images, test.texts, case_sensitive, timing=cell.perturbation == CLEAN)
    keep = ("n", "recognition_rate", "char_accuracy", "ms_per_captcha_batch1", "ms_per_captcha_batch256")
    metrics = {k: scores[k] for k in keep if k in scores}
    metrics["torch_threads"] = torch.get_num_threads()  # the timings depend on it
    if cell.perturbation == REAL:
        metrics["real_path"] = str(cell.real_path)
        metrics["real_skip_look"] = cell.real_skip_look
        metrics["real_skipped"] = test.skipped
    if cell.perturbation in (CLEAN, REAL):  # per-captcha outcomes, for `synthgap gap` intervals
        metrics["correct_bits"] = "".join("1" if r["correct"] else "0" for r in scores["predictions"])
    if hasattr(model, "log_prob"):  # trained models; peers and user breakers give strings only
        pred = [r["prediction"] for r in scores["predictions"]]
        right = np.array([r["correct"] for r in scores["predictions"]])
        metrics.update(model_calibration(model, test.images, test.texts, pred, case_sensitive))
        if cell.posterior.size > 0 and model.meta.get("style"):  # a posterior needs the training prior
            metrics.update(posterior_calibration(model, cell, test.images, test.texts, right, case_sensitive,
                                                 checkpoint))  # fmt: skip
    return metrics


def model_calibration(model, images, texts, pred: list[str], case_sensitive: bool) -> dict[str, Any]:
    """The model's own confidence in its predictions ``pred`` (``model.predict`` of ``images``, as
    the cell's evaluation made them): calibration columns and reliability counts.

    ``nll_true`` is -log of the model's probability of the true string (in the model's case when
    scoring folds case).
    """
    from synthgap import calibration
    from synthgap.metrics import correct

    conf = np.exp(model.log_prob(images, pred))  # = model.confidence(images), without predicting again
    ok = correct(pred, texts, case_sensitive)
    if not case_sensitive:
        lower = model.charset == model.charset.lower()
        texts = [t.lower() if lower else t for t in texts]
    p_true = conf.copy()  # the prediction's probability where it is the truth: scored once
    wrong = np.flatnonzero([p != t for p, t in zip(pred, texts, strict=True)])
    p_true[wrong] = np.exp(model.log_prob(images[wrong], [texts[i] for i in wrong]))
    return {
        **calibration.calibration_summary(conf, ok, p_true),
        "reliability": json.dumps(calibration.reliability_counts(conf, ok)),
    }


def posterior_subset(cell: Cell, n: int) -> np.ndarray:
    """Indices of the captchas that get a posterior: the same for every run scored on this test set."""
    k = min(cell.posterior.size, n)
    rng = np.random.default_rng(coordinate_seed("posterior", cell.test_seed))
    return np.sort(rng.choice(n, size=k, replace=False))


_FITTED: dict[tuple, float] = {}  # letters likelihood: the width fitted for a run, in this process


def posterior_calibration(
    model, cell: Cell, images, texts, right: np.ndarray, case_sensitive: bool, checkpoint: Path
) -> dict[str, Any]:
    """``is_*`` columns: the importance-sampled posterior (the model as proposal, its training
    generator as prior) on a seeded subset: MAP accuracy, confidence, calibration, 90 % credible
    set coverage, ESS, and the share of captchas where no sample was possible under the prior.
    ``right``: whether the network's arg-max read each test captcha (the cell's evaluation)."""
    from synthgap import calibration
    from synthgap.inference import fit_epsilon, generator_for, model_posteriors
    from synthgap.metrics import fold

    idx = posterior_subset(cell, len(texts))
    spec = cell.posterior
    gen = generator_for(model.meta)
    t0 = time.perf_counter()
    epsilon = spec.epsilon
    if spec.likelihood == "letters" and epsilon is None:  # the run's width: every cell fits the same
        key = (str(checkpoint), cell.run.id, spec.fit_n)
        if key not in _FITTED:  # a worker scoring several cells of a run fits once
            _FITTED[key] = fit_epsilon(
                model, gen, coordinate_seed("posterior-fit", cell.run.id), n=spec.fit_n
            )
        epsilon = _FITTED[key]
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    posts = model_posteriors(
        model, gen, images[idx], spec.M, coordinate_seed("posterior", cell.id), likelihood=spec.likelihood,
        sigma=spec.sigma, dim=spec.dim, epsilon=epsilon, ess_target=spec.ess_target,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    truths = fold([texts[i] for i in idx], case_sensitive)
    conf, ok, p_true = [], [], []
    for post, truth in zip(posts, truths, strict=True):
        folded = fold(post.strings, case_sensitive)
        conf.append(post.confidence)
        ok.append(post.map is not None and folded[0] == truth)
        p_true.append(min(1.0, float(sum(p for s, p in zip(folded, post.probs, strict=True) if s == truth))))
    folded_posts = [(fold(p.strings, case_sensitive), p.probs) for p in posts]
    summary = calibration.calibration_summary(conf, ok, p_true)
    coverage = calibration.coverage_counts(folded_posts, truths)  # NOMINAL holds 0.5 and 0.9
    hits = dict(zip(coverage["level"], coverage["hits"], strict=True))
    return {
        "is_n": len(idx),
        "is_M": spec.M,
        "is_recognition_rate": float(np.mean(ok)),
        "is_argmax_recognition": float(np.mean(right[idx])),  # the network's own, on the same subset
        **{f"is_{k}": v for k, v in summary.items()},
        "is_credible90_coverage": hits[0.9] / coverage["n"],
        "is_credible50_coverage": hits[0.5] / coverage["n"],
        "is_coverage": json.dumps(coverage),
        "is_reliability": json.dumps(calibration.reliability_counts(conf, ok)),
        "is_ess_mean": float(np.mean([p.ess for p in posts])),
        "is_ess_frac_median": float(np.median([p.ess / spec.M for p in posts])),
        "is_beta_median": float(np.median([p.beta for p in posts])),
        "is_empty_rate": float(np.mean([not p.strings for p in posts])),
        "is_ms_per_captcha": 1000.0 * seconds / max(1, len(idx)),
        **({"is_epsilon": epsilon, "is_fit_seconds": fit_seconds} if spec.likelihood == "letters" else {}),
    }
