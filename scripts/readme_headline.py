"""Copy the quick grid's headline table into README.md between its markers (never by hand).

Usage: .venv/bin/python scripts/readme_headline.py results/quick README.md
The table: clean recognition per style x model x variant, and recognition under the paper's two
shifts (gaussian_noise severity 2 = sigma 5; kerning severity 1 = +1 px), from cells.parquet.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

BEGIN, END = "<!-- quick-grid:begin -->", "<!-- quick-grid:end -->"
COLUMNS = {("clean", 0): "clean", ("gaussian_noise", 2): "noise sigma=5", ("kerning", 1): "kerning +1 px"}


def headline(folder: Path) -> str:
    df = pd.read_parquet(folder / "cells.parquet")
    df = df[df["error"].fillna("") == ""]
    df = df[[(p, s) in COLUMNS for p, s in zip(df["perturbation"], df["severity"], strict=True)]]
    df = df.assign(test=[COLUMNS[(p, s)] for p, s in zip(df["perturbation"], df["severity"], strict=True)])
    table = df.pivot_table(index=["style", "model", "variant"], columns="test", values="recognition_rate")
    table = (100 * table[list(COLUMNS.values())]).round(1).reset_index()
    minutes = df["budget_minutes"].iloc[0]
    return (
        f"Recognition rate (%) on {int(df['test_size'].iloc[0])} synthetic test captchas per cell, "
        f"{minutes:g} CPU minutes of training per model (`make quick QUICK_OUT={folder}`, seeds from "
        f"`grids/quick.toml`; full tables in `{folder}/report/report.md`):\n\n"
        + table.to_markdown(index=False)
    )


def main(folder: str, readme: str) -> None:
    path = Path(readme)
    text = path.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + headline(Path(folder)) + "\n" + text[end:])


if __name__ == "__main__":
    main(*sys.argv[1:])
