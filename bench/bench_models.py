"""Speed of every model family (``cpu`` size, 1 torch thread, wikipedia): one training step on a
batch of 128 (forward, backward, Adam), and inference per captcha at batch 1 and batch 256.
Targets for crnn_ctc on CPU: <= 10 ms at batch 1, <= 2 ms per captcha at batch 256, and a training
step fast enough that, with one core rendering, training runs at >= 500 samples/s.
Run with ``tox -e bench`` (or ``pytest bench -o python_files=bench_*.py --benchmark-only``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthgap.generators import create_generator
from synthgap.models import create_model, list_models
from synthgap.models.base import resize_batch
from synthgap.models.training import SyntheticBatches, keep_freed_memory, latent_indices, train_step


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    keep_freed_memory()  # as a training process does
    gen = create_generator("wikipedia")
    images, lats = gen.generate(256, seed=0)
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    return gen, images, [lat.text for lat in lats], latent_indices(latents, lats), latents


def build(name, data):
    gen, *_, latents = data
    return create_model(name, charset=gen.config.charset, max_len=gen.config.lengths[1], latents=latents)


BF16 = pytest.param(
    "bf16",
    marks=pytest.mark.skipif(
        not torch.ops.mkldnn._is_mkldnn_bf16_supported(), reason="this CPU has no bfloat16 support"
    ),
)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("precision", ["fp32", BF16])
def test_train_step_batch128(benchmark, data, name, precision):
    """The training loop's step (``train_step``: forward, backward, clipping, Adam), channels-last
    as in training; bf16: the forward pass under bfloat16 autocast, as ``train --bf16`` does. The
    network's samples/s on one thread is in the benchmark's extra info."""
    _, images, texts, lidx, _ = data
    model = build(name, data).to(memory_format=torch.channels_last).train()
    small = resize_batch(images[:128], model.input_hw)  # workers hand over images already downscaled
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batch = (small, texts[:128], lidx[:128])
    benchmark.pedantic(train_step, args=(model, opt, batch, torch.device("cpu"), precision == "bf16"),
                       rounds=10, warmup_rounds=2)  # fmt: skip
    benchmark.extra_info["samples_per_s"] = round(128 / benchmark.stats.stats.min, 1)


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("batch", [1, 256])
def test_predict(benchmark, data, name, batch):
    images = data[1][:batch]
    model = build(name, data).eval()
    benchmark.pedantic(model.predict, args=(images,), rounds=30 if batch == 1 else 5, warmup_rounds=1)


def test_render_batch128_one_process(benchmark, data):
    """The renderer side of training: one worker's time for a batch of 128 (downscale included)."""
    gen = data[0]
    stream = SyntheticBatches(gen, 0, 128, (32, 128), workers=0)
    steps = iter(range(10**6))
    benchmark.pedantic(lambda: stream.batch(next(steps)), rounds=5, warmup_rounds=1)
    assert np.asarray(stream.batch(99)[0]).shape == (128, 32, 128)
