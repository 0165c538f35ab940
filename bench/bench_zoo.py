"""Speed of evaluating committed zoo entries (results/zoo, 1 torch thread): the stored float16
checkpoint loaded as users load it, breaking time per captcha at batch 1 and batch 256 on its own
style. One benchmark per built entry; none are collected while the zoo is empty.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from synthgap.generators import create_generator
from synthgap.models.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "results" / "zoo" / "index.csv"
ENTRIES = pd.read_csv(INDEX).to_dict("records") if INDEX.is_file() else []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
@pytest.mark.parametrize("batch", [1, 256])
def test_zoo_entry_predict(benchmark, entry, batch):
    torch.set_num_threads(1)
    model = load_checkpoint(ROOT / entry["path"])
    gen = create_generator(entry["style"], elastic=entry["variant"] == "elastic")
    images, latents = gen.generate(batch, seed=int(entry["test_seed"]))
    pred = benchmark.pedantic(model.predict, args=(images,), rounds=30 if batch == 1 else 5, warmup_rounds=1)
    assert len(pred) == batch
