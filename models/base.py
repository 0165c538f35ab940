"""The interface every recognizer shares, so one loop trains them and one routine evaluates them.

A family subclasses :class:`Recognizer` and implements ``targets`` (labels -> tensors), ``loss``
(one batch -> scalar and raw outputs), ``decode`` (raw outputs -> best strings), ``sample``
(proposal draws with their log q) and ``text_log_prob`` (the probability of given strings, which
``log_prob`` and ``confidence`` use for calibration). Images enter as
uint8 gray arrays of any size; ``preprocess`` resizes them to the family's input size and turns
ink into positive values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import cv2
import numpy as np
import torch
from torch import nn

from synthgap.errors import UsageError

SIZES = ("cpu", "paper")


def resize_batch(images: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """uint8 (n, H, W) -> uint8 (n, h, w) by area averaging (no-op when the size already matches)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.shape[1:] == tuple(hw):
        return images
    out = np.empty((len(images), *hw), np.uint8)
    for i, img in enumerate(images):
        out[i] = cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_AREA)
    return out


def check_input_hw(hw: Sequence[int]) -> tuple[int, int]:
    """An input size (height, width), both >= 16: every body halves the height four times."""
    try:
        h, w = (int(v) for v in hw)
    except (TypeError, ValueError):
        raise UsageError(
            f"input_hw: must be two integers (height, width), got {hw!r}", field="input_hw"
        ) from None
    if h < 16 or w < 16:
        raise UsageError(f"input_hw: height and width must be >= 16, got {h}x{w}", field="input_hw")
    return h, w


class Recognizer(nn.Module):
    """Base class of every model family.

    ``charset`` and ``max_len`` fix the output space; ``latents`` are the style's declared discrete
    latents (name -> support, in prediction order), used by families that predict more than text.
    ``input_hw`` (height, width) replaces the size's input resolution (``input_sizes``).
    ``hparams()`` is everything ``create_model`` needs to rebuild the same network.
    """

    name: ClassVar[str]
    #: raised whenever the family's network, targets or decoding change, so zoo entries trained
    #: with the old code show as stale
    version: ClassVar[int] = 1
    #: Adam learning rate the common loop uses unless told otherwise, per size
    default_lr: ClassVar[dict[str, float]] = {"cpu": 1e-3, "paper": 1e-3}
    #: batch size the common loop uses unless told otherwise, per size
    default_batch: ClassVar[dict[str, int]] = {"cpu": 128, "paper": 128}
    #: True when training needs the generator's latents, not only the text
    needs_latents: ClassVar[bool] = False
    input_sizes: ClassVar[dict[str, tuple[int, int]]] = {"cpu": (32, 128), "paper": (50, 200)}

    def __init__(
        self,
        charset: str,
        max_len: int,
        size: str = "cpu",
        latents: dict[str, Sequence[Any]] | None = None,
        input_hw: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if size not in SIZES:
            raise UsageError(f"size: must be one of {', '.join(SIZES)}, got {size!r}", field="size")
        if not charset or len(set(charset)) != len(charset):
            raise UsageError("charset: must be non-empty without repeats", field="charset")
        if max_len < 1:
            raise UsageError(f"max_len: must be >= 1, got {max_len}", field="max_len")
        self.charset = charset
        self.max_len = int(max_len)
        self.size = size
        self.latents = {k: list(v) for k, v in (latents or {}).items()}
        self.input_hw = self.input_sizes[size] if input_hw is None else check_input_hw(input_hw)
        self.char_index = {c: i for i, c in enumerate(charset)}

    def hparams(self) -> dict[str, Any]:
        return {"charset": self.charset, "max_len": self.max_len, "size": self.size, "latents": self.latents,
                "input_hw": list(self.input_hw)}  # fmt: skip

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # -- inputs -----------------------------------------------------------------------------
    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        """uint8 gray (n, H, W) -> float (n, 1, h, w) on the model's device, ink = 1, paper = 0."""
        x = torch.from_numpy(resize_batch(images, self.input_hw)).to(self.device)
        return (1.0 - x.float().unsqueeze(1) / 255.0).contiguous()

    def encode_text(self, text: str) -> list[int]:
        try:
            return [self.char_index[c] for c in text]
        except KeyError as e:
            raise UsageError(
                f"text {text!r} has a character outside the charset: {e}", field="text"
            ) from None

    # -- what a family implements -----------------------------------------------------------
    def targets(self, texts: Sequence[str], latent_idx: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        """Labels -> tensors for ``loss``. ``latent_idx`` (n, K): index of each declared latent."""
        raise NotImplementedError

    def loss(self, x: torch.Tensor, targets: dict[str, torch.Tensor]) -> tuple[torch.Tensor, Any]:
        """Mean training loss of one batch and the raw outputs ``decode`` reads."""
        raise NotImplementedError

    def decode(self, outputs: Any) -> list[str]:
        """Raw outputs -> the most likely string of each image (greedy / arg-max)."""
        raise NotImplementedError

    def sample(
        self, images: np.ndarray, m: int, rng: np.random.Generator
    ) -> tuple[list[list[dict[str, Any]]], np.ndarray]:
        """``m`` proposal draws per image and their log q: (n lists of m dicts with "text", (n, m))."""
        raise NotImplementedError

    def text_log_prob(self, x: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """log q(text | image) of a preprocessed batch, texts within the charset and ``max_len``."""
        raise NotImplementedError

    def expected_counts(self, x: torch.Tensor) -> torch.Tensor:
        """(n, |charset|): how many times each character occurs in the image's string, in the
        model's expectation (``letter_counts``)."""
        raise NotImplementedError

    def head_accuracy(self, outputs: Any, targets: dict[str, torch.Tensor]) -> dict[str, float]:
        """Accuracy of each output head on one batch (``loss``'s outputs), for families whose heads
        are worth following one by one in a learning curve; none by default."""
        return {}

    def infer(self, x: torch.Tensor) -> Any:
        """Raw outputs for prediction (no labels); by default the plain forward pass."""
        return self(x)

    # -- shared -----------------------------------------------------------------------------
    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval mode (batch norm's running statistics) inside the block, the previous mode after."""
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)

    @torch.inference_mode()
    def predict(self, images: np.ndarray, batch_size: int = 256) -> list[str]:
        """uint8 gray images -> predicted strings."""
        out: list[str] = []
        with self.evaluating():
            for i in range(0, len(images), batch_size):
                out += self.decode(self.infer(self.preprocess(images[i : i + batch_size])))
        return out

    @torch.inference_mode()
    def log_prob(self, images: np.ndarray, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """The model's log-probability of each text given its image; -inf for a text it cannot
        spell (characters outside the charset, longer than ``max_len``)."""
        if len(images) != len(texts):
            raise ValueError(f"{len(images)} images but {len(texts)} texts")
        out = np.full(len(texts), -np.inf)
        ok = np.array([len(t) <= self.max_len and set(t) <= self.char_index.keys() for t in texts], bool)
        idx = np.flatnonzero(ok)
        with self.evaluating():
            for i in range(0, len(idx), batch_size):
                chunk = idx[i : i + batch_size]
                lp = self.text_log_prob(self.preprocess(images[chunk]), [texts[j] for j in chunk])
                out[chunk] = lp.double().cpu().numpy()
        return np.minimum(out, 0.0)

    @torch.inference_mode()
    def letter_counts(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """uint8 gray images -> (n, |charset|) expected count of each character: a summary of an
        image that ignores where and how its letters are drawn (the ABC summary statistic of
        ``synthgap.inference.likelihood.LetterCountLikelihood``)."""
        with self.evaluating():
            out = [self.expected_counts(self.preprocess(images[i : i + batch_size])).float().cpu().numpy()
                   for i in range(0, len(images), batch_size)]  # fmt: skip
        return np.concatenate(out) if out else np.zeros((0, len(self.charset)), np.float32)

    def confidence(self, images: np.ndarray, batch_size: int = 256) -> tuple[list[str], np.ndarray]:
        """The predicted strings (``predict``) and the model's own probability of each, in [0, 1]."""
        strings = self.predict(images, batch_size)
        return strings, np.exp(self.log_prob(images, strings, batch_size))

    def column_draws(self, images: np.ndarray, m: int, rng: np.random.Generator):
        """Per-position class log-probabilities (n, t, k) and m independent draws per position
        (n, m, t): what the column- and position-wise models sample strings from."""
        self.eval()
        logp = self(self.preprocess(images))
        n, t, k = logp.shape
        ids = torch.multinomial(
            logp.exp().reshape(n * t, k), m, replacement=True, generator=self.torch_generator(rng)
        )
        return logp, ids.reshape(n, t, m).permute(0, 2, 1)

    def torch_generator(self, rng: np.random.Generator) -> torch.Generator:
        """A torch generator seeded from ``rng``, on the model's device: sampling stays reproducible."""
        g = torch.Generator(device=self.device)
        g.manual_seed(int(rng.integers(2**63)))
        return g
