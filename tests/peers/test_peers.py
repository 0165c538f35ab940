"""Peers: off-the-shelf solvers behind the recognizers' interface, in `eval-peer` and as grid rows.

CI installs them (scripts/setup.sh: the peers extra and tesseract-ocr); elsewhere tests of a peer
that is not installed skip.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from clitools import grid_text

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.models.evaluation import evaluate
from synthgap.peers import PEERS, create_peer, list_peers, peer_name
from synthgap.realdata import for_style, load_real, look_split

V2 = "2345678bcdefgmnpwxy"


def need(name: str) -> None:
    missing = PEERS.entry(name).factory.missing()
    if missing:
        pytest.skip(f"peer {name} not installed: {missing}")


@pytest.fixture(scope="module")
def captcha_v2(shared_data):
    real = load_real(shared_data / "captcha_images_v2", **for_style("captcha_v2"))
    return real.images[:12], real.labels[:12]


def test_registry():
    assert list_peers() == ["ddddocr", "tesseract"]
    assert peer_name("peer:ddddocr") == "ddddocr" and peer_name("crnn_ctc") is None
    with pytest.raises(UsageError, match="unknown peer 'nope'"):
        create_peer("nope")


@pytest.mark.parametrize("name", ["ddddocr", "tesseract"])
def test_peer_reads_real_captchas_within_its_charset(name, captcha_v2):
    need(name)
    images, labels = captcha_v2
    if name == "tesseract":  # ~0.15 s a read
        images, labels = images[:6], labels[:6]
    peer = create_peer(name, charset=V2)
    assert peer.device.type == "cpu" and peer.config()["charset"] == V2 and peer.config()["version"]
    pred = peer.predict(images)
    assert len(pred) == len(images) and set("".join(pred)) <= set(V2 + V2.upper())
    scores = evaluate(peer, images, labels, case_sensitive=False, timing=False)
    floor = {"ddddocr": 0.75, "tesseract": 0.0}[name]  # measured 0.956 / 0.02 on all 1040
    assert scores["recognition_rate"] >= floor and scores["char_accuracy"] > 0.2


def test_ddddocr_charset_restriction_helps(captcha_v2):
    need("ddddocr")
    images, labels = captcha_v2
    open_pred = create_peer("ddddocr").predict(images)
    restricted = create_peer("ddddocr", charset=V2).predict(images)
    right = [
        sum(p.lower() == t for p, t in zip(pred, labels, strict=True)) for pred in (open_pred, restricted)
    ]
    assert right[1] >= right[0] and right[1] >= 9


def test_missing_peer_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(PEERS.entry("tesseract").factory, "missing", classmethod(lambda cls: "no tesseract"))
    with pytest.raises(UsageError, match="peer 'tesseract' is not installed"):
        create_peer("peer:tesseract")


def synthgap(*args):
    """The CLI in this process (no interpreter start-up); a UsageError comes back as r.exception."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_eval_peer_cli(tmp_path, shared_data):
    need("ddddocr")
    wiki = str(shared_data / "wikipedia-sample")
    r = synthgap("eval-peer", "ddddocr", "--real", wiki, "--style", "wikipedia", "--restrict", "--no-timing",
                 "--out", str(tmp_path))  # fmt: skip
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "ddddocr-restricted-wikipedia-sample.json").read_text())
    assert report["n"] == 20 and report["charset"] == for_style("wikipedia")["charset"]
    assert 0 <= report["recognition_rate"] <= 1 and report["skipped"] == 0
    assert report["real"] == str((shared_data / "wikipedia-sample").resolve())  # the folder, in full
    r = synthgap("eval-peer", "ddddocr", "--real", wiki, "--style", "wikipedia", "--skip-look", "5",
                 "--no-timing", "--predictions", "--out", str(tmp_path))  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = (tmp_path / "ddddocr-open-wikipedia-sample-nolook5-seed0.csv").read_text().splitlines()[1:]
    labels = sorted(
        p.stem.lower() for p in (shared_data / "wikipedia-sample").iterdir() if p.suffix == ".png"
    )
    assert [r.split(",")[0] for r in rows] == [labels[i] for i in look_split(20, 5, 0)[1]]
    r = synthgap("eval-peer", "ddddocr", "--real", str(tmp_path), "--restrict")
    assert isinstance(r.exception, UsageError) and "needs --style" in str(r.exception)


GRID = grid_text(name="peers", style="facebook", models='"peer:ddddocr"', test_size=4, head="clean = false\n",
                 budget="[budget]\nsteps = 1\n", tables='[real]\nfacebook = "{real}"\n')  # fmt: skip


def test_peer_as_a_grid_row(tmp_path, shared_data):
    need("ddddocr")
    grid = tmp_path / "g.toml"
    grid.write_text(GRID.format(real=shared_data / "facebook-sample"))
    out = tmp_path / "out"
    r = synthgap("run", str(grid), "--out", str(out), "--executor", "inline")
    assert r.exit_code == 0, r.output
    df = pd.read_parquet(out / "cells.parquet")
    assert len(df) == 1 and df.loc[0, "model"] == "peer:ddddocr" and df.loc[0, "n"] == 10
    assert len(df.loc[0, "correct_bits"]) == 10
    (config,) = out.glob("runs/*/peer.json")
    assert json.loads(config.read_text())["charset"] == for_style("facebook")["charset"]
    grid.write_text(GRID.format(real=shared_data / "facebook-sample").replace("peer:ddddocr", "peer:nope"))
    r = synthgap("check-grid", str(grid))
    assert isinstance(r.exception, UsageError) and "peer:nope" in str(r.exception)
