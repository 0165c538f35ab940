"""scripts/readme_headline.py: the README's result tables are copied from a grid's cells, never typed."""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TESTS = [("clean", 0, 0.92), ("gaussian_noise", 2, 0.90), ("gaussian_noise", 4, 0.033), ("kerning", 1, 0.903),
         ("kerning", 2, 0.927), ("real", 0, 0.55)]  # fmt: skip


def _grid(folder: Path, clean: dict[str, float]) -> Path:
    rows = []
    for variant, c in clean.items():
        for perturbation, severity, rate in TESTS:
            rows.append({"style": "wikipedia", "model": "crnn_ctc", "variant": variant, "error": None,
                         "perturbation": perturbation, "severity": severity, "test_size": 300,
                         "budget_minutes": float("nan"), "n": 20 if perturbation == "real" else 300,
                         "recognition_rate": c if perturbation == "clean" else rate, "is_n": 50,
                         "is_M": 100, "is_ess_frac_median": 0.7, "is_credible90_coverage": 0.94,
                         "is_recognition_rate": 0.9,
                         "is_argmax_recognition": 0.96, "is_ms_per_captcha": 72.6})  # fmt: skip
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(folder / "cells.parquet")
    return folder


def test_tables_fill_their_markers_from_the_cells(tmp_path):
    script = runpy.run_path(str(ROOT / "scripts" / "readme_headline.py"))
    quick = _grid(tmp_path / "quick", {"plain": 0.92})
    fragility = _grid(tmp_path / "fragility", {"plain": 0.92, "elastic": 0.4})
    (fragility / "README.md").write_text(
        "head\n<!-- fragility-wide:begin -->\nOLD\n<!-- fragility-wide:end -->\ntail\n"
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "a\n<!-- quick-grid:begin -->\nOLD\n<!-- quick-grid:end -->\n"
        "b\n<!-- fragility:begin -->\nOLD\n<!-- fragility:end -->\nc\n"
    )
    posterior = tmp_path / "results" / "posterior" / "README.md"
    posterior.parent.mkdir(parents=True)
    posterior.write_text("<!-- posterior-quick:begin -->\nOLD\n<!-- posterior-quick:end -->\n")
    script["main"](str(quick), str(readme), None, str(fragility))
    text = readme.read_text()
    assert "OLD" not in text and text.startswith("a\n") and text.endswith("c\n")
    row = next(line for line in text.splitlines() if line.startswith("| wikipedia ") and "plain" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:6] == ["92", "90", "90.3"]  # clean, sigma 5, kerning +1
    assert cells[6] == "55.0 [34, 74] (20)"  # real, with its Wilson interval
    assert (
        "sigma=20" not in text.split("<!-- fragility:begin -->")[1]
    )  # the README's table: the paper's tests
    wide = (fragility / "README.md").read_text()
    assert "OLD" not in wide and "noise sigma=20" in wide and "kerning -1 px" in wide
    elastic = next(line for line in wide.splitlines() if "elastic" in line)
    assert "40" in elastic and elastic.rstrip(" |").endswith("not converged")  # under 50 % clean
    paper = next(line for line in wide.splitlines() if "(paper)" in line)
    assert "93.6" in paper and "nan" not in paper  # what the paper did not test stays blank
    row = next(line for line in posterior.read_text().splitlines() if line.startswith("| wikipedia"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "wikipedia", "plain", "crnn_ctc", "0.70", "0.94", "0.90", "0.96", "73"
    ]  # fmt: skip
