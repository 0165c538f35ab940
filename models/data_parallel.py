"""Data-parallel CPU training: P processes ("ranks"), each rendering its part of every batch inline
and training its own copy of the network on one thread; the gradients are averaged before every
rank takes the same Adam step, so the copies stay equal.

Why: with one render process beside one torch thread, the faster of the two waits for the slower
(crnn_ctc bf16 on 2 cores: 0.38 ms to render a sample, 0.55 ms to train on it). With P ranks every
core renders and trains, so the rate is about P / (render + step) instead of 1 / max(render, step).

Batch ``s`` holds the same samples as in a one-process run: rank r renders part r of it. BatchNorm
normalises each part by its own statistics and the checkpoint keeps rank 0's running statistics,
so a run is fixed by (seed, processes) but is not bit-identical to a one-process run; that is why
more than one process is asked for, never chosen by the measured split.

Rank 0 runs the training loop (schedule, validation, checkpoint) and, before each step, sets the
learning rate, or the stop. The ranks exchange gradients through shared memory (:class:`Exchange`),
signalled by semaphores: on 2 cores rank 0 spent 2-4 ms a step there (waiting for the slower rank
included) where gloo's all-reduce over loopback took 5-8 ms. A rank that waits checks every 0.2 s
that the others live: when one has died rank 0 raises :class:`WorkerError` instead of waiting, and
a rank whose parent has gone exits.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections.abc import Callable
from functools import partial

import cv2
import torch

from synthgap.errors import UsageError, WorkerError
from synthgap.generators import Generator
from synthgap.models.base import Recognizer

POLL_S = 0.2  # how often a waiting rank checks that the others live
ACCOUNTS = ("batch_wait", "forward", "backward", "sync")  # a rank's time, as the training loop's
START_S = 120.0  # how long rank 0 waits for a spawned rank to report


def check_processes(processes: int, *, synthetic: bool, device: torch.device, cache: int,
                    workers: int | None) -> None:  # fmt: skip
    """Usage errors for ``processes`` before anything starts (the batch split is checked once the
    batch size is known)."""

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
    need(not multiprocessing.current_process().daemon, "a daemonic process (dask worker) cannot start ranks")


class Exchange:
    """What the ranks share. Per rank two gradient slots, used in turn, so that a rank may write
    step s+1 while a slower one still reads step s; the rate rank 0 sets; per ordered pair of ranks
    a semaphore meaning "my slot of this step is written" (a semaphore per pair, not per rank:
    with more than two ranks a count per rank could mix two steps' posts). Every rank sums the
    slots in rank order, so all hold the same average, and a run repeats to the bit."""

    def __init__(self, world: int, n: int, ctx) -> None:
        self.world = world
        self.slots = torch.zeros(2, world, n).share_memory_()  # gradients + the loss, per rank
        self.rate = torch.zeros(1, dtype=torch.float64).share_memory_()  # < 0: stop
        self.posted = [[ctx.Semaphore(0) for _ in range(world)] for _ in range(world)]  # [from][to]
        self.told = [ctx.Semaphore(0) for _ in range(world)]  # rank 0 -> rank r: the rate is set
        self.seconds = torch.zeros(world, len(ACCOUNTS), dtype=torch.float64).share_memory_()  # at the end
        self.rank, self.step = 0, 0
        self.alive: Callable[[str], None]  # raises when a rank that this one waits for is gone

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "alive"}  # each side sets its own

    def wait(self, sem, doing: str) -> None:
        while not sem.acquire(timeout=POLL_S):
            self.alive(doing)

    def average(self, net: Recognizer, loss: torch.Tensor) -> torch.Tensor:
        """Every rank's gradients and loss averaged into ``net``'s; the mean loss."""
        params = [p for p in net.parameters() if p.requires_grad]
        for p in params:
            if p.grad is None:  # a head that this part of the batch did not reach
                p.grad = torch.zeros_like(p)
        slot = self.slots[self.step % 2]
        flat = [p.grad.reshape(-1) for p in params] + [loss.detach().float().reshape(1)]
        torch.cat(flat, out=slot[self.rank])
        others = [q for q in range(self.world) if q != self.rank]
        for q in others:
            self.posted[self.rank][q].release()
        for q in others:
            self.wait(self.posted[q][self.rank], "averaging gradients")
        mean = slot.sum(0).div_(self.world)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad.copy_(mean[offset : offset + n].view(p.shape))
            offset += n
        self.step += 1
        return mean[-1]


def _rank_main(rank: int, exchange: Exchange, core: int, gen: Generator, net: Recognizer, seed: int,
               batch_size: int, bf16: bool) -> None:  # fmt: skip
    """Ranks 1..P-1: take the rate, render this rank's part of the batch, step; until told to stop."""
    from synthgap.models.training import SyntheticBatches, keep_freed_memory, stream_seed, train_step

    keep_freed_memory()
    os.sched_setaffinity(0, {core})
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    parent = os.getppid()

    def alive(doing: str) -> None:
        if os.getppid() != parent:  # rank 0 is gone: nobody will ever post again
            raise SystemExit(1)

    exchange.rank, exchange.alive = rank, alive
    torch.manual_seed(stream_seed(seed, 100 + rank))  # dropout, where a family has it
    with torch.no_grad():  # unpickled tensors can sit at any alignment, and oneDNN rounds by it
        for t in [*net.parameters(), *net.buffers()]:
            t.data = t.data.clone()
    net.to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(net.parameters(), lr=0.0)
    source = SyntheticBatches(gen, seed, batch_size, net.input_hw, workers=0, part=(rank, exchange.world))
    seconds = dict.fromkeys(ACCOUNTS, 0.0)
    exchange.posted[rank][0].release()  # up
    for step in itertools.count():
        t = time.perf_counter()
        exchange.wait(exchange.told[rank], "waiting for the rate")
        rate = exchange.rate.item()
        seconds["sync"] += time.perf_counter() - t
        if rate < 0:
            break
        for group in opt.param_groups:
            group["lr"] = rate
        t = time.perf_counter()
        batch = source.batch(step)
        seconds["batch_wait"] += time.perf_counter() - t
        train_step(net, opt, batch, torch.device("cpu"), bf16, seconds, partial(exchange.average, net))
    exchange.seconds[rank] = torch.tensor([seconds[k] for k in ACCOUNTS], dtype=torch.float64)


class DataParallel:
    """Rank 0's side: starts ranks 1..P-1 with copies of ``net``, then per step sets the rate
    (``command``) and averages the gradients (``sync``); ``close`` stops them. Time spent setting
    the rate goes to ``seconds["sync"]`` (``train_step`` adds the averaging's)."""

    def __init__(self, processes: int, gen: Generator, net: Recognizer, seed: int, batch_size: int,
                 bf16: bool, seconds: dict[str, float]) -> None:  # fmt: skip
        self.world, self.net, self.seconds = processes, net, seconds
        ctx = multiprocessing.get_context("spawn")  # no forked torch state
        n = sum(p.numel() for p in net.parameters() if p.requires_grad) + 1
        self.exchange = Exchange(processes, n, ctx)
        # one core per rank: 4-5 % more samples/s than letting ranks migrate (2 cores, crnn_ctc)
        self.affinity = os.sched_getaffinity(0)
        cores = sorted(self.affinity)
        self.ranks = []
        for rank in range(1, processes):
            args = (rank, self.exchange, cores[rank % len(cores)], gen, net, seed, batch_size, bf16)
            p = ctx.Process(target=_rank_main, args=args, daemon=True, name=f"rank{rank}")
            p.start()
            self.ranks.append(p)
        os.sched_setaffinity(0, {cores[0]})  # this thread
        self.exchange.alive = self._check_alive
        deadline = time.monotonic() + START_S
        try:
            for rank in range(1, processes):  # each rank posts once when it is ready
                while not self.exchange.posted[rank][0].acquire(timeout=POLL_S):
                    self._check_alive("starting")
                    if time.monotonic() > deadline:
                        raise WorkerError(f"data-parallel ranks did not start within {START_S:.0f} s")
        except BaseException:
            self._stop()
            raise

    def _check_alive(self, doing: str) -> None:
        for p in self.ranks:
            if not p.is_alive():
                raise WorkerError(f"data-parallel {p.name} died (exit status {p.exitcode}) while {doing}")

    def command(self, rate: float) -> None:
        """Before each step: the learning rate every rank is to use."""
        t = time.perf_counter()
        self._check_alive("sending the rate")
        self.exchange.rate.fill_(rate)
        for sem in self.exchange.told[1:]:
            sem.release()
        self.seconds["sync"] += time.perf_counter() - t

    def sync(self, loss: torch.Tensor) -> torch.Tensor:
        """After the backward pass: every rank's gradients averaged into ``net``'s; the mean loss."""
        return self.exchange.average(self.net, loss)

    def close(self) -> dict[str, dict[str, float]]:
        """Tell the ranks to stop and wait for them; the time accounts of ranks 1..P-1 (their
        ``sync`` includes waiting while rank 0 validates)."""
        self.exchange.rate.fill_(-1.0)
        for sem in self.exchange.told[1:]:
            sem.release()
        self._stop()
        accounts = self.exchange.seconds.tolist()
        return {
            f"rank{r}": dict(zip(ACCOUNTS, map(round, accounts[r], [3] * 4), strict=True))
            for r in range(1, self.world)
        }

    def _stop(self) -> None:
        for p in self.ranks:
            p.join(5.0)
            if p.is_alive():  # stuck mid-step: the run has already failed
                p.kill()
                p.join()
        os.sched_setaffinity(0, self.affinity)
