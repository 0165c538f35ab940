"""End to end: `synthgap run` trains real (tiny) models on a tiny grid, `synthgap report` summarises."""

from __future__ import annotations

import json

import pandas as pd
from clitools import grid_text, synthgap

POSTERIOR = '[posterior]\nsize = 3\nM = 8\nlikelihood = "letters"\nfit_n = 3\n'
TINY = grid_text(tables="[perturbations]\ngaussian_noise = [2]\n" + POSTERIOR)


def test_run_then_report(tmp_path):
    grid = tmp_path / "tiny.toml"
    grid.write_text(TINY)
    out = tmp_path / "out"
    r = synthgap("run", str(grid), "--out", str(out), "--executor", "inline")
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out / "cells.parquet")
    assert sorted(df["perturbation"]) == ["clean", "gaussian_noise"]
    assert df["error"].isna().all() | (df["error"] == "").all()
    assert df["recognition_rate"].between(0, 1).all() and (df["n"] == 8).all()
    clean = df[df["perturbation"] == "clean"].iloc[0]
    assert clean["ms_per_captcha_batch1"] > 0 and (df["torch_threads"] >= 1).all()
    # calibration of the model's own confidence on all 8, of the IS posterior on 3
    probabilities = ("ece", "brier", "mean_confidence", "acc_at_50", "acc_at_80", "acc_at_90", "is_ece",
                     "is_brier", "is_credible90_coverage", "is_recognition_rate", "is_argmax_recognition",
                     "is_empty_rate")  # fmt: skip
    for col in probabilities:
        assert df[col].between(0, 1).all(), col
    assert (df["nll_true"] >= 0).all() and (df["is_n"] == 3).all() and (df["is_M"] == 8).all()
    assert df["is_ess_mean"].between(0, 8).all() and (df["is_ms_per_captcha"] > 0).all()
    assert df["is_epsilon"].nunique() == 1 and df["is_epsilon"].iloc[0] >= 1e-4  # fitted once per run
    assert all(sum(json.loads(r)["count"]) == 8 for r in df["reliability"])
    assert all(sum(json.loads(r)["count"]) == 3 for r in df["is_reliability"])
    assert all(json.loads(c)["n"] == 3 and len(json.loads(c)["hits"]) == 10 for c in df["is_coverage"])
    # rerun: nothing left to do, nothing duplicated
    r = synthgap("run", str(grid), "--out", str(out), "--executor", "inline")
    assert r.returncode == 0 and len(pd.read_parquet(out / "cells.parquet")) == 2
    assert "\r" not in r.stderr and ": done at cell 2/2" in r.stderr  # plain lines in a pipe, not a bar
    r = synthgap("report", str(out))
    assert r.returncode == 0, r.stderr
    assert "Table I" in r.stdout
    assert (out / "report" / "report.md").is_file() and (out / "report" / "robustness.csv").is_file()
    assert "Calibration" in r.stdout and (out / "report" / "reliability.png").is_file()
    assert (out / "report" / "posterior_coverage.png").is_file()


def test_run_rejects_bad_grid_before_training(tmp_path):
    grid = tmp_path / "bad.toml"
    grid.write_text(TINY.replace('models = ["crnn_ctc"]', 'models = ["nope"]'))
    r = synthgap("run", str(grid), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "nope" in r.stderr
    assert not (tmp_path / "out").exists()


def test_run_with_no_workers_is_refused(tmp_path):
    grid = tmp_path / "tiny.toml"
    grid.write_text(TINY)
    r = synthgap("run", str(grid), "--out", str(tmp_path / "out"), "--workers", "0")
    assert r.returncode == 2 and "workers: must be >= 1" in r.stderr and not (tmp_path / "out").exists()
    r = synthgap("run", str(grid), "--out", str(tmp_path / "out"), "--threads", "0")
    assert r.returncode == 2 and "threads: must be >= 1" in r.stderr and not (tmp_path / "out").exists()
