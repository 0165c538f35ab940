"""Copy the headline tables into README.md between their markers (never by hand).

Usage: .venv/bin/python scripts/readme_headline.py results/quick README.md [results/real_gap]
    [results/fragility]
The quick-grid table: clean recognition per style x model x variant, and recognition under the
paper's two shifts (gaussian_noise severity 2 = sigma 5; kerning severity 1 = +1 px), from
cells.parquet. The real-gap table: synthetic and real recognition per row of real_gap/gap/gap.csv.
The fragility table: the quick-grid table of grids/fragility.toml (three model families); the
same grid's table with the heavier shifts too goes into results/fragility/README.md. The posterior
table of the quick grid's clean cells goes into results/posterior/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from synthgap.io import atomic_write_bytes
from synthgap.metrics import wilson_interval
from synthgap.report import CONVERGED, NOT_CONVERGED

MARKERS = {"quick": ("<!-- quick-grid:begin -->", "<!-- quick-grid:end -->"),
           "gap": ("<!-- real-gap:begin -->", "<!-- real-gap:end -->"),
           "fragility": ("<!-- fragility:begin -->", "<!-- fragility:end -->"),
           "zoo-gap": ("<!-- zoo-real-gap:begin -->", "<!-- zoo-real-gap:end -->"),
           "fragility-wide": ("<!-- fragility-wide:begin -->", "<!-- fragility-wide:end -->"),
           "peers": ("<!-- peers:begin -->", "<!-- peers:end -->"),
           "posterior": ("<!-- posterior-quick:begin -->", "<!-- posterior-quick:end -->")}  # fmt: skip
POSTERIOR = "results/posterior/README.md"  # beside the top-level README
#: the posterior's summary columns of a cell (synthgap.grid.work), as the table names them
POSTERIOR_COLUMNS = {"is_ess_frac_median": "median ESS / M", "is_credible90_coverage": "90 % coverage",
                     "is_recognition_rate": "posterior mode", "is_argmax_recognition": "arg-max (same)",
                     "is_ms_per_captcha": "ms per captcha"}  # fmt: skip
COLUMNS = {("clean", 0): "clean", ("gaussian_noise", 2): "noise sigma=5", ("kerning", 1): "kerning +1 px"}
#: the paper's two shifts and a heavier one of each (grids/fragility.toml's severities)
WIDE = {**COLUMNS, ("gaussian_noise", 4): "noise sigma=20", ("kerning", 2): "kerning -1 px"}


#: what Le et al. (2017) report for their CNN + LSTM on Wikipedia (Section IV-A), beside our rows
PAPER = {"style": "wikipedia (paper)", "model": "CNN + LSTM", "variant": "plain", "clean": 93.6,
         "noise sigma=5": 24.0, "kerning +1 px": 65.2, "real % [95 % CI] (n)": "~0 (500)"}  # fmt: skip


def headline(folder: Path, make: str = "quick", columns: dict = COLUMNS) -> str:
    cells = pd.read_parquet(folder / "cells.parquet")
    cells = cells[cells["error"].fillna("") == ""]
    real = cells[cells["perturbation"] == "real"].set_index(["style", "model", "variant"])
    df = cells[[(p, s) in columns for p, s in zip(cells["perturbation"], cells["severity"], strict=True)]]
    df = df.assign(test=[columns[(p, s)] for p, s in zip(df["perturbation"], df["severity"], strict=True)])
    table = df.pivot_table(index=["style", "model", "variant"], columns="test", values="recognition_rate")
    table = (100 * table[list(columns.values())]).round(1).reset_index()
    table["real % [95 % CI] (n)"] = [
        real_cell(real.loc[k, "recognition_rate"], int(real.loc[k, "n"])) if k in real.index else ""
        for k in zip(table["style"], table["model"], table["variant"], strict=True)
    ]
    table["status"] = [NOT_CONVERGED if c < 100 * CONVERGED else "" for c in table["clean"]]
    table = pd.concat([table, pd.DataFrame([{**PAPER, "status": ""}])], ignore_index=True)
    table = table.astype(object).where(table.notna(), None)  # what the paper did not test: blank
    minutes = df["budget_minutes"].iloc[0]
    training = (
        f"{minutes:g} CPU minutes of training per model" if pd.notna(minutes) else "models from results/zoo"
    )
    return (
        f"Recognition rate (%) on {int(df['test_size'].iloc[0])} synthetic test captchas per cell, "
        f"{training} (`{'make quick QUICK_OUT=' + str(folder) if make == 'quick' else 'make ' + make}`, "
        f"seeds from `grids/{make}.toml`; full tables in "
        f"`{folder}/report/report.md`; under {100 * CONVERGED:.0f} % clean a model is marked "
        f"{NOT_CONVERGED}). Real: "
        + (
            "captcha_images_v2 outside its look set, the 20 wikipedia and 10 facebook samples; "
            if make == "quick"
            else "the 20 wikipedia samples; "
        )
        + "last row: what the paper reports, for comparison:\n\n"
        + table.to_markdown(index=False, missingval="")
    )


def real_cell(rate: float, n: int) -> str:
    """Recognition on a real set with its Wilson 95 % interval: the samples are small (20 wikipedia)."""
    lo, hi = wilson_interval(round(rate * n), n)
    return f"{100 * rate:.1f} [{100 * lo:.0f}, {100 * hi:.0f}] ({n})"


def pct(rate: float) -> str:
    return "" if pd.isna(rate) else f"{100 * rate:.1f}"


def real_gap(folder: Path) -> str:
    df = pd.read_csv(folder / "gap" / "gap.csv")
    table = pd.DataFrame({
        "real set (n)": [f"{r.style} ({r.n_real})" for r in df.itertuples()],
        "model": df["model"], "trained on": df["variant"].replace(
            {"plain": "synthetic", "elastic": "synthetic + elastic", "real": "real (90 %)"}),
        "synthetic %": [pct(v) for v in df["synthetic"]], "real %": [pct(v) for v in df["real"]],
        "gap (points, 95 % CI)": [
            "" if pd.isna(r.gap_points) else f"{r.gap_points:.1f} [{r.gap_lo:.1f}, {r.gap_hi:.1f}]"
            for r in df.itertuples()],
    })  # fmt: skip
    return (
        "Recognition (%) of crnn_ctc trained 10 CPU minutes on synthetic captchas only (the real-trained "
        "row: 5 minutes on 90 % of captcha_images_v2), on 1000 synthetic captchas and on the real ones "
        f"(`bash scripts/measure_real_gap.sh`, seed 0; details in `{folder}/README.md`). captcha_images_v2: "
        "the 940 images outside the look set (the real-trained row: its held-out 104); ddddocr for "
        "comparison:\n\n"
        + table.to_markdown(index=False, colalign=("left",) * 3 + ("right",) * 3, disable_numparse=True)
    )


def posterior(folder: Path) -> str:
    """The importance-sampled posterior on each clean cell: how many samples count, coverage, mode."""
    cells = pd.read_parquet(folder / "cells.parquet")
    clean = cells[(cells["perturbation"] == "clean") & (cells["error"].fillna("") == "")]
    table = clean.sort_values(["style", "variant", "model"])[
        ["style", "variant", "model", *POSTERIOR_COLUMNS]
    ]
    table = table.rename(columns=POSTERIOR_COLUMNS).round(2)
    table["ms per captcha"] = table["ms per captcha"].round().astype(int)
    n = int(clean["is_n"].max())
    return (
        f"Clean cells of `{folder}` (`make quick QUICK_OUT={folder}`, {n} captchas each, M = "
        f'{int(clean["is_M"].max())}; `report/report.md`, "Posterior calibration"):\n\n'
        + table.to_markdown(index=False, floatfmt=".2f")
    )


def fill(text: str, key: str, content: str) -> str:
    begin, end = MARKERS[key]
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + content + "\n" + text[stop:]


def main(folder: str, readme: str, gap: str | None = None, fragility: str | None = None) -> None:
    """Every table is made before any file is written, and each file is replaced whole."""
    path = Path(readme)
    text = fill(path.read_text(), "quick", headline(Path(folder)))
    if gap is not None:
        text = fill(text, "gap", real_gap(Path(gap)))
    writes = {}
    if fragility is not None:
        text = fill(text, "fragility", headline(Path(fragility), "fragility"))
        wide = Path(fragility) / "README.md"
        writes[wide] = fill(wide.read_text(), "fragility-wide", headline(Path(fragility), "fragility", WIDE))
    writes[path] = text
    post = path.parent / POSTERIOR
    post_text = post.read_text() if post.exists() else ""
    if MARKERS["posterior"][0] in post_text:
        writes[post] = fill(post_text, "posterior", posterior(Path(folder)))
    for target, content in writes.items():
        atomic_write_bytes(target, content.encode())


if __name__ == "__main__":
    main(*sys.argv[1:])
