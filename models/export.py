"""ONNX export of a trained breaker, and the exported file read back under onnxruntime.

An export folder holds ``model.onnx`` (a batch of preprocessed images -> the raw outputs the
family's ``decode`` reads; see ``OUTPUTS``), the checkpoint's ``config.json`` (what rebuilds the
family's preprocessing and decoding, without weights) and ``export.json`` (input, output and
decoding, opset, versions, SHA-256 of the file, and the check made at export: the largest
probability difference from torch and how many decoded strings agree, on fresh captchas).
``load_onnx`` gives a :class:`~synthgap.models.base.Recognizer` whose network is the ONNX session,
so ``synthgap eval`` scores and times it like the checkpoint it came from.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from synthgap import versions
from synthgap.errors import UsageError
from synthgap.io import atomic_dir, read_format_json
from synthgap.models.base import Recognizer
from synthgap.models.checkpoint import CONFIG, build_from_config, load_checkpoint, read_config

FORMAT = "synthgap-onnx/1"
ONNX, RECORD = "model.onnx", "export.json"
OPSET = 17
#: what each family's ONNX output is and how strings are read from it (recorded in export.json)
OUTPUTS = {
    "crnn_ctc": "float32 (n, columns, 1 + |charset|): per-column log-probabilities, class 0 = CTC blank, "
    "class i = charset[i-1]; strings: greedy best path (merge repeats, drop blanks), or the word-pair prior "
    "of config.json's 'prior' when it has one",
    "multihead_cnn": "float32 (n, max_len, |charset| + 1): per-position log-probabilities, last class = end; "
    "strings: arg-max per position up to the first end",
    "paper_lstm": "int64 (n, 1 + K + max_len): the greedy value index of every step (L, the other declared "
    "latents of config.json's 'discrete_latents', then the letters; the loop unrolled); strings: the first "
    "L letters",
}
OUTPUTS["multihead_cnn_avgpool"] = OUTPUTS["multihead_cnn"]


class _Infer(nn.Module):
    """What ``Recognizer.infer`` computes, as a module the exporter can trace."""

    def __init__(self, net: Recognizer) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.infer(x)


class _Session:
    """``infer`` backed by an onnxruntime session: preprocessed batch in, the same raw outputs out."""

    def __init__(self, path: Path, threads: int) -> None:
        ort = _require("onnxruntime")

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable files
            raise UsageError(
                f"onnx: {path} cannot be loaded ({str(e).splitlines()[0]})", field="onnx"
            ) from None
        self.input = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.session.run(None, {self.input: x.cpu().numpy()})[0])


def _require(name: str):
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise UsageError(f"onnx: no module {name}: pip install 'synthgap[onnx]'", field="onnx") from None


def _onnx_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("onnx", "onnxruntime")}


def is_export(path: Path) -> bool:
    return (Path(path) / ONNX).is_file()


def load_onnx(path: Path, threads: int = 1) -> Recognizer:
    """The exported breaker: the family's preprocessing and decoding around an onnxruntime session."""
    path = Path(path)
    read_format_json(path / RECORD, FORMAT, "onnx")
    net = build_from_config(path, read_config(path))
    net.infer = _Session(path / ONNX, threads)  # the torch weights are never read
    net.runtime = "onnxruntime"
    return net


def _compare(net: Recognizer, exported: Recognizer, images: np.ndarray) -> dict[str, Any]:
    """Raw outputs and decoded strings of torch and onnxruntime on the same images."""
    with torch.inference_mode():
        x = net.preprocess(images)
        ours, theirs = net.infer(x), exported.infer(x)
    if ours.is_floating_point():  # log-probabilities: compare probabilities
        diff = float((ours.exp() - theirs.exp()).abs().max())
    else:
        diff = float((ours != theirs).any(-1).float().mean())
    same = sum(a == b for a, b in zip(net.decode(ours), exported.decode(theirs), strict=True))
    return {"n": len(images), "max_prob_diff" if ours.is_floating_point() else "paths_differing": diff,
            "strings_identical": same}  # fmt: skip


def export_onnx(checkpoint: Path, out: Path, check_images: np.ndarray, opset: int = OPSET) -> dict[str, Any]:
    """Write the export folder ``out`` (new or empty; written whole or not at all) and return its
    record; ``check_images`` (uint8 gray) are decoded by both runtimes."""
    checkpoint, out = Path(checkpoint), Path(out)
    config = read_config(checkpoint)
    if config["model"] not in OUTPUTS:
        raise UsageError(f"export: model {config['model']!r} ({checkpoint}) has no ONNX path", field="model")
    for name in ("onnx", "onnxruntime"):  # before anything is written
        _require(name)
    net = load_checkpoint(checkpoint)
    example = net.preprocess(check_images[:2])
    with atomic_dir(out) as tmp:
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        with warnings.catch_warnings():  # the tracer's notes on the LSTM and the unrolled loop
            warnings.simplefilter("ignore")
            torch.onnx.export(_Infer(net).eval(), (example,), str(tmp / ONNX), input_names=["image"],
                              output_names=["out"], dynamic_axes={"image": {0: "n"}, "out": {0: "n"}},
                              opset_version=opset, dynamo=False)  # fmt: skip
        record = {
            "format": FORMAT,
            "checkpoint": str(checkpoint),
            "model": config["model"],
            "input": {
                "name": "image",
                "shape": ["n", 1, *net.input_hw],
                "dtype": "float32",
                "meaning": "gray image resized (area) to the input size; ink = 1, paper = 0",
            },  # fmt: skip
            "output": OUTPUTS[config["model"]],
            "opset": opset,
            "sha256": hashlib.sha256((tmp / ONNX).read_bytes()).hexdigest(),
            "versions": {**versions(), **_onnx_versions()},
        }
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
        record["check"] = _compare(net.eval(), load_onnx(tmp), check_images)
        (tmp / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return record
