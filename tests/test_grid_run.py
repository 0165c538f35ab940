"""End to end: `synthgap run` trains real (tiny) models on a tiny grid, `synthgap report` summarises."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

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
[perturbations]
gaussian_noise = [2]
"""


def synthgap(*args):
    return subprocess.run([sys.executable, "-c", "from synthgap.cli import main; main()", *args],
                          capture_output=True, text=True)  # fmt: skip


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
    assert clean["ms_per_captcha_batch1"] > 0
    # rerun: nothing left to do, nothing duplicated
    r = synthgap("run", str(grid), "--out", str(out), "--executor", "inline")
    assert r.returncode == 0 and len(pd.read_parquet(out / "cells.parquet")) == 2
    r = synthgap("report", str(out))
    assert r.returncode == 0, r.stderr
    assert "Table I" in r.stdout
    assert (out / "report" / "report.md").is_file() and (out / "report" / "robustness.csv").is_file()


def test_run_rejects_bad_grid_before_training(tmp_path):
    grid = tmp_path / "bad.toml"
    grid.write_text(TINY.replace('models = ["crnn_ctc"]', 'models = ["nope"]'))
    r = synthgap("run", str(grid), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "nope" in r.stderr
    assert not (tmp_path / "out").exists()
