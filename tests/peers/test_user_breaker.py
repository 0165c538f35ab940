"""A user's own breaker, named by its factory, scored like a peer: CLI, grid row, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from clitools import grid_text, synthgap
from PIL import Image

from synthgap.errors import UsageError
from synthgap.peers import create_peer

ROOT = Path(__file__).resolve().parents[2]  # examples/ is importable from here


def test_factory_name_builds_a_breaker_with_the_charset(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    breaker = create_peer("examples.breakers:majority", charset="xyz")
    assert breaker.predict(__import__("numpy").zeros((70, 50, 200), "uint8")) == ["xyzxy"] * 70
    assert breaker.config()["peer"] == "examples.breakers:majority" and breaker.config()["charset"] == "xyz"


@pytest.mark.parametrize(
    ("name", "needle"),
    [("examples.nothere:f", "cannot import"), ("examples.breakers:nothere", "no callable 'nothere'")],
)
def test_bad_breaker_names_are_usage_errors(monkeypatch, name, needle):
    monkeypatch.syspath_prepend(str(ROOT))
    with pytest.raises(UsageError, match=needle):
        create_peer(name)


def test_eval_peer_scores_a_user_breaker_on_a_real_folder(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    for label in ("abcab", "bbbbb", "ccccc", "abcaa"):  # the label is the file name
        Image.new("L", (200, 50), 255).save(real / f"{label}.png")
    r = synthgap("eval-peer", "examples.breakers:majority", "--real", real, "--charset", "abc", "--out",
                 tmp_path / "out", cwd=ROOT)  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert report["peer"] == "examples.breakers:majority" and report["recognition_rate"] == 0.25  # "abcab"
    # progress in a log: a plain line per pass, no carriage returns
    assert "predicting: done at captcha 4/4" in r.stderr and "timing batch 1: done at call 21/21" in r.stderr
    assert "\r" not in r.stderr


def test_grid_row_names_a_user_breaker(tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text(
        grid_text(name="byo", models='"peer:examples.breakers:majority"', tables="[posterior]\nsize = 0\n")
    )
    r = synthgap("run", grid, "--out", tmp_path / "out", "--executor", "inline", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(tmp_path / "out" / "cells.parquet")
    assert list(df["model"]) == ["peer:examples.breakers:majority"] and df["recognition_rate"].iloc[0] == 0.0
    r = synthgap("check-grid", grid, cwd=tmp_path, fresh=True)  # examples/ is not importable from there
    assert r.returncode == 2 and "cannot import 'examples.breakers'" in r.stderr
