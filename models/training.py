"""One training loop for every model: fresh synthetic batches (or a real folder) -> checkpoint.

Synthetic data: batch ``s`` is samples ``s*B .. s*B+B-1`` of the training stream
``stream_seed(seed, TRAIN)``, so every sample is new and the whole run is fixed by ``seed``.
Worker processes render (and downscale to the model's input) a few batches ahead, so the model,
not the renderer, sets the pace. ``cache=N`` instead keeps a bounded pool of N rendered samples that
the workers keep refreshing and trains on random draws from it (samples are then reused: the
checkpoint records both samples seen and samples rendered).
Validation runs on a fixed set from a different stream, ``stream_seed(seed, VALID)``. With a step or
time budget it is only reported (the final weights are saved whatever it says) and Adam's rate
follows ``lr_factor``. With a :class:`Plateau` budget training runs until validation stops
improving (the rate drops on each plateau, the best weights are kept), under a recorded cap.
Every validation is a row of the learning curve, saved as ``curve.csv`` beside the weights.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from synthgap import metrics, versions
from synthgap.errors import UsageError, WorkerError
from synthgap.generators import Generator, create_generator
from synthgap.io import check_writable_dir
from synthgap.models import create_model
from synthgap.models.base import Recognizer, resize_batch
from synthgap.models.checkpoint import save_checkpoint
from synthgap.models.data_parallel import DataParallel, check_processes
from synthgap.progress import progress as progress_bar
from synthgap.realdata import load_real, split_indices

TRAIN, VALID, TEST = 0, 1, 3  # stream ids: seeds of these streams never coincide


def stream_seed(seed: int, stream: int) -> int:
    """Seed of generator stream ``stream`` for run seed ``seed`` (a 63-bit int)."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def pick_device(device: str | None = None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def keep_freed_memory() -> None:
    """glibc malloc: keep freed memory for reuse rather than hand it back to the system at once.
    Otherwise a training process maps, faults in and zeroes fresh pages for much of each step's
    activations: with this, crnn_ctc's bf16 step on one thread took 0.58 ms a sample instead of
    0.63-0.66 (2 cores). The process keeps up to 1 GiB of freed heap. Elsewhere: nothing to tune."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_trim_threshold, 1 << 30)
    libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest on 64-bit: the heap serves the rest


def bf16_supported(device: torch.device) -> bool:
    """bfloat16 autocast is fast and complete on GPUs and on CPUs with AVX512-BF16 or AMX; on other
    CPUs it is emulated (~10x slower) and oneDNN has no bfloat16 LSTM."""
    return device.type != "cpu" or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def default_workers(device: torch.device) -> int:
    """Render processes: all cores but one on CPU (the model needs one), all cores with a GPU."""
    cores = len(os.sched_getaffinity(0))
    return max(1, cores - (device.type == "cpu"))


def configure_threads(device: torch.device, workers: int, threads: int | None = None) -> int:
    """Torch threads = ``threads``, or the cores the render workers leave free (at least 1)."""
    if device.type == "cpu":
        torch.set_num_threads(threads or max(1, len(os.sched_getaffinity(0)) - workers))
    return torch.get_num_threads()


def train_step(net: Recognizer, opt: torch.optim.Optimizer, batch, device: torch.device, bf16: bool,
               seconds: dict[str, float] | None = None, sync=None):  # fmt: skip
    """One optimisation step on ``batch`` (images, texts, latent indices); the loss and outputs.
    ``sync(loss)``, between the backward pass and the update, averages the gradients over
    data-parallel ranks and returns the mean loss. ``seconds`` accumulates the time of the forward
    pass, of the backward pass with the update, and of ``sync``."""
    t0 = time.perf_counter()
    images_b, texts_b, lidx = batch
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        loss, outputs = net.loss(net.preprocess(images_b), net.targets(texts_b, lidx))
    t1 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    t2 = t3 = time.perf_counter()
    if sync is not None:
        loss = sync(loss)
        t3 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    opt.step()
    if seconds is not None:
        seconds["forward"] += t1 - t0
        seconds["backward"] += t2 - t1 + time.perf_counter() - t3
        seconds["sync"] += t3 - t2
    return loss, outputs


def measure_split(net: Recognizer, batch, render_s: float, bf16: bool, steps: int = 3) -> dict[str, Any]:
    """Render processes and torch threads for a CPU training run, chosen from a measurement.

    ``render_s``: seconds to render ``batch`` in one process. A copy of ``net`` takes ``steps``
    timed steps (after a warm-up) on ``batch`` at each candidate thread count, every count twice
    in turn, and the fastest step counts: the mean of one round once read 1 thread 45 % slow on a
    machine just woken (0.80 against 0.55 ms a sample), which gave that run 1360 samples/s
    instead of 1800. The random state is restored, so the run trains as it would have.
    Each split of the cores predicts samples/s: W render processes beside T = cores - W threads
    give min(W / render, 1 / step_T); no render process gives 1 / (render + step_cores), rendering
    inline. Small networks on few cores are limited by the network, not the renders: there all
    cores go to torch. Measured once, before the first step: load that comes later is not seen,
    and torch on every core beside another busy process runs many times slower (12x measured), so
    share a machine with ``workers`` given.
    """
    import copy

    cores = len(os.sched_getaffinity(0))
    n = len(batch[1])
    splits = sorted({(0, cores)} | {(w, cores - w) for w in (1, 2, 4, 8, 16, 32) if w < cores})
    step_s: dict[int, float] = {}
    before = torch.get_num_threads()
    with torch.random.fork_rng():
        probe = copy.deepcopy(net)
        opt = torch.optim.Adam(probe.parameters(), lr=0.0)
        for threads in sorted({t for _, t in splits}) * 2:  # 1, 2, 1, 2
            torch.set_num_threads(threads)
            train_step(probe, opt, batch, torch.device("cpu"), bf16)
            for _ in range(steps):
                t0 = time.perf_counter()
                train_step(probe, opt, batch, torch.device("cpu"), bf16)
                step_s[threads] = min(step_s.get(threads, math.inf), time.perf_counter() - t0)
    torch.set_num_threads(before)
    rates = {
        (w, t): n / (render_s + step_s[t]) if w == 0 else min(w * n / render_s, n / step_s[t])
        for w, t in splits
    }
    workers, threads = max(rates, key=lambda k: (rates[k], k[0]))
    return {
        "workers": workers,
        "threads": threads,
        "render_ms_per_sample": round(1000 * render_s / n, 3),
        "step_ms_per_sample": {str(t): round(1000 * v / n, 3) for t, v in step_s.items()},
        "predicted_samples_per_s": {f"{w}+{t}": round(r, 1) for (w, t), r in rates.items()},
    }


def latent_indices(gen_latents: dict[str, list], latents: list) -> np.ndarray:
    """(n, K) index of every declared latent's value in its support."""
    return np.array(
        [[vals.index(lat.value(k)) for k, vals in gen_latents.items()] for lat in latents], np.int64
    )


_WORKER: dict[str, Any] = {}


def _worker_state(gen: Generator, hw: tuple[int, int]) -> dict[str, Any]:
    return {"gen": gen, "hw": hw, "latents": {k: list(v) for k, v in gen.discrete_latents().items()}}


def _init_worker(gen: Generator, hw: tuple[int, int]) -> None:
    cv2.setNumThreads(1)
    keep_freed_memory()
    _WORKER.update(_worker_state(gen, hw))


def _render(seed: int, start: int, n: int, state: dict[str, Any] | None = None):
    """One batch, already at the model's input size (smaller to send back). ``state``: the
    generator and sizes (a render process keeps its own in ``_WORKER``)."""
    state = state or _WORKER
    images, lats = state["gen"].generate(n, seed, start=start)
    return (
        resize_batch(images, state["hw"]),
        [lat.text for lat in lats],
        latent_indices(state["latents"], lats),
    )


def render_pool(gen: Generator, hw: tuple[int, int], workers: int) -> tuple[Executor | None, dict | None]:
    """Render workers and the state a task needs sent along (None where the workers hold it).

    Processes, started by ``spawn`` (no forked torch state). A daemonic process, such as a dask
    worker under its nanny, may not start children: there the workers are threads, which overlap
    with training as far as OpenCV, numpy and torch release the GIL.
    """
    if workers <= 0:
        return None, _worker_state(gen, hw)
    if multiprocessing.current_process().daemon:
        return ThreadPoolExecutor(workers, thread_name_prefix="render"), _worker_state(gen, hw)
    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(gen, hw)), None


class SyntheticBatches:
    """Batches of fresh samples from ``gen``, rendered ``prefetch`` batches ahead by ``workers``.
    ``part=(r, P)``: only part r of P of every batch (a data-parallel rank's share)."""

    def __init__(self, gen: Generator, seed: int, batch_size: int, hw: tuple[int, int], workers: int,
                 cache: int = 0, part: tuple[int, int] = (0, 1)) -> None:  # fmt: skip
        self.seed, self.batch_size, self.cache = stream_seed(seed, TRAIN), batch_size, cache
        self.share = batch_size // part[1]
        self.offset = part[0] * self.share
        self.rendered = 0
        self.pool, self.state = render_pool(gen, hw, workers)
        self.queue: deque[Future | tuple] = deque()
        self.next_block = 0
        self.ahead = max(2, 2 * workers)
        if cache:
            blocks = [self._take() for _ in range(-(-cache // batch_size))]
            self.images = np.concatenate([b[0] for b in blocks])[:cache]
            self.texts = [t for b in blocks for t in b[1]][:cache]
            self.lidx = np.concatenate([b[2] for b in blocks])[:cache]
            self.oldest = 0

    def _submit(self) -> None:
        start = self.next_block * self.batch_size + self.offset
        self.next_block += 1
        args = (self.seed, start, self.share, self.state)
        self.queue.append(self.pool.submit(_render, *args) if self.pool else args)

    def _take(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        while len(self.queue) < self.ahead:
            self._submit()
        item = self.queue.popleft()
        try:
            self._submit()
            batch = item.result() if isinstance(item, Future) else _render(*item)
        except BrokenExecutor as e:
            raise WorkerError(
                f"a render worker died (killed, or out of memory?) at sample {self.rendered}: {e}"
            ) from None
        self.rendered += self.share
        return batch

    def batch(self, step: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        if not self.cache:
            return self._take()  # batches come in stream order: batch `step` = block `step`
        while self.queue and isinstance(self.queue[0], Future) and self.queue[0].done():
            images, texts, lidx = self._take()  # refresh the oldest part of the pool
            idx = (self.oldest + np.arange(len(texts))) % self.cache
            self.images[idx], self.lidx[idx] = images, lidx
            for i, t in zip(idx, texts, strict=True):
                self.texts[i] = t
            self.oldest = int(idx[-1] + 1) % self.cache
        pick = np.random.default_rng([self.seed, step]).choice(self.cache, self.batch_size, replace=False)
        return self.images[pick], [self.texts[i] for i in pick], self.lidx[pick]

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(wait=False, cancel_futures=True)


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small random affine changes (rotate +-4 deg, scale 0.93-1.07, shift +-4 % / 8 %) per image."""
    n, h, w = images.shape
    out = np.empty_like(images)
    for i in range(n):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-4, 4), rng.uniform(0.93, 1.07))
        m[:, 2] += (rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.08, 0.08) * h)
        out[i] = cv2.warpAffine(images[i], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


class RealBatches:
    """Batches from a fixed labelled set: a seeded reshuffle each epoch, augmented."""

    def __init__(self, images: np.ndarray, texts: list[str], seed: int, batch_size: int, hw) -> None:
        self.images, self.texts = resize_batch(images, hw), texts
        self.seed, self.batch_size = seed, min(batch_size, len(texts))
        self.per_epoch = len(texts) // self.batch_size
        self.rendered = 0

    def batch(self, step: int):
        epoch, k = divmod(step, self.per_epoch)
        order = np.random.default_rng([self.seed, TRAIN, epoch]).permutation(len(self.texts))
        pick = order[k * self.batch_size : (k + 1) * self.batch_size]
        images = augment(self.images[pick], np.random.default_rng([self.seed, TRAIN, epoch, k]))
        return images, [self.texts[i] for i in pick], None

    def close(self) -> None:
        pass


def lr_factor(progress: float, warmup: float = 0.02, floor: float = 0.02) -> float:
    """Learning-rate multiplier at ``progress`` (0..1 of the step or time budget): a short linear
    warm-up, then a cosine decay to ``floor``. The decay matters: at a constant rate the 10-minute
    CPU runs plateaued (crnn_ctc on wikipedia at ~82 % validation after 7 of 10 minutes)."""
    if progress < warmup:
        return (progress + 1e-3) / (warmup + 1e-3)
    t = min(1.0, (progress - warmup) / (1 - warmup))
    return floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * t))


@dataclass(frozen=True)
class Plateau:
    """Train until validation stops improving, under a cap (instead of a fixed budget).

    A validation makes progress when its score (the mean of recognition and character accuracy)
    gains ``min_delta`` or its loss falls by the fraction ``min_loss_drop`` (the loss moves while
    every string is still wrong, as on CTC's all-blank plateau). After ``patience`` validations
    without progress Adam's rate is multiplied by ``factor``; the plateau after ``drops`` such drops
    ends training. The cap, ``max_minutes`` of wall clock and/or ``max_steps``, ends it in any case;
    the checkpoint records which rule stopped it. The best-scoring weights are the ones saved.
    With ``anneal`` > 0 the last such fraction of the cap also decays the rate (cosine, to 2 %), so
    a run the cap stops still ends at a low rate rather than mid-descent at a high one.
    """

    patience: int = 4
    factor: float = 0.3
    drops: int = 3
    min_delta: float = 0.002
    min_loss_drop: float = 0.01
    warmup_steps: int = 300
    max_steps: int | None = None
    max_minutes: float | None = None
    anneal: float = 0.0

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, why: str) -> None:
            if not ok:
                raise UsageError(f"plateau.{name}: {why}", field=f"plateau.{name}")

        need(self.max_steps is not None or self.max_minutes is not None, "max_minutes", "a cap is needed")
        need(self.max_steps is None or self.max_steps >= 1, "max_steps", "must be >= 1")
        need(self.max_minutes is None or self.max_minutes > 0, "max_minutes", "must be > 0")
        need(self.patience >= 1, "patience", "must be >= 1")
        need(0 < self.factor < 1, "factor", "must be in (0, 1)")
        need(self.drops >= 0, "drops", "must be >= 0")
        need(self.min_delta >= 0, "min_delta", "must be >= 0")
        need(0 <= self.min_loss_drop < 1, "min_loss_drop", "must be in [0, 1)")
        need(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        need(0 <= self.anneal < 1, "anneal", "must be in [0, 1)")


class Schedule:
    """Rate multiplier and stopping rule of one run: a fixed budget (``lr_factor``) or a plateau."""

    def __init__(self, steps: int | None, minutes: float | None, plateau: Plateau | None) -> None:
        if sum(x is not None for x in (steps, minutes, plateau)) != 1:
            raise UsageError("give exactly one of steps, minutes and plateau", field="steps")
        if (steps is not None and steps < 1) or (minutes is not None and minutes <= 0):
            raise UsageError("steps/minutes: must be positive", field="steps")
        self.steps, self.minutes, self.plateau = steps, minutes, plateau
        self.best = self.ref_score = -1.0
        self.best_loss = self.ref_loss = float("inf")
        self.bad, self.drops, self.stop_reason = 0, 0, None

    def factor(self, step: int, elapsed: float) -> float:
        if self.plateau is None:
            progress = step / self.steps if self.steps is not None else elapsed / (self.minutes * 60)
            return lr_factor(progress)
        p = self.plateau
        warm = min(1.0, (step + 1) / p.warmup_steps) if p.warmup_steps else 1.0
        rate = warm * p.factor**self.drops
        if p.anneal:
            progress = max(step / p.max_steps if p.max_steps else 0.0,
                           elapsed / (p.max_minutes * 60) if p.max_minutes else 0.0)  # fmt: skip
            if progress > 1 - p.anneal:
                rate *= lr_factor((progress - 1 + p.anneal) / p.anneal, warmup=0.0)
        return rate

    def done(self, step: int, elapsed: float) -> bool:
        p = self.plateau
        steps = self.steps if p is None else p.max_steps
        minutes = self.minutes if p is None else p.max_minutes
        if self.stop_reason is None and (
            (steps is not None and step >= steps) or (minutes is not None and elapsed >= minutes * 60)
        ):
            self.stop_reason = "budget" if p is None else "cap"
        return self.stop_reason is not None

    def observe(self, score: float, loss: float) -> bool:
        """A validation's score and loss; True when it is the best so far (the weights to keep)."""
        best = score > self.best or (score == self.best and loss < self.best_loss)
        if best:
            self.best, self.best_loss = score, loss
        p = self.plateau
        if p is None:
            return best
        if score > self.ref_score + p.min_delta or loss < self.ref_loss * (1 - p.min_loss_drop):
            self.ref_score, self.ref_loss, self.bad = max(score, self.ref_score), min(loss, self.ref_loss), 0
        else:
            self.bad += 1
        if self.bad >= p.patience:
            if self.drops >= p.drops:
                self.stop_reason = "plateau"
            self.drops, self.bad = min(self.drops + 1, p.drops), 0
        return best


def validate(
    model: Recognizer,
    images: np.ndarray,
    texts: list[str],
    case_sensitive: bool,
    lidx: np.ndarray | None = None,
    batch_size: int = 256,
) -> dict[str, float]:
    """Recognition, character accuracy, the mean training loss and each head's accuracy
    (``Recognizer.head_accuracy``, batch-weighted) on a validation set."""
    pred = model.predict(images, batch_size)
    losses, heads = [], []
    with model.evaluating(), torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            part = None if lidx is None else lidx[i : i + batch_size]
            chunk = texts[i : i + batch_size]
            tg = model.targets(chunk, part)
            loss, outputs = model.loss(model.preprocess(images[i : i + batch_size]), tg)
            losses.append(loss.item())
            heads.append((len(chunk), model.head_accuracy(outputs, tg)))
    weight = sum(n for n, _ in heads)
    return {
        "recognition_rate": metrics.recognition_rate(pred, texts, case_sensitive),
        "char_accuracy": metrics.mean_char_accuracy(pred, texts, case_sensitive),
        "loss": float(np.mean(losses)),
        **{key: sum(n * acc.get(key, 0.0) for n, acc in heads) / weight for key in heads[0][1]},
    }


def train(
    out: Path,
    *,
    model: str = "crnn_ctc",
    size: str = "cpu",
    model_args: dict[str, Any] | None = None,
    input_hw: tuple[int, int] | None = None,
    style: str | None = None,
    elastic: bool = False,
    overrides: dict[str, Any] | None = None,
    real: Path | None = None,
    split: float = 0.9,
    strict: bool = False,
    real_val: float = 0.0,
    steps: int | None = None,
    minutes: float | None = None,
    plateau: Plateau | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    lr: float | None = None,
    workers: int | None = None,
    processes: int = 1,
    cache: int = 0,
    bf16: bool = False,
    val_n: int = 512,
    val_every: int = 200,
    device: str | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> Path:
    """Train ``model`` on a style's fresh samples (or a real folder) and write checkpoint ``out``.

    ``input_hw`` (height, width) replaces the size's input resolution; ``model_args`` go to the
    family (e.g. paper_lstm's ``arch``) and are recorded in the checkpoint's hparams. ``bf16`` runs
    the forward pass under bfloat16 autocast (weights, optimizer and checkpoint stay float32): about twice the
    training throughput on CPUs with AMX / AVX512-BF16. The budget is ``steps``, ``minutes`` or a
    :class:`Plateau` (train to convergence under a cap). ``desc`` labels the progress bar; a
    labelled bar is transient (the grid's bar for its cell). ``processes`` > 1 trains data-parallel
    on that many CPU processes, each rendering its part of every batch (models/data_parallel.py).
    """
    schedule = Schedule(steps, minutes, plateau)
    if (style is None) == (real is None):
        raise UsageError("give exactly one of style and real", field="style")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"out: {out} already exists and is not empty", field="out")
    check_writable_dir(out)
    dev = pick_device(device)
    if bf16 and not bf16_supported(dev):
        raise UsageError("bf16: this CPU has no bfloat16 support (AVX512-BF16 or AMX); train in float32",
                         field="bf16")  # fmt: skip
    check_processes(processes, synthetic=style is not None, device=dev, cache=cache, workers=workers)
    if dev.type == "cpu":
        keep_freed_memory()
    # split chosen by measure_split; data-parallel ranks render inline on one thread each
    measure = workers is None and dev.type == "cpu" and style is not None and processes == 1
    workers = (default_workers(dev) if workers is None else workers) if processes == 1 else 0
    threads = configure_threads(dev, workers, 1 if processes > 1 else None)
    meta: dict[str, Any] = {
        "seed": seed,
        "size": size,
        "cache": cache,
        "processes": processes,
        "precision": "bf16" if bf16 else "fp32",
    }

    torch.manual_seed(seed)  # initial weights and dropout
    if style is not None:
        gen = create_generator(style, elastic=elastic, **(overrides or {}))
        c = gen.config
        case_sensitive = gen.case_sensitive
        latents = {k: list(v) for k, v in gen.discrete_latents().items()}
        net = create_model(model, charset=c.charset, max_len=c.lengths[1], size=size, latents=latents,
                           input_hw=input_hw, **(model_args or {}))  # fmt: skip
        val_images, val_lats = gen.generate(val_n, stream_seed(seed, VALID), workers=max(1, workers))
        val_texts = [lat.text for lat in val_lats]
        val_lidx = latent_indices(latents, val_lats)
        meta.update(
            style=style, variant=gen.variant, overrides=overrides or {}, generator=gen.manifest()["config"],
            generator_version=gen.version, prior=gen.text_prior(),
        )  # fmt: skip
    else:
        folder = Path(real)
        real_set = load_real(folder, case_sensitive=False, strict=strict)
        images, labels, case_sensitive = real_set.images, real_set.labels, False
        charset = "".join(sorted(set("".join(labels))))
        tr, ho = split_indices(len(labels), split, seed)
        n_heldout = len(ho)
        if real_val:  # validate on a seeded part of the training side; the held-out part stays unseen
            keep, val_part = split_indices(len(tr), 1 - real_val, seed + 1)
            tr, ho = tr[keep], tr[val_part]
        net = create_model(model, charset=charset, max_len=max(map(len, labels)), size=size,
                           input_hw=input_hw, **(model_args or {}))  # fmt: skip
        if net.needs_latents:
            raise UsageError(f"model: {model} needs synthetic latents; train it with --style", field="model")
        val_images, val_texts, val_lidx = images[ho], [labels[i] for i in ho], None
        meta.update(style=None, variant="real", real=str(folder.resolve()), split=split, n_train=len(tr),
                    n_heldout=n_heldout, real_val=real_val, n_val=len(ho))  # fmt: skip
    net.to(dev, memory_format=torch.channels_last).train()  # 10-25 % faster convs on CPU
    batch_size = batch_size or net.default_batch[size]
    if cache and cache < batch_size:
        raise UsageError(f"cache: must be 0 or >= the batch size {batch_size}", field="cache")
    if batch_size % processes:
        raise UsageError(f"processes: the batch size {batch_size} must split evenly over {processes}",
                         field="processes")  # fmt: skip
    meta["batch_size"] = batch_size
    lr = lr if lr is not None else net.default_lr[size]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    if style is not None:
        if measure:
            state = _worker_state(gen, net.input_hw)
            _render(stream_seed(seed, TRAIN), 0, batch_size, state)  # fills this process's glyph caches
            t = time.perf_counter()
            probe = _render(stream_seed(seed, TRAIN), batch_size, batch_size, state)
            meta["split"] = measure_split(net, probe, time.perf_counter() - t, bf16)
            workers = meta["split"]["workers"]
            threads = configure_threads(dev, workers, meta["split"]["threads"])
        source = SyntheticBatches(gen, seed, batch_size, net.input_hw, workers, cache, part=(0, processes))
    else:
        source = RealBatches(images[tr], [labels[i] for i in tr], seed, batch_size, net.input_hw)

    t0, step, seen, acc, val, losses = time.time(), 0, 0, 0.0, {}, []
    # where the time went (batch_wait: rendering, for a data-parallel rank; sync: averaging gradients)
    seconds = dict.fromkeys(("batch_wait", "forward", "backward", "sync", "validate"), 0.0)
    curve: list[dict[str, float]] = []
    best_state = None
    ranks = None
    bar = progress_bar(desc or "train", total=steps, enabled=progress, leave=desc is None)
    try:
        if processes > 1:
            ranks = DataParallel(processes, gen, net, seed, batch_size, bf16, seconds)
            t0 = time.time()  # the budget starts when every rank is up
        while not schedule.done(step, time.time() - t0):
            rate = lr * schedule.factor(step, time.time() - t0)
            for group in opt.param_groups:
                group["lr"] = rate
            if ranks is not None:
                ranks.command(rate)
            t_wait = time.perf_counter()
            images_b, texts_b, lidx = batch = source.batch(step)
            seconds["batch_wait"] += time.perf_counter() - t_wait
            loss, outputs = train_step(net, opt, batch, dev, bf16, seconds, ranks and ranks.sync)
            step, seen = step + 1, seen + len(texts_b) * processes
            losses.append(loss.item())
            if step % 10 == 1:
                batch_acc = metrics.recognition_rate(net.decode(outputs.detach()), texts_b, case_sensitive)
                acc = batch_acc if step == 1 else 0.8 * acc + 0.2 * batch_acc
            if step % val_every == 0:
                t_val = time.perf_counter()
                val = validate(net, val_images, val_texts, case_sensitive, val_lidx)
                seconds["validate"] += time.perf_counter() - t_val
                if schedule.observe(val_score(val), val["loss"]) and plateau is not None:
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                    best_step = step
                curve.append(
                    {
                        "step": step,
                        "seconds": round(time.time() - t0, 2),
                        "lr": rate,
                        "loss": float(np.mean(losses)),
                        "train_recognition": round(acc, 4),
                        "val_loss": val["loss"],
                        "val_recognition": val["recognition_rate"],
                        "val_char_accuracy": val["char_accuracy"],
                        **{k: round(v, 4) for k, v in val.items() if k.startswith("acc_")},
                    }
                )
                losses = []
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{acc:.3f}", lr=f"{rate:.2g}",
                            val=f"{val.get('recognition_rate', float('nan')):.3f}",
                            sps=f"{seen / (time.time() - t0):.0f}")  # fmt: skip
    finally:
        bar.close()
        source.close()
        if ranks is not None:
            meta["time_s_ranks"] = ranks.close()
    wall = time.time() - t0
    if best_state is not None:  # a plateau run keeps its best validated weights
        net.load_state_dict(best_state)
        meta["best_step"] = best_step
    val = validate(net, val_images, val_texts, case_sensitive, val_lidx)
    meta.update(
        model=model, lr=lr, steps=step, wall_s=round(wall, 2), samples_seen=seen,
        samples_rendered=source.rendered * processes, samples_per_s=round(seen / wall, 1),
        case_sensitive=case_sensitive,
        device=str(dev), workers=workers, torch_threads=threads, val_n=len(val_texts), val=val,
        time_s={k: round(v, 3) for k, v in seconds.items()},  # on a GPU, forward time shows in backward
        val_every=val_every, stop=schedule.stop_reason, plateau=asdict(plateau) if plateau else None,
        versions=versions(),
    )  # fmt: skip
    return save_checkpoint(net.cpu(), out, meta, files={CURVE: curve_csv(curve)})


def val_score(val: dict[str, float]) -> float:
    """What a plateau is judged on: recognition and character accuracy, equally weighted."""
    return 0.5 * (val["recognition_rate"] + val["char_accuracy"])


CURVE = "curve.csv"
CURVE_COLUMNS = ("step", "seconds", "lr", "loss", "train_recognition", "val_loss", "val_recognition",
                 "val_char_accuracy")  # fmt: skip


def curve_csv(rows: list[dict[str, float]]) -> bytes:
    """The learning curve, a row per validation (loss: mean over the steps since the last one),
    then each head's validation accuracy where the family reports them (``acc_L``, ``acc_c1``, ...)."""
    import pandas as pd

    heads = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in CURVE_COLUMNS]
    return pd.DataFrame(rows, columns=[*CURVE_COLUMNS, *heads]).to_csv(index=False).encode()
