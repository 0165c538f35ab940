"""Training samples/s per model family with rendering included, as ``synthgap train`` runs it:
wikipedia, ``cpu`` size, batch 128, bf16 where the CPU has it, one process with the measured split
of render processes and torch threads, and crnn_ctc also with 2 data-parallel processes. Each run
trains 80 steps; the rate (in the benchmark's extra info and printed at the end) is over the whole
loop, so a little below a long run's. A longer comparison: ``bash scripts/train_speed.sh OUT``.
"""

from __future__ import annotations

import os

import pytest
import torch

from synthgap.models import list_models
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.training import bf16_supported, train

RATES: dict[str, float] = {}
CASES = [(name, 1) for name in list_models()] + [("crnn_ctc", 2)]


@pytest.mark.parametrize(("name", "processes"), CASES, ids=[f"{n}-p{p}" for n, p in CASES])
def bench_training_samples_per_s(benchmark, tmp_path, name, processes):
    if processes > len(os.sched_getaffinity(0)):
        pytest.skip(f"{processes} processes need as many cores")
    runs = iter(range(10**6))

    def run():
        return train(tmp_path / f"run{next(runs)}", model=name, style="wikipedia", steps=80, batch_size=128,
                     processes=processes, bf16=bf16_supported(torch.device("cpu")), val_n=64, val_every=10**6,
                     progress=False)  # fmt: skip

    out = benchmark.pedantic(run, rounds=1, iterations=1)
    meta = load_checkpoint(out).meta
    benchmark.extra_info.update(samples_per_s=meta["samples_per_s"], time_s=meta["time_s"])
    RATES[f"{name} (processes {processes}, {meta['precision']})"] = meta["samples_per_s"]
