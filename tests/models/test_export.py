"""ONNX export: every family's exported file decodes like its checkpoint, at any batch size."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from clitools import synthgap

from synthgap.errors import UsageError
from synthgap.generators import create_generator
from synthgap.models import create_model
from synthgap.models.checkpoint import load_checkpoint, save_checkpoint
from synthgap.models.export import OUTPUTS, export_onnx, load_onnx

TINY = {"charset": "abc", "lengths": (2, 3), "sizes": (26, 27)}


def checkpoint(tmp_path, name):
    torch.manual_seed(0)
    gen = create_generator("wikipedia", **TINY)
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    net = create_model(name, charset="abc", max_len=3, latents=latents)
    with torch.no_grad():  # batch-norm statistics other than the initial ones, so eval mode matters
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return save_checkpoint(net, tmp_path / name, {"style": "wikipedia", "overrides": TINY}), gen


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_export_decodes_like_torch_at_any_batch_size(tmp_path, name):
    ck, gen = checkpoint(tmp_path, name)
    images, _ = gen.generate(24, 7)
    record = export_onnx(ck, tmp_path / "onnx", images)
    assert record["check"]["n"] == 24 and record["check"]["strings_identical"] == 24
    assert record["model"] == name and record["output"] == OUTPUTS[name]
    assert set(json.loads((tmp_path / "onnx" / "export.json").read_text())["check"]) == set(record["check"])
    exported, net = load_onnx(tmp_path / "onnx"), load_checkpoint(ck)
    assert exported.runtime == "onnxruntime"
    others = gen.generate(9, 8)[0]
    for batch in (1, 4, 9):
        assert exported.predict(others, batch_size=batch) == net.predict(others)
    with torch.inference_mode():
        ours, theirs = net.infer(net.preprocess(others)), exported.infer(net.preprocess(others))
    if ours.is_floating_point():
        np.testing.assert_allclose(theirs.exp().numpy(), ours.exp().numpy(), atol=1e-4)
    else:
        assert torch.equal(ours, theirs)


def test_family_without_onnx_path_is_refused_and_nothing_written(tmp_path, monkeypatch):
    ck, gen = checkpoint(tmp_path, "crnn_ctc")
    monkeypatch.delitem(OUTPUTS, "crnn_ctc")
    with pytest.raises(UsageError, match="crnn_ctc.*has no ONNX path"):
        export_onnx(ck, tmp_path / "onnx", gen.generate(4, 0)[0])
    assert not (tmp_path / "onnx").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["crnn_ctc"]


def test_damaged_export_names_the_file(tmp_path):
    ck, gen = checkpoint(tmp_path, "crnn_ctc")
    export_onnx(ck, tmp_path / "onnx", gen.generate(4, 0)[0])
    onnx = tmp_path / "onnx" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:300])
    with pytest.raises(UsageError, match="model.onnx cannot be loaded"):
        load_onnx(tmp_path / "onnx")


def test_cli_export_then_eval_reads_the_onnx_folder(tmp_path):
    ck, _ = checkpoint(tmp_path, "paper_lstm")
    r = synthgap("export", ck, "--out", tmp_path / "onnx", "-n", "12")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["check"]["strings_identical"] == 12
    tiny = ["--set", "charset=abc", "--set", "lengths=[2,3]", "--set", "sizes=[26,27]"]
    r = synthgap("eval", tmp_path / "onnx", "--style", "wikipedia", *tiny, "-n", 10, "--no-timing",
                 "--out", tmp_path / "ev")  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(next((tmp_path / "ev").glob("*.json")).read_text())
    assert report["runtime"] == "onnxruntime" and report["n"] == 10
    again = synthgap("export", ck, "--out", tmp_path / "onnx", "-n", "12")
    assert again.returncode == 2 and "already exists" in again.stderr
