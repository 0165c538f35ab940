"""`synthgap gap`: synthetic-to-real gap with bootstrap intervals, from a table and end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from clitools import grid_text, synthgap

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


TINY = grid_text(tables='[real]\nwikipedia = "{real}"\n')


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


def write_eval(folder, name, report, outcomes):
    """An eval report and its per-captcha CSV, as `synthgap eval` / `eval-peer --predictions` write them."""
    folder.mkdir(parents=True, exist_ok=True)
    report = {**report, "n": len(outcomes), "recognition_rate": sum(outcomes) / len(outcomes)}
    (folder / f"{name}.json").write_text(json.dumps(report))
    rows = [f"t{i},p,{bool(o)},1.0" for i, o in enumerate(outcomes)]
    (folder / f"{name}.csv").write_text("\n".join(["truth,prediction,correct,char_accuracy", *rows]) + "\n")


def training(style, variant):
    return {"style": style, "variant": variant, "size": "cpu", "seed": 0}


def test_gap_from_eval_reports_has_real_trained_and_peer_rows(tmp_path):
    synth = {"checkpoint": "/ck/synth", "model": "crnn_ctc", "training": training("captcha_v2", "plain")}
    real = {"checkpoint": "/ck/real", "model": "crnn_ctc", "training": training(None, "real")}
    write_eval(tmp_path / "synth", "clean", {**synth, "style": "captcha_v2"}, [1] * 8 + [0] * 2)
    write_eval(tmp_path / "synth", "real", {**synth, "real": "/data/v2"}, [1] * 5 + [0] * 15)
    write_eval(tmp_path / "real", "clean", {**real, "style": "captcha_v2"}, [1] * 3 + [0] * 7)
    write_eval(tmp_path / "real", "real", {**real, "real": "/data/v2"}, [1] * 4)
    peer = {"peer": "ddddocr", "charset": "abc", "style": "captcha_v2", "real": "v2"}
    write_eval(tmp_path / "peer", "ddddocr", peer, [1, 0, 1, 0])
    r = synthgap("gap", str(tmp_path), "--boot", "200", "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path / "g" / "gap.csv").set_index(["model", "variant"])
    assert t.loc[("crnn_ctc", "plain"), ["synthetic", "real", "gap_points"]].tolist() == pytest.approx(
        [0.8, 0.25, 55]
    )
    assert t.loc[("crnn_ctc", "real"), ["synthetic", "real", "gap_points"]].tolist() == pytest.approx(
        [0.3, 1.0, -70]
    )
    assert t.loc[("peer:ddddocr", "restricted"), "real"] == 0.5
    assert np.isnan(t.loc[("peer:ddddocr", "restricted"), "gap_points"])
    assert t.loc[("crnn_ctc", "plain"), "gap_lo"] < 55 < t.loc[("crnn_ctc", "plain"), "gap_hi"]


def test_gap_leaves_out_eval_reports_on_shifted_or_perturbed_captchas(tmp_path):
    synth = {"checkpoint": "/ck/synth", "model": "crnn_ctc", "training": training("captcha_v2", "plain")}
    write_eval(tmp_path, "clean", {**synth, "style": "captcha_v2"}, [1] * 9 + [0])
    write_eval(
        tmp_path, "noisy", {**synth, "style": "captcha_v2", "perturbation": "gaussian_noise"}, [0] * 10
    )
    write_eval(
        tmp_path, "kerned", {**synth, "style": "captcha_v2", "overrides": {"kerning_shift": 1}}, [0] * 10
    )
    write_eval(tmp_path, "real", {**synth, "real": "/data/v2"}, [1] * 5 + [0] * 5)
    r = synthgap("gap", str(tmp_path), "--boot", "100", "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path / "g" / "gap.csv")
    assert t[["synthetic", "real"]].values.tolist() == [[0.9, 0.5]]


def test_gap_from_eval_reports_without_their_csv_exits_2(tmp_path):
    write_eval(tmp_path, "r", {"peer": "ddddocr", "charset": "", "style": "captcha_v2", "real": "v2"}, [1])
    (tmp_path / "r.csv").unlink()
    r = synthgap("gap", str(tmp_path))
    assert r.returncode == 2 and "r.csv" in r.stderr and not (tmp_path / "gap").exists()
