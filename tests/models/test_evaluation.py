"""Scoring (synthgap.models.evaluation): a zoo checkpoint, its ONNX export and your own breaker are one
``Breaker`` to ``evaluate``, which scores each from its own predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthgap import metrics
from synthgap.generators import create_generator
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.evaluation import Breaker, evaluate
from synthgap.models.export import export_onnx, load_onnx
from synthgap.peers import create_peer

ROOT = Path(__file__).resolve().parents[2]
ZOO_CRNN = ROOT / "results" / "zoo" / "captcha_v2-plain-crnn_ctc-cpu-s0"


def make(kind: str, tmp_path: Path, monkeypatch, images: np.ndarray) -> Breaker:
    if kind == "checkpoint":
        return load_checkpoint(ZOO_CRNN)
    if kind == "onnx":
        export_onnx(ZOO_CRNN, tmp_path / "onnx", images[:4])
        return load_onnx(tmp_path / "onnx")
    monkeypatch.syspath_prepend(str(ROOT))  # examples/ is importable from the repository root
    return create_peer("examples.breakers:majority", charset="2345678bcdefgmnpwxy")


@pytest.mark.parametrize("kind", ["checkpoint", "onnx", "user"])
def test_every_kind_of_breaker_is_scored_from_its_own_predictions(kind, tmp_path, monkeypatch):
    images, latents = create_generator("captcha_v2").generate(24, 5)
    texts = [lat.text for lat in latents]
    breaker = make(kind, tmp_path, monkeypatch, images)
    assert isinstance(breaker, Breaker)
    out = evaluate(breaker, images, texts, timing=False)
    pred = breaker.predict(images)
    assert [r["prediction"] for r in out["predictions"]] == pred and out["n"] == 24
    assert out["recognition_rate"] == metrics.recognition_rate(pred, texts)
    if kind == "user":  # one fixed string: reads none of them
        assert out["recognition_rate"] == 0.0 and len(set(pred)) == 1
    else:  # the zoo's captcha_v2 crnn_ctc reads its own style, through torch or onnxruntime alike
        assert out["recognition_rate"] >= 0.9


def test_an_object_without_predict_and_device_is_not_a_breaker():
    class Reader:
        def predict(self, images, batch_size=256):
            return ["a"] * len(images)

    assert not isinstance(Reader(), Breaker)  # no device: evaluate's timing could not synchronise it
