"""Breaking time of an exported zoo entry: torch against onnxruntime (1 thread each), with ddddocr
(itself an ONNX model under onnxruntime) as the reference, at batch 1 and 256 on the entry's own
style. The export is made once per session from the committed checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synthgap.generators import create_generator
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.export import export_onnx, load_onnx
from synthgap.peers import create_peer

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "results" / "zoo" / "wikipedia-plain-crnn_ctc-cpu-s0"


@pytest.fixture(scope="module")
def breakers(tmp_path_factory):
    if not ENTRY.is_dir():
        pytest.skip(f"{ENTRY} is not built")
    torch.set_num_threads(1)
    gen = create_generator("wikipedia")
    out = tmp_path_factory.mktemp("onnx") / "wikipedia"
    export_onnx(ENTRY, out, gen.generate(64, 100)[0])
    return gen, {"torch": load_checkpoint(ENTRY), "onnxruntime": load_onnx(out, threads=1),
                 "ddddocr": create_peer("ddddocr", charset=gen.config.charset)}  # fmt: skip


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime", "ddddocr"])
@pytest.mark.parametrize("batch", [1, 256])
def bench_breaking_time(benchmark, breakers, runtime, batch):
    gen, found = breakers
    if runtime == "ddddocr" and batch == 256:
        pytest.skip("ddddocr reads one image at a time: batch 1 says it")
    images, _ = gen.generate(batch, seed=7)
    pred = benchmark.pedantic(found[runtime].predict, args=(images,), rounds=30 if batch == 1 else 5,
                              warmup_rounds=1)  # fmt: skip
    assert len(pred) == batch
