"""What an importance-sampled posterior over strings is shown as: a tidy table and the paper's Figure 4."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthgap.inference.importance import Posterior

COLUMNS = ["image", "rank", "string", "prob", "ess", "beta", "log_evidence", "prediction", "model_confidence"]


def posterior_table(names: Sequence[str], posts: Sequence[Posterior], predictions: Sequence[str],
                    confidences: Sequence[float]) -> pd.DataFrame:  # fmt: skip
    """One row per image and rank (an image with no sample in the prior's support keeps one row with
    no string), beside the model's own prediction and confidence."""
    rows = []
    for name, post, p, c in zip(names, posts, predictions, confidences, strict=True):
        base = {"image": name, "ess": post.ess, "beta": post.beta, "log_evidence": post.log_evidence,
                "prediction": p, "model_confidence": float(c)}  # fmt: skip
        ranked = list(zip(post.strings, post.probs, strict=True)) or [(None, np.nan)]
        rows += [{**base, "rank": r + 1, "string": s, "prob": float(q)} for r, (s, q) in enumerate(ranked)]
    return pd.DataFrame(rows)[COLUMNS]


def figure4_panel(images: np.ndarray, names: list[str], table: pd.DataFrame, top_k: int):
    """Like the paper's Figure 4: each image beside a bar chart of its most probable strings."""
    from matplotlib.figure import Figure

    n = len(images)
    fig = Figure(figsize=(8.5, 1.3 * n + 0.3), layout="constrained")
    axes = fig.subplots(n, 2, squeeze=False, width_ratios=(1.1, 1))
    for i, (img, name) in enumerate(zip(images, names, strict=True)):
        left, right = axes[i]
        left.imshow(img, cmap="gray", vmin=0, vmax=255)
        left.set_axis_off()
        left.set_title(name, fontsize=8, loc="left")
        rows = table[(table["image"] == name) & table["string"].notna()].head(top_k)
        y = np.arange(len(rows))[::-1]
        right.barh(y, rows["prob"], color="tab:blue")
        right.set_yticks(y, rows["string"], fontsize=8, family="monospace")
        right.set_xlim(0, 1)
        right.tick_params(axis="x", labelsize=7)
        if len(rows) == 0:
            right.text(0.5, 0.5, "no sample in the prior's support", ha="center", fontsize=8)
        info = table[table["image"] == name].iloc[0]
        right.set_title(f"ESS {info['ess']:.1f}, model: {info['prediction']}", fontsize=8, loc="left")
    axes[-1][1].set_xlabel("posterior probability", fontsize=8)
    return fig
