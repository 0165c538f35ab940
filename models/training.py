"""One training loop for every model: fresh synthetic batches (or a real folder) -> checkpoint.

Synthetic data: batch ``s`` is samples ``s*B .. s*B+B-1`` of the training stream
``stream_seed(seed, TRAIN)``, so every sample is new and the whole run is fixed by ``seed``.
Worker processes render (and downscale to the model's input) a few batches ahead, so the model,
not the renderer, sets the pace. ``cache=N`` instead keeps a bounded pool of N rendered samples that
the workers keep refreshing and trains on random draws from it (samples are then reused: the
checkpoint records both samples seen and samples rendered).
Validation runs on a fixed set from a different stream, ``stream_seed(seed, VALID)``; it is only
reported (the final weights are saved whatever it says). Adam's rate follows ``lr_factor``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from tqdm import tqdm

from synthgap import metrics, versions
from synthgap.errors import UsageError
from synthgap.generators import Generator, create_generator
from synthgap.io import check_writable_dir
from synthgap.models import create_model
from synthgap.models.base import Recognizer, resize_batch
from synthgap.models.checkpoint import save_checkpoint
from synthgap.realdata import load_real, split_indices

TRAIN, VALID, TEST = 0, 1, 3  # stream ids: seeds of these streams never coincide


def stream_seed(seed: int, stream: int) -> int:
    """Seed of generator stream ``stream`` for run seed ``seed`` (a 63-bit int)."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def pick_device(device: str | None = None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def default_workers(device: torch.device) -> int:
    """Render processes: all cores but one on CPU (the model needs one), all cores with a GPU."""
    cores = len(os.sched_getaffinity(0))
    return max(1, cores - (device.type == "cpu"))


def configure_threads(device: torch.device, workers: int) -> int:
    """Torch threads = cores the render workers leave free (at least 1), so nobody oversubscribes."""
    if device.type == "cpu":
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) - workers))
    return torch.get_num_threads()


def latent_indices(gen_latents: dict[str, list], latents: list) -> np.ndarray:
    """(n, K) index of every declared latent's value in its support."""
    return np.array(
        [[vals.index(lat.value(k)) for k, vals in gen_latents.items()] for lat in latents], np.int64
    )


_WORKER: dict[str, Any] = {}


def _init_worker(gen: Generator, hw: tuple[int, int]) -> None:
    cv2.setNumThreads(1)
    _WORKER.update(gen=gen, hw=hw, latents={k: list(v) for k, v in gen.discrete_latents().items()})


def _render(seed: int, start: int, n: int) -> tuple[np.ndarray, list[str], np.ndarray]:
    """One batch, already at the model's input size (smaller to send back)."""
    images, lats = _WORKER["gen"].generate(n, seed, start=start)
    return (
        resize_batch(images, _WORKER["hw"]),
        [lat.text for lat in lats],
        latent_indices(_WORKER["latents"], lats),
    )


class SyntheticBatches:
    """Batches of fresh samples from ``gen``, rendered ``prefetch`` batches ahead by ``workers``."""

    def __init__(self, gen: Generator, seed: int, batch_size: int, hw: tuple[int, int], workers: int,
                 cache: int = 0) -> None:  # fmt: skip
        self.seed, self.batch_size, self.cache = stream_seed(seed, TRAIN), batch_size, cache
        self.rendered = 0
        self.pool = None
        if workers > 0:
            ctx = multiprocessing.get_context("spawn")  # no forked torch state in the workers
            self.pool = ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(gen, hw))
        else:
            _init_worker(gen, hw)
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
        start = self.next_block * self.batch_size
        self.next_block += 1
        args = (self.seed, start, self.batch_size)
        self.queue.append(self.pool.submit(_render, *args) if self.pool else args)

    def _take(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        while len(self.queue) < self.ahead:
            self._submit()
        item = self.queue.popleft()
        self._submit()
        self.rendered += self.batch_size
        return item.result() if isinstance(item, Future) else _render(*item)

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


def validate(
    model: Recognizer, images: np.ndarray, texts: list[str], case_sensitive: bool
) -> dict[str, float]:
    pred = model.predict(images)
    return {
        "recognition_rate": metrics.recognition_rate(pred, texts, case_sensitive),
        "char_accuracy": metrics.mean_char_accuracy(pred, texts, case_sensitive),
    }


def train(
    out: Path,
    *,
    model: str = "crnn_ctc",
    size: str = "cpu",
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
    seed: int = 0,
    batch_size: int | None = None,
    lr: float | None = None,
    workers: int | None = None,
    cache: int = 0,
    bf16: bool = False,
    val_n: int = 512,
    val_every: int = 200,
    device: str | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> Path:
    """Train ``model`` on a style's fresh samples (or a real folder) and write checkpoint ``out``.

    ``input_hw`` (height, width) replaces the size's input resolution. ``bf16`` runs the forward pass
    under bfloat16 autocast (weights, optimizer and checkpoint stay float32): about twice the
    training throughput on CPUs with AMX / AVX512-BF16. ``desc`` labels the progress bar; a
    labelled bar is transient (the grid's bar for its cell).
    """
    if (steps is None) == (minutes is None):
        raise UsageError("give exactly one of steps and minutes", field="steps")
    if (steps is not None and steps < 1) or (minutes is not None and minutes <= 0):
        raise UsageError("steps/minutes: must be positive", field="steps")
    if (style is None) == (real is None):
        raise UsageError("give exactly one of style and real", field="style")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"out: {out} already exists and is not empty", field="out")
    check_writable_dir(out)
    dev = pick_device(device)
    workers = default_workers(dev) if workers is None else workers
    threads = configure_threads(dev, workers)
    meta: dict[str, Any] = {
        "seed": seed,
        "size": size,
        "cache": cache,
        "precision": "bf16" if bf16 else "fp32",
    }

    if style is not None:
        gen = create_generator(style, elastic=elastic, **(overrides or {}))
        c = gen.config
        case_sensitive = gen.case_sensitive
        latents = {k: list(v) for k, v in gen.discrete_latents().items()}
        net = create_model(model, charset=c.charset, max_len=c.lengths[1], size=size, latents=latents,
                           input_hw=input_hw)  # fmt: skip
        val_images, val_lats = gen.generate(val_n, stream_seed(seed, VALID), workers=max(1, workers))
        val_texts = [lat.text for lat in val_lats]
        meta.update(
            style=style, variant=gen.variant, overrides=overrides or {}, generator=gen.manifest()["config"]
        )
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
        net = create_model(
            model, charset=charset, max_len=max(map(len, labels)), size=size, input_hw=input_hw
        )
        if net.needs_latents:
            raise UsageError(f"model: {model} needs synthetic latents; train it with --style", field="model")
        val_images, val_texts = images[ho], [labels[i] for i in ho]
        meta.update(style=None, variant="real", real=str(folder.resolve()), split=split, n_train=len(tr),
                    n_heldout=n_heldout, real_val=real_val, n_val=len(ho))  # fmt: skip
    net.to(dev).train()
    batch_size = batch_size or net.default_batch[size]
    if cache and cache < batch_size:
        raise UsageError(f"cache: must be 0 or >= the batch size {batch_size}", field="cache")
    meta["batch_size"] = batch_size
    lr = lr if lr is not None else net.default_lr[size]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    if style is not None:
        source = SyntheticBatches(gen, seed, batch_size, net.input_hw, workers, cache)
    else:
        source = RealBatches(images[tr], [labels[i] for i in tr], seed, batch_size, net.input_hw)

    t0, step, seen, acc, val = time.time(), 0, 0, 0.0, {}
    bar = tqdm(
        total=steps, disable=not progress, unit="step", dynamic_ncols=True, desc=desc, leave=desc is None
    )
    try:
        while (step < steps) if steps is not None else (time.time() - t0 < minutes * 60):
            progress = step / steps if steps is not None else (time.time() - t0) / (minutes * 60)
            for group in opt.param_groups:
                group["lr"] = lr * lr_factor(progress)
            images_b, texts_b, lidx = source.batch(step)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                loss, outputs = net.loss(net.preprocess(images_b), net.targets(texts_b, lidx))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            step, seen = step + 1, seen + len(texts_b)
            if step % 10 == 1:
                batch_acc = metrics.recognition_rate(net.decode(outputs.detach()), texts_b, case_sensitive)
                acc = batch_acc if step == 1 else 0.8 * acc + 0.2 * batch_acc
            if step % val_every == 0:
                val = validate(net, val_images, val_texts, case_sensitive)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{acc:.3f}",
                            val=f"{val.get('recognition_rate', float('nan')):.3f}",
                            sps=f"{seen / (time.time() - t0):.0f}")  # fmt: skip
    finally:
        bar.close()
        source.close()
    wall = time.time() - t0
    val = validate(net, val_images, val_texts, case_sensitive)
    meta.update(
        model=model, lr=lr, steps=step, wall_s=round(wall, 2), samples_seen=seen,
        samples_rendered=source.rendered, samples_per_s=round(seen / wall, 1), case_sensitive=case_sensitive,
        device=str(dev), workers=workers, torch_threads=threads, val_n=len(val_texts), val=val,
        versions=versions(),
    )  # fmt: skip
    return save_checkpoint(net.cpu(), out, meta)
