"""The synthetic-to-real gap of a grid: clean synthetic recognition minus real recognition.

For every style with a ``[real]`` set, every model, size and variant: recognition on the style's
clean synthetic test set and on the real set (means over the grid's seeds), and their difference
in points with a bootstrap 95 % interval. Real sets are small (tens to a thousand captchas), so
the interval matters: each replicate resamples the captchas of both test sets with replacement
(the same draw for every seed, as every seed was scored on the same images) from the
``correct_bits`` that ``evaluate_cell`` stores for clean and real cells. A second table compares
elastic with plain training on the real set, paired over the same real captchas.

The same tables can be made from loose ``synthgap eval`` / ``eval-peer`` reports instead of a grid
(:func:`cells_from_evals`): then a checkpoint trained on real images is a row too (variant
``real``: its real number is on its held-out part), and peers are rows with a real number only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from synthgap.errors import UsageError

KEYS = ["style", "model", "size", "variant"]


def _bits(column: pd.Series) -> np.ndarray | None:
    """Rows of "0101..." strings (one per seed) -> bool (seeds, n); None if any is missing/uneven."""
    strings = column.tolist()
    if any(not isinstance(s, str) or not s for s in strings) or len({len(s) for s in strings}) != 1:
        return None
    return np.array([np.frombuffer(s.encode(), np.uint8) == ord("1") for s in strings])


def _replicate_rates(bits: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Mean over seeds of the recognition rate under each bootstrap draw: (B,).

    ``draws`` (B, n) holds how often each captcha is drawn in a replicate (multinomial counts)."""
    return (draws @ bits.T.astype(float)).mean(axis=1) / bits.shape[1]


def _draws(rng: np.random.Generator, n: int, boot: int) -> np.ndarray:
    return rng.multinomial(n, np.full(n, 1.0 / n), size=boot)


def _interval(reps: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return float(lo), float(hi)


def _rows(df: pd.DataFrame, family: str) -> pd.DataFrame:
    return df[df["family"] == family]


def cells_from_evals(folder: Path) -> pd.DataFrame:
    """Grid-cell-like rows (style, model, size, variant, seed, family, n, recognition_rate,
    correct_bits) from every eval report ``*.json`` under ``folder`` with its per-captcha ``.csv``.

    A model's report on clean synthetic images is a ``clean`` cell (reports on shifted or perturbed
    ones are left out), on a real folder a ``real`` cell; the
    style of a real-trained checkpoint is the one its synthetic report used. A peer's report is a
    ``real`` cell of model ``peer:NAME``, variant ``open`` or ``restricted``.
    """
    reports = []
    for path in sorted(Path(folder).rglob("*.json")):
        report = json.loads(path.read_text())
        if "recognition_rate" not in report or not ("training" in report or "peer" in report):
            continue
        if report.get("overrides") or report.get("perturbation"):  # a shifted set is not the clean one
            continue
        table = path.with_suffix(".csv")
        if not table.exists():
            raise UsageError(f"gap: {table} is missing (eval writes it; eval-peer with --predictions)",
                             field="dir")  # fmt: skip
        bits = "".join("1" if c == "True" else "0" for c in pd.read_csv(table)["correct"].astype(str))
        reports.append((path, report, bits))
    styles: dict[str, str] = {}  # checkpoint -> style of its synthetic report
    for _, report, _ in reports:
        if "training" in report and "style" in report and "real" not in report:
            styles.setdefault(report["checkpoint"], report["style"])
    rows = []
    for path, report, bits in reports:
        family = "real" if "real" in report else "clean"
        if "peer" in report:
            key = dict(style=report["style"], model=f"peer:{report['peer']}", size="-", seed=0,
                       variant="restricted" if report["charset"] else "open")  # fmt: skip
        else:
            t = report["training"]
            style = t["style"] or styles.get(report["checkpoint"])
            if style is None:
                raise UsageError(f"gap: {path}: a real-trained checkpoint needs a synthetic report too",
                                 field="dir")  # fmt: skip
            key = dict(
                style=style, model=report["model"], size=t["size"], seed=t["seed"], variant=t["variant"]
            )
        rows.append(dict(key, family=family, n=report["n"], recognition_rate=report["recognition_rate"],
                         correct_bits=bits, source=str(path.relative_to(folder))))  # fmt: skip
    if not rows:
        raise UsageError(f"gap: no eval reports (*.json with their .csv) under {folder}", field="dir")
    return pd.DataFrame(rows)


def gap_table(df: pd.DataFrame, boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per style x model x size x variant with a real set (empty frame if none).

    Columns: ``seeds``, ``n_synthetic``, ``n_real``, ``synthetic`` and ``real`` (recognition,
    0..1), ``gap_points`` (100 x (synthetic - real)) and its bootstrap interval ``gap_lo`` /
    ``gap_hi`` (NaN where per-captcha outcomes are missing, e.g. cells stored by older code).
    """
    real = _rows(df, "real")
    if real.empty:
        return pd.DataFrame(columns=KEYS + ["seeds", "n_synthetic", "n_real", "synthetic", "real",
                                           "gap_points", "gap_lo", "gap_hi"])  # fmt: skip
    clean = _rows(df, "clean")
    rng = np.random.default_rng(seed)
    out = []
    for key, r in real.groupby(KEYS, sort=True):
        r = r.sort_values("seed")
        c = clean[(clean[KEYS] == pd.Series(key, index=KEYS)).all(axis=1)].sort_values("seed")
        row = dict(zip(KEYS, key, strict=True), seeds=len(r), n_real=int(r["n"].iloc[0]),
                   real=float(r["recognition_rate"].mean()), n_synthetic=np.nan, synthetic=np.nan,
                   gap_points=np.nan, gap_lo=np.nan, gap_hi=np.nan)  # fmt: skip
        if c["seed"].tolist() == r["seed"].tolist():  # the same breakers scored on both sets
            row.update(n_synthetic=int(c["n"].iloc[0]), synthetic=float(c["recognition_rate"].mean()))
            row["gap_points"] = 100.0 * (row["synthetic"] - row["real"])
            rb, cb = (_bits(t["correct_bits"]) if "correct_bits" in t else None for t in (r, c))
            if rb is not None and cb is not None:
                reps = 100.0 * (
                    _replicate_rates(cb, _draws(rng, cb.shape[1], boot))
                    - _replicate_rates(rb, _draws(rng, rb.shape[1], boot))
                )
                row["gap_lo"], row["gap_hi"] = _interval(reps)
        out.append(row)
    cols = KEYS + ["seeds", "n_synthetic", "n_real", "synthetic", "real", "gap_points", "gap_lo", "gap_hi"]
    return pd.DataFrame(out)[cols]


def elastic_vs_plain(df: pd.DataFrame, boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Real recognition of elastic minus plain training, in points, with a paired bootstrap
    interval (the same real captchas resampled for both); rows where both variants exist."""
    real = _rows(df, "real")
    cols = ["style", "model", "size", "plain", "elastic", "gain_points", "gain_lo", "gain_hi"]
    rng = np.random.default_rng([seed, 1])
    out = []
    for key, r in real.groupby(["style", "model", "size"], sort=True):
        p, e = r[r["variant"] == "plain"], r[r["variant"] == "elastic"]
        if p.empty or e.empty:
            continue
        plain, elastic = float(p["recognition_rate"].mean()), float(e["recognition_rate"].mean())
        row = dict(zip(["style", "model", "size"], key, strict=True), plain=plain, elastic=elastic)
        row.update(gain_lo=np.nan, gain_hi=np.nan)
        row["gain_points"] = 100.0 * (row["elastic"] - row["plain"])
        pb = _bits(p["correct_bits"]) if "correct_bits" in p else None
        eb = _bits(e["correct_bits"]) if "correct_bits" in e else None
        if pb is not None and eb is not None and pb.shape[1] == eb.shape[1]:
            draws = _draws(rng, pb.shape[1], boot)
            reps = 100.0 * (_replicate_rates(eb, draws) - _replicate_rates(pb, draws))
            row["gain_lo"], row["gain_hi"] = _interval(reps)
        out.append(row)
    return pd.DataFrame(out, columns=cols)


def markdown(gap: pd.DataFrame, gain: pd.DataFrame) -> str:
    parts = ["## Synthetic-to-real gap (points, bootstrap 95 % interval)\n",
             gap.to_markdown(index=False, floatfmt=".3f") if len(gap) else "no real cells"]  # fmt: skip
    if len(gain):
        parts += ["\n## Real recognition: elastic minus plain training (points, paired bootstrap 95 %)\n",
                  gain.to_markdown(index=False, floatfmt=".3f")]  # fmt: skip
    return "\n".join(parts) + "\n"


def figure(gap: pd.DataFrame, path: Path) -> Path:
    """Gap per model (x) and variant (colour), one panel per style, with the 95 % intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    gap = gap.dropna(subset=["gap_points"])  # rows with a real number only (peers) have no gap
    styles = sorted(gap["style"].unique())
    if not styles:
        fig, ax = plt.subplots(figsize=(4.5, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no row has both a synthetic and a real number", ha="center", va="center")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path
    fig, axes = plt.subplots(1, len(styles), figsize=(4.5 * len(styles), 3.6), squeeze=False)
    order = {"plain": 0, "elastic": 1, "real": 2}
    variants = sorted(gap["variant"].unique(), key=lambda v: (order.get(v, 3), v))
    colours = dict(zip(variants, sns.color_palette(n_colors=len(variants)), strict=True))
    step = 0.6 / len(variants)
    for ax, style in zip(axes[0], styles, strict=True):
        rows = gap[gap["style"] == style]
        models = sorted(rows["model"].unique())
        for j, variant in enumerate(variants):
            v = rows[rows["variant"] == variant].set_index("model").reindex(models)
            x = np.arange(len(models)) + (j - (len(variants) - 1) / 2) * step
            yerr = np.vstack([v["gap_points"] - v["gap_lo"], v["gap_hi"] - v["gap_points"]])
            ax.errorbar(x, v["gap_points"], yerr=np.clip(np.nan_to_num(yerr), 0, None), fmt="o", capsize=4,
                        color=colours[variant], label=variant)  # fmt: skip
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(models)), models, rotation=20)
        ax.set_xlim(-0.5, len(models) - 0.5)
        ax.set_title(style)
        ax.set_ylabel("synthetic - real recognition (points)")
    axes[0][-1].legend(title="variant")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
