"""Calibration of a breaker's confidence: is "90 % sure" right 90 % of the time?

Inputs are per-captcha confidences (the probability a posterior or classifier gives its top
string) and whether that top string was correct. All functions are pure; the reliability diagram
uses matplotlib's object API (no pyplot, no global backend), so it works headless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _check(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(confidence, np.float64)
    corr = np.asarray(correct, np.float64)
    if conf.ndim != 1 or conf.shape != corr.shape or conf.size == 0:
        raise ValueError(f"need two equal non-empty 1-D arrays, got {conf.shape} and {corr.shape}")
    if np.any(~np.isfinite(conf)) or np.any((conf < 0) | (conf > 1)):
        raise ValueError("confidences must lie in [0, 1]")
    if np.any((corr != 0) & (corr != 1)):
        raise ValueError("correct must be 0/1 or boolean")
    return conf, corr


def reliability_table(confidence, correct, n_bins: int = 15) -> pd.DataFrame:
    """Per equal-width confidence bin: count, mean confidence, accuracy (empty bins have NaN).

    Bin b holds confidences in (b/n, (b+1)/n]; confidence 0 goes to the first bin.
    """
    conf, corr = _check(confidence, correct)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    b = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(b, weights=conf, minlength=n_bins) / count
        acc = np.bincount(b, weights=corr, minlength=n_bins) / count
    return pd.DataFrame(
        {"lo": edges[:-1], "hi": edges[1:], "count": count, "confidence": mean_conf, "accuracy": acc}
    )


def expected_calibration_error(confidence, correct, n_bins: int = 15) -> float:
    """ECE = sum over bins of (bin share) * |accuracy - mean confidence|, equal-width bins."""
    return ece_from_table(reliability_table(confidence, correct, n_bins))


def brier_score(confidence, correct) -> float:
    """Mean squared error of the confidence as a forecast of correct (1) / incorrect (0)."""
    conf, corr = _check(confidence, correct)
    return float(np.mean((conf - corr) ** 2))


def true_string_nll(p_true, floor: float = 1e-9) -> float:
    """Mean -log p(true string).

    A posterior from M samples gives the truth probability exactly 0 when no sample spells it; the
    ``floor`` keeps the mean finite (it caps each term at -log floor, about 20.7 nats by default).
    """
    p = np.asarray(p_true, np.float64)
    if p.ndim != 1 or p.size == 0 or np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p_true must be a non-empty 1-D array of probabilities")
    return float(np.mean(-np.log(np.maximum(p, floor))))


def accuracy_at_coverage(
    confidence, correct, coverages: Sequence[float] = (0.5, 0.8, 0.9)
) -> dict[float, float]:
    """Selective prediction: accuracy on the most confident ``ceil(c * n)`` captchas, per coverage c.

    Ties in confidence are broken by input order (stable sort), so the result is deterministic.
    """
    conf, corr = _check(confidence, correct)
    order = np.argsort(-conf, kind="stable")
    out = {}
    for c in coverages:
        if not 0 < c <= 1:
            raise ValueError(f"coverage must be in (0, 1], got {c}")
        k = int(np.ceil(c * conf.size - 1e-9))
        out[float(c)] = float(np.mean(corr[order[:k]]))
    return out


def credible_set(strings: Sequence[str], probs, level: float = 0.9) -> tuple[str, ...]:
    """The fewest most probable strings whose total probability reaches ``level``.

    For a posterior truncated to its top k whose mass never reaches ``level``, all retained strings.
    """
    if not 0 < level <= 1:
        raise ValueError(f"level must be in (0, 1], got {level}")
    p = np.asarray(probs, np.float64)
    order = np.argsort(-p, kind="stable")
    k = int(np.searchsorted(np.cumsum(p[order]), level - 1e-12)) + 1
    return tuple(strings[i] for i in order[:k])


def credible_set_coverage(
    posteriors: Iterable[tuple[Sequence[str], Sequence[float]]], truths: Iterable[str], level: float = 0.9
) -> float:
    """Share of captchas whose ``level`` credible set contains the true string (ideal: ``level``)."""
    hits = [truth in credible_set(s, p, level) for (s, p), truth in zip(posteriors, truths, strict=True)]
    if not hits:
        raise ValueError("no posteriors given")
    return float(np.mean(hits))


NOMINAL = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # credible levels of a coverage curve


def coverage_counts(
    posteriors: Iterable[tuple[Sequence[str], Sequence[float]]], truths: Iterable[str], levels=NOMINAL
) -> dict[str, list[float]]:
    """Per nominal level: how many captchas' credible sets contain the truth, and the sets' summed
    mass. What a coverage curve needs, small enough to store in a table cell, summable over cells.

    The smallest set reaching a level over discrete strings holds more than the level (at 0.1 it is
    the top string, often 0.9 of the mass), so a calibrated posterior covers as often as its sets'
    mean *mass* says, not their nominal level: the curve is coverage against mass."""
    posteriors, truths = list(posteriors), list(truths)
    if not posteriors or len(posteriors) != len(truths):
        raise ValueError(f"need as many posteriors as truths (> 0), got {len(posteriors)} and {len(truths)}")
    probs = [dict(zip(s, p, strict=True)) for s, p in posteriors]
    hits, mass = [], []
    for a in levels:
        sets = [credible_set(s, p, a) for s, p in posteriors]
        hits.append(sum(t in cs for cs, t in zip(sets, truths, strict=True)))
        mass.append(float(sum(sum(pr[s] for s in cs) for cs, pr in zip(sets, probs, strict=True))))
    return {"level": [float(a) for a in levels], "hits": hits, "mass": mass, "n": len(truths)}


def coverage_table(counts: Iterable[dict[str, list[float]]]) -> pd.DataFrame:
    """Sum ``coverage_counts`` of several cells: per nominal level, n, coverage and mean set mass."""
    counts = list(counts)
    if not counts:
        raise ValueError("no coverage counts given")
    levels = counts[0]["level"]
    if any(c["level"] != levels for c in counts):
        raise ValueError("coverage counts at different nominal levels cannot be summed")
    hits, mass = (np.sum([np.asarray(c[k], np.float64) for c in counts], axis=0) for k in ("hits", "mass"))
    n = sum(int(c["n"]) for c in counts)
    return pd.DataFrame({"level": levels, "n": n, "coverage": hits / n, "mass": mass / n})


def calibration_summary(confidence, correct, p_true, coverages=(0.5, 0.8, 0.9)) -> dict[str, float]:
    """The calibration columns of a results table: mean confidence, ECE, Brier, NLL of the truth
    and accuracy on the most confident 50/80/90 %."""
    conf, corr = _check(confidence, correct)
    acc = accuracy_at_coverage(conf, corr, coverages)
    return {
        "mean_confidence": float(np.mean(conf)),
        "ece": expected_calibration_error(conf, corr),
        "brier": brier_score(conf, corr),
        "nll_true": true_string_nll(p_true),
        **{f"acc_at_{round(100 * c)}": a for c, a in acc.items()},
    }


def reliability_counts(confidence, correct, n_bins: int = 15) -> dict[str, list[float]]:
    """Per-bin count and sums of confidence and correctness: what a reliability diagram needs,
    small enough to store in a table cell, and summable over cells."""
    t = reliability_table(confidence, correct, n_bins)
    return {
        "count": t["count"].astype(int).tolist(),
        "confidence_sum": (t["confidence"].fillna(0) * t["count"]).tolist(),
        "correct_sum": (t["accuracy"].fillna(0) * t["count"]).tolist(),
    }


def table_from_counts(counts: Iterable[dict[str, list[float]]]) -> pd.DataFrame:
    """Sum ``reliability_counts`` of several cells into one ``reliability_table``."""
    counts = list(counts)
    if not counts:
        raise ValueError("no reliability counts given")
    total = {k: np.sum([np.asarray(c[k], np.float64) for c in counts], axis=0) for k in counts[0]}
    n_bins = len(total["count"])
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    with np.errstate(invalid="ignore"):
        conf = total["confidence_sum"] / total["count"]
        acc = total["correct_sum"] / total["count"]
    return pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": total["count"].astype(int),
                         "confidence": conf, "accuracy": acc})  # fmt: skip


def ece_from_table(t: pd.DataFrame) -> float:
    """ECE of a reliability table (the same number ``expected_calibration_error`` gives)."""
    full = t["count"] > 0
    gap = np.abs(t["accuracy"][full] - t["confidence"][full])
    return float(np.sum(t["count"][full] * gap) / t["count"].sum())


def reliability_diagram(confidence, correct, n_bins: int = 15, title: str | None = None) -> Figure:
    """Accuracy per confidence bin against the diagonal, with a histogram of confidences below."""
    conf, corr = _check(confidence, correct)
    return plot_reliability(reliability_table(conf, corr, n_bins), title)


def plot_reliability(t: pd.DataFrame, title: str | None = None, ax_pair=None) -> Figure:
    """Draw a reliability table: accuracy bars against the diagonal, bin counts below.

    ``ax_pair`` (top, bottom axes) draws into an existing figure, e.g. one panel of a grid.
    """
    n_bins = len(t)
    if ax_pair is None:
        fig = Figure(figsize=(4.2, 5.2), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    else:
        top, bottom = ax_pair
        fig = top.figure
    width = 1.0 / n_bins
    top.bar(t["lo"], t["accuracy"].fillna(0), width=width, align="edge", color="tab:blue",
            edgecolor="white", label="accuracy")  # fmt: skip
    top.bar(t["lo"], (t["confidence"] - t["accuracy"]).fillna(0), bottom=t["accuracy"].fillna(0),
            width=width, align="edge", color="tab:red", alpha=0.3, label="gap")  # fmt: skip
    top.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    top.set(ylim=(0, 1), ylabel="accuracy", title=title)
    top.text(0.03, 0.93, f"ECE = {ece_from_table(t):.3f}", transform=top.transAxes)
    top.legend(loc="lower right", fontsize=8)
    bottom.bar(t["lo"], t["count"], width=width, align="edge", color="tab:gray", edgecolor="white")
    bottom.set(xlim=(0, 1), xlabel="confidence", ylabel="count")
    return fig


def plot_coverage(tables: dict[str, pd.DataFrame], title: str | None = None, ax=None) -> Figure:
    """Coverage of credible sets against their nominal level, a colour per ``tables`` key (a
    ``coverage_table`` each, labelled with its captcha count): solid, how often the sets held the
    truth; dotted, the probability they claimed (their mean mass). A calibrated posterior's two
    lines coincide; a solid line under its dotted one is overconfidence. The mass is what to
    compare with, not the level: the smallest set over discrete strings overshoots its level."""
    if ax is None:
        fig = Figure(figsize=(4.2, 4.0), layout="constrained")
        ax = fig.subplots()
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, label="nominal level")
    for i, (name, t) in enumerate(tables.items()):
        colour = f"C{i}"
        ax.plot(t["level"], t["coverage"], marker="o", ms=3, color=colour,
                label=f"{name} (n={int(t['n'].iloc[0])}): coverage")  # fmt: skip
        ax.plot(t["level"], t["mass"], ls=":", color=colour, label=f"{name}: claimed mass")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="nominal level of the credible set", ylabel="probability",
           title=title)  # fmt: skip
    ax.legend(loc="lower right", fontsize=6)
    return fig
