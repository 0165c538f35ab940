"""Scoring a breaker on a labelled set: accuracy metrics plus breaking time at batch 1 and batch 256,
and the one writer of a score's files (JSON record, per-captcha CSV)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from synthgap import metrics
from synthgap.io import atomic_write_bytes
from synthgap.progress import progress as progress_bar

PREDICTION_COLUMNS = ["truth", "prediction", "correct", "char_accuracy"]


@runtime_checkable
class Breaker(Protocol):
    """What scoring needs of a breaker, and all it needs: a trained network or zoo checkpoint
    (``Recognizer``), its ONNX export (``load_onnx``), a peer solver and your own breaker (``Peer``)
    are scored, timed and written the same way."""

    device: torch.device

    def predict(self, images: np.ndarray, batch_size: int = 256) -> list[str]:
        """uint8 gray images (n, H, W) -> one string each."""
        ...


def time_predict(
    model: Breaker, images: np.ndarray, batch: int, calls: int, budget_s: float = 5.0, bar: Any = None
) -> float:
    """Median ms per captcha of ``model.predict`` on ``batch`` images at a time (one warm-up call);
    at most ``calls`` timed calls, fewer once ``budget_s`` seconds are spent (at least one). ``bar``,
    if given, moves one call at a time."""
    reps = -(-batch // len(images))
    pool = np.concatenate([images] * reps)[: max(batch, len(images))]
    seconds = []
    start = time.perf_counter()
    for i in range(calls + 1):
        chunk = pool[(i * batch) % len(pool) :][:batch]
        if len(chunk) < batch:
            chunk = pool[:batch]
        t = time.perf_counter()
        model.predict(chunk, batch_size=batch)
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        if bar is not None:
            bar.update(1)
        if i:
            seconds.append(time.perf_counter() - t)
            if time.perf_counter() - start > budget_s:
                break
    return metrics.breaking_time_ms(seconds, per_call=batch)


#: captchas per ``predict`` call while scoring: the progress moves even for a slow OCR peer
CHUNK = 64


def predict_all(model: Breaker, images: np.ndarray, show: bool = False) -> list[str]:
    """``model.predict`` over ``images`` in chunks, with progress when ``show``."""
    out: list[str] = []
    with progress_bar("predicting", total=len(images), unit="captcha", enabled=show, leave=False) as bar:
        for i in range(0, len(images), CHUNK):
            out += model.predict(images[i : i + CHUNK], batch_size=CHUNK)
            bar.update(len(images[i : i + CHUNK]))
    return out


#: a batch of 256 is timed only when one should take less than this (a slow OCR peer would need
#: minutes); its column is then empty
BATCH256_LIMIT_S = 10.0


def evaluate(
    model: Breaker,
    images: np.ndarray,
    texts: Sequence[str],
    case_sensitive: bool = False,
    timing: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Recognition rate, mean character accuracy, breaking times and per-captcha predictions;
    ``progress``: a bar (terminal) or lines (log) while predicting and timing."""
    pred = predict_all(model, images, progress)
    out: dict[str, Any] = {
        "n": len(texts),
        "recognition_rate": metrics.recognition_rate(pred, texts, case_sensitive),
        "char_accuracy": metrics.mean_char_accuracy(pred, texts, case_sensitive),
        "case_sensitive": case_sensitive,
    }
    if timing:  # sized to the breaker: a slow one gets a few calls, and no batch of 256
        calls = min(100, max(20, len(texts)))
        bar = partial(progress_bar, unit="call", enabled=progress, leave=False)
        with bar("timing batch 1", total=calls + 1) as b:
            one = time_predict(model, images, 1, calls, bar=b)
        out["ms_per_captcha_batch1"] = one
        out["ms_per_captcha_batch256"] = None
        if one * 256 / 1000 <= BATCH256_LIMIT_S:
            with bar("timing batch 256", total=6) as b:
                out["ms_per_captcha_batch256"] = time_predict(model, images, 256, 5, 2 * BATCH256_LIMIT_S, b)
        out["torch_threads"] = torch.get_num_threads()
        out["device"] = str(model.device)
    out["predictions"] = [
        {"truth": t, "prediction": p, "correct": c, "char_accuracy": a}
        for t, p, c, a in zip(
            texts,
            pred,
            metrics.correct(pred, texts, case_sensitive),
            metrics.char_accuracy(pred, texts, case_sensitive),
            strict=True,
        )
    ]
    return out


def write_report(out: Path, name: str, report: dict[str, Any], predictions: list[dict] | None) -> Path:
    """``out/NAME.json`` and, with ``predictions``, ``out/NAME.csv`` (one row per captcha), each
    written whole or not at all; returns the JSON's path."""
    out = Path(out)
    if predictions is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, PREDICTION_COLUMNS)
        w.writeheader()
        w.writerows(predictions)
        atomic_write_bytes(out / f"{name}.csv", buf.getvalue().encode())
    atomic_write_bytes(out / f"{name}.json", (json.dumps(report, indent=2) + "\n").encode())
    return out / f"{name}.json"
