"""Data-parallel CPU training: P processes ("ranks"), each rendering its part of every batch inline
and training its own copy of the network on one thread; the gradients are averaged before every
rank takes the same Adam step, so the copies stay equal.

Why: with one render process beside one torch thread, the faster of the two waits for the slower
(crnn_ctc bf16 on 2 cores: 0.39 ms to render a sample, 0.52 ms to train on it). With P ranks every
core renders and trains, so the rate is about P / (render + step) instead of 1 / max(render, step).

Batch ``s`` holds the same samples as in a one-process run: rank r renders part r of it. BatchNorm
normalises each part by its own statistics and the checkpoint keeps rank 0's running statistics,
so a run is fixed by (seed, processes) but is not bit-identical to a one-process run; that is why
more than one process is asked for, never chosen by the measured split.

Rank 0 runs the training loop (schedule, validation, checkpoint) and, before each step, sends the
other ranks the learning rate, or the stop. The ranks meet at a TCP store on 127.0.0.1 and average
gradients with gloo. A rank that dies breaks the next collective: rank 0 raises
:class:`WorkerError` instead of waiting.
"""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing
import os
import time
from typing import Any

import cv2
import torch
import torch.distributed as dist

from synthgap.errors import UsageError, WorkerError
from synthgap.generators import Generator
from synthgap.models.base import Recognizer

# How long a rank waits at a collective: the others wait there while rank 0 validates.
TIMEOUT = datetime.timedelta(minutes=30)
START_S = 120.0  # how long rank 0 waits for a spawned rank to report


def check_processes(processes: int, *, synthetic: bool, device: torch.device, cache: int, workers: int | None,
                    batch_size: int | None = None) -> None:  # fmt: skip
    """Usage errors for ``processes`` before anything starts (the batch split once it is known)."""

    def need(ok: bool, why: str) -> None:
        if not ok:
            raise UsageError(f"processes: {why}", field="processes")

    need(processes >= 1, f"must be >= 1, got {processes}")
    if processes == 1:
        return
    need(synthetic, "data-parallel training renders its batches; train on a style, not a real folder")
    need(device.type == "cpu", f"data-parallel training is for CPU cores, not {device}")
    need(not cache, "each rank renders its part of every batch: use cache 0")
    need(not workers, "each rank renders its part inline: give no render workers")
    need(batch_size is None or batch_size % processes == 0,
         f"the batch size {batch_size} must split evenly over {processes}")  # fmt: skip
    need(not multiprocessing.current_process().daemon, "a daemonic process (dask worker) cannot start ranks")


def average_gradients(net: Recognizer, loss: torch.Tensor, world: int) -> torch.Tensor:
    """Sum every rank's gradients and loss in one all-reduce, divide by ``world``; the mean loss.
    (Rendering the next batch while the sum travels was measured no faster: the rendering slowed
    by what the wait shrank.)"""
    params = [p for p in net.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:  # a head that this part of the batch did not reach
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params] + [loss.detach().float().reshape(1)])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        n = p.numel()
        p.grad.copy_(flat[offset : offset + n].view(p.shape))
        offset += n
    return flat[-1]


def _rank_main(rank: int, world: int, port: int, core: int, gen: Generator, net: Recognizer, seed: int,
               batch_size: int, bf16: bool) -> None:  # fmt: skip
    """Ranks 1..P-1: take the rate, render this rank's part of the batch, step; until told to stop."""
    from synthgap.models.training import SyntheticBatches, stream_seed, train_step

    os.sched_setaffinity(0, {core})
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    store = dist.TCPStore("127.0.0.1", port, world, is_master=False, timeout=TIMEOUT)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world, timeout=TIMEOUT)
    torch.manual_seed(stream_seed(seed, 100 + rank))  # dropout, where a family has it
    with torch.no_grad():  # unpickled tensors can sit at any alignment, and oneDNN rounds by it
        for t in [*net.parameters(), *net.buffers()]:
            t.data = t.data.clone()
    net.to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(net.parameters(), lr=0.0)
    source = SyntheticBatches(gen, seed, batch_size, net.input_hw, workers=0, part=(rank, world))
    control, step = torch.zeros(1, dtype=torch.float64), 0
    try:
        while True:
            dist.broadcast(control, 0)
            if control.item() < 0:
                break
            for group in opt.param_groups:
                group["lr"] = control.item()
            sync = lambda loss: average_gradients(net, loss, world)  # noqa: E731
            train_step(net, opt, source.batch(step), torch.device("cpu"), bf16, sync=sync)
            step += 1
    finally:
        dist.destroy_process_group()


class DataParallel:
    """Rank 0's side: starts ranks 1..P-1 with copies of ``net``, then per step sends the rate and
    averages the gradients (``sync``); ``close`` stops them. Time spent in both goes to
    ``seconds["sync"]``."""

    def __init__(self, processes: int, gen: Generator, net: Recognizer, seed: int, batch_size: int,
                 bf16: bool, seconds: dict[str, float]) -> None:  # fmt: skip
        self.world, self.net, self.seconds = processes, net, seconds
        # one core per rank: 4-5 % more samples/s than letting ranks migrate (2 cores, crnn_ctc)
        self.affinity = os.sched_getaffinity(0)
        cores = sorted(self.affinity)
        os.sched_setaffinity(0, {cores[0]})  # this thread, and the threads it starts (gloo's)
        self.store = dist.TCPStore("127.0.0.1", 0, processes, is_master=True, timeout=TIMEOUT,
                                   wait_for_workers=False)  # fmt: skip
        ctx = multiprocessing.get_context("spawn")  # no forked torch state
        self.ranks = []
        for rank in range(1, processes):
            core = cores[rank % len(cores)]
            args = (rank, processes, self.store.port, core, gen, net, seed, batch_size, bf16)
            p = ctx.Process(target=_rank_main, args=args, daemon=True, name=f"rank{rank}")
            p.start()
            self.ranks.append(p)
        try:
            self._join_group()
        except BaseException:
            self._stop()
            raise

    def _join_group(self) -> None:
        """Wait until every rank reports (or one dies), meeting it in the process group."""
        from threading import Thread

        joined: list[BaseException | None] = []

        def join() -> None:
            try:
                dist.init_process_group("gloo", store=self.store, rank=0, world_size=self.world,
                                        timeout=TIMEOUT)  # fmt: skip
                joined.append(None)
            except BaseException as e:  # noqa: BLE001 - re-raised below, in the caller's thread
                joined.append(e)

        thread = Thread(target=join, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_S
        while thread.is_alive():
            self._check_alive("starting")
            if time.monotonic() > deadline:
                raise WorkerError(f"data-parallel ranks did not start within {START_S:.0f} s")
            thread.join(0.05)
        if joined[0] is not None:
            raise WorkerError(f"data-parallel ranks could not meet: {joined[0]}") from joined[0]

    def _check_alive(self, doing: str) -> None:
        for p in self.ranks:
            if not p.is_alive():
                raise WorkerError(f"data-parallel {p.name} died (exit status {p.exitcode}) while {doing}")

    def command(self, rate: float) -> None:
        """Before each step: the learning rate every rank is to use."""
        t = time.perf_counter()
        control = torch.tensor([rate], dtype=torch.float64)
        self._collective(lambda: dist.broadcast(control, 0), "sending the rate")
        self.seconds["sync"] += time.perf_counter() - t

    def sync(self, loss: torch.Tensor) -> torch.Tensor:
        """After the backward pass: every rank's gradients averaged into ``net``'s; the mean loss."""
        t = time.perf_counter()
        mean = self._collective(lambda: average_gradients(self.net, loss, self.world), "averaging gradients")
        self.seconds["sync"] += time.perf_counter() - t
        return mean

    def _collective(self, fn, doing: str) -> Any:
        try:
            return fn()
        except RuntimeError as e:
            for p in self.ranks:
                p.join(1.0)
            self._check_alive(doing)
            raise WorkerError(f"data-parallel training failed while {doing}: {e}") from None

    def close(self) -> None:
        """Tell the ranks to stop (when they can still hear it) and wait for them."""
        if dist.is_initialized():
            with contextlib.suppress(RuntimeError):  # a rank already gone: the run's error says so
                dist.broadcast(torch.tensor([-1.0], dtype=torch.float64), 0)
        self._stop()

    def _stop(self) -> None:
        for p in self.ranks:
            p.join(10.0)
            if p.is_alive():
                p.kill()
                p.join()
        if dist.is_initialized():
            dist.destroy_process_group()
        os.sched_setaffinity(0, self.affinity)
