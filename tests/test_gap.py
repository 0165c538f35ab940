"""`synthgap gap`: synthetic-to-real gap with bootstrap intervals, from a table and end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clitools import synthgap

from synthgap.gap import elastic_vs_plain, gap_table


def bits(n: int, right: int) -> str:
    return "1" * right + "0" * (n - right)


def row(model, variant, family, n, right, seed=0, with_bits=True):
    return dict(style="captcha_v2", model=model, size="cpu", seed=seed, variant=variant, family=family,
                perturbation=family, test_style="captcha_v2", severity=0, n=n, recognition_rate=right / n,
                correct_bits=bits(n, right) if with_bits else None, error=None)  # fmt: skip


@pytest.fixture
def cells() -> pd.DataFrame:
    rows = []
    for seed, (clean_right, real_right) in enumerate([(450, 20), (470, 30)]):
        rows += [
            row("a", "plain", "clean", 500, clean_right, seed),
            row("a", "plain", "real", 50, real_right, seed),
        ]
        rows += [row("a", "elastic", "clean", 500, clean_right, seed),
                 row("a", "elastic", "real", 50, real_right + 10, seed)]  # fmt: skip
    rows += [row("b", "plain", "clean", 500, 400), row("b", "plain", "real", 1000, 300)]
    rows += [row("c", "plain", "clean", 500, 400, with_bits=False), row("c", "plain", "real", 50, 10)]
    rows.append(row("d", "plain", "clean", 500, 400))  # no real cell: no row
    return pd.DataFrame(rows)


def test_gap_in_points_with_a_bootstrap_interval(cells):
    g = gap_table(cells, boot=2000, seed=0).set_index(["model", "variant"])
    assert list(g.index) == [("a", "elastic"), ("a", "plain"), ("b", "plain"), ("c", "plain")]
    a = g.loc[("a", "plain")]
    assert a["seeds"] == 2 and a["n_synthetic"] == 500 and a["n_real"] == 50
    assert a["synthetic"] == pytest.approx(0.92) and a["real"] == pytest.approx(0.5)
    assert a["gap_points"] == pytest.approx(42.0)
    assert a["gap_lo"] < 42.0 < a["gap_hi"]
    # the real set dominates the width: ~ +-1.96 * 100 * sqrt(.25 / 50 / 2 seeds averaged... ) points
    assert 15 < a["gap_hi"] - a["gap_lo"] < 35
    b = g.loc[("b", "plain")]  # a 1000-captcha real set: a much tighter interval
    assert b["gap_points"] == pytest.approx(50.0) and b["gap_hi"] - b["gap_lo"] < 10
    c = g.loc[("c", "plain")]  # no per-captcha outcomes stored: the gap, without an interval
    assert c["gap_points"] == pytest.approx(60.0) and np.isnan(c["gap_lo"]) and np.isnan(c["gap_hi"])


def test_gap_bootstrap_is_seeded(cells):
    pd.testing.assert_frame_equal(gap_table(cells, boot=500, seed=3), gap_table(cells, boot=500, seed=3))
    assert not gap_table(cells, boot=500, seed=3).equals(gap_table(cells, boot=500, seed=4))


def test_elastic_vs_plain_is_paired(cells):
    e = elastic_vs_plain(cells, boot=1000).set_index("model")
    assert list(e.index) == ["a"]  # only model a has both variants
    assert e.loc["a", "gain_points"] == pytest.approx(20.0)
    # elastic is right on every real captcha plain is right on (paired), so no replicate is below 0
    assert 0 < e.loc["a", "gain_lo"] < 20 < e.loc["a", "gain_hi"]


def test_no_real_cells_gives_an_empty_table(cells):
    assert gap_table(cells[cells["family"] != "real"]).empty


TINY = """
name = "tiny"
styles = ["wikipedia"]
variants = ["plain"]
models = ["crnn_ctc"]
sizes = ["cpu"]
seeds = [0]
test_size = 8
[budget]
steps = 2
[real]
wikipedia = "{real}"
"""


def test_run_then_gap(tmp_path, shared_data):
    grid = tmp_path / "tiny.toml"
    grid.write_text(TINY.format(real=shared_data / "wikipedia-sample"))
    out = tmp_path / "out"
    r = synthgap("run", str(grid), "--out", str(out), "--executor", "inline")
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out / "cells.parquet").set_index("perturbation")
    assert len(df.loc["clean", "correct_bits"]) == 8 and len(df.loc["real", "correct_bits"]) == 20
    assert df.loc["real", "real_skipped"] == 0
    r = synthgap("gap", str(out), "--boot", "200")
    assert r.returncode == 0, r.stderr
    assert "Synthetic-to-real gap" in r.stdout and "crnn_ctc" in r.stdout
    table = pd.read_csv(out / "gap" / "gap.csv")
    assert (
        len(table) == 1 and table.loc[0, "n_real"] == 20 and table.loc[0, "gap_lo"] <= table.loc[0, "gap_hi"]
    )
    assert (out / "gap" / "gap.png").stat().st_size > 1000 and (out / "gap" / "gap.md").is_file()


def test_gap_without_real_cells_exits_2(tmp_path):
    cells = pd.DataFrame([row("a", "plain", "clean", 10, 5)])
    cells.to_parquet(tmp_path / "cells.parquet")
    r = synthgap("gap", str(tmp_path))
    assert r.returncode == 2 and "no real cells" in r.stderr and not (tmp_path / "gap").exists()
