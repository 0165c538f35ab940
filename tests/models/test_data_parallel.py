"""Data-parallel CPU training (models/data_parallel.py): the ranks share out each batch, stay in
step, and a rank that dies ends the run with an error rather than a hang."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import numpy as np
import pytest
import torch

from synthgap.errors import UsageError, WorkerError
from synthgap.generators import create_generator
from synthgap.models import list_models
from synthgap.models.checkpoint import load_checkpoint
from synthgap.models.training import SyntheticBatches, train

TINY = {"charset": "abc", "lengths": (2, 3), "sizes": (26, 27)}


def tiny_gen():
    return create_generator("wikipedia", **TINY)


def test_the_parts_of_a_batch_are_the_one_process_batch():
    whole = SyntheticBatches(tiny_gen(), 5, 6, (32, 128), workers=0)
    parts = [SyntheticBatches(tiny_gen(), 5, 6, (32, 128), workers=0, part=(r, 3)) for r in range(3)]
    for step in range(2):
        images, texts, lidx = whole.batch(step)
        got = [p.batch(step) for p in parts]
        assert np.array_equal(np.concatenate([g[0] for g in got]), images)
        assert [t for g in got for t in g[1]] == texts
        assert np.array_equal(np.concatenate([g[2] for g in got]), lidx)
    assert [p.rendered for p in parts] == [4, 4, 4] and whole.rendered == 12


def run_dp(out, **kw):
    args = dict(model="crnn_ctc", style="wikipedia", overrides=TINY, steps=3, batch_size=8, val_n=8,
                val_every=2, processes=2, progress=False)  # fmt: skip
    return train(out, **{**args, **kw})


def test_two_ranks_train_on_the_whole_batch_and_a_run_is_fixed_by_its_seed(tmp_path):
    a = load_checkpoint(run_dp(tmp_path / "a"))
    b = load_checkpoint(run_dp(tmp_path / "b"))
    meta = a.meta
    assert (meta["processes"], meta["workers"], meta["torch_threads"]) == (2, 0, 1)
    assert meta["steps"] == 3 and meta["samples_seen"] == 24 and meta["samples_rendered"] == 24
    assert meta["time_s"]["sync"] > 0 and meta["time_s"]["batch_wait"] > 0
    other = meta["time_s_ranks"]["rank1"]  # rank 1 reports where its time went too
    assert set(other) == {"batch_wait", "forward", "backward", "sync"} and other["forward"] > 0
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    torch.manual_seed(0)  # the initial weights of these runs: training moved them
    untrained = type(a)(charset="abc", max_len=3, size="cpu")
    assert not torch.equal(untrained.head.weight, a.head.weight)


@pytest.mark.parametrize("name", list_models())
def test_every_family_trains_data_parallel(tmp_path, name):
    model = load_checkpoint(run_dp(tmp_path / "ck", model=name, steps=2))
    assert model.meta["processes"] == 2 and model.meta["samples_seen"] == 16
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_rank_that_dies_ends_the_run_with_an_error_naming_it(tmp_path):
    def kill_rank() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ranks = [p for p in multiprocessing.active_children() if p.name == "rank1"]
            if ranks:
                time.sleep(4)  # up, and training
                os.kill(ranks[0].pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_rank, daemon=True)
    killer.start()
    t = time.monotonic()
    with pytest.raises(WorkerError, match=r"data-parallel rank1 died \(exit status -9\)"):
        run_dp(tmp_path / "ck", steps=None, minutes=1.0)
    assert time.monotonic() - t < 40  # not the 1-minute budget, and no hang
    killer.join()
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"processes": 0}, "must be >= 1"),
        ({"batch_size": 9}, "must split evenly over 2"),
        ({"cache": 16}, "use cache 0"),
        ({"workers": 1}, "give no render workers"),
        ({"device": "meta"}, "for CPU cores"),
    ],
)
def test_bad_process_settings_are_usage_errors_before_anything_runs(tmp_path, kw, needle):
    with pytest.raises(UsageError, match=f"processes: .*{needle}") as e:
        run_dp(tmp_path / "ck", **kw)
    assert e.value.field == "processes" and not (tmp_path / "ck").exists()
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("rank")]
