"""Captcha recognizers: one family per file, registered by name, all with one interface.

>>> from synthgap.models import create_model, list_models
>>> model = create_model("crnn_ctc", charset="abc", max_len=10, size="cpu")

Interface (``synthgap.models.base.Recognizer``, a ``torch.nn.Module``):

- ``model.predict(images) -> list[str]``: uint8 gray images (n, H, W), any size (resized to
  ``model.input_hw``) -> best strings (greedy / arg-max; ``crnn_ctc`` beam search with ``beam=K``).
- ``model.sample(images, m, rng) -> (draws, log_q)``: ``draws[i]`` is a list of ``m`` dicts, each
  with ``"text"`` (``paper_lstm`` also gives every discrete latent, e.g. ``"L"``, ``"font"``), and
  ``log_q[i, j]`` (numpy, (n, m)) is the proposal's log-probability of draw j: for ``crnn_ctc`` the
  CTC sum over all column paths of the string, for ``multihead_cnn*`` the sum of position log
  probabilities up to and including the first end, for ``paper_lstm`` the sum over its ancestral
  steps. ``rng`` is a ``numpy.random.Generator``; the same rng state gives the same draws.
- ``model.log_prob(images, texts)`` (numpy, (n,)): the model's log-probability of each text
  (``crnn_ctc``: the CTC sum over column paths; ``multihead_cnn*``: the letters' positions and the
  end; ``paper_lstm``: summed over every font, size and kerning); -inf for texts it cannot spell.
- ``model.confidence(images) -> (strings, probs)``: ``predict`` and the probability of each string.
- ``model.targets(texts, latent_idx)``, ``model.loss(x, targets)``, ``model.decode(outputs)``: what the
  common training loop calls.

Library functions:

- ``synthgap.models.training.train(out, style=..., model=..., size=..., steps=... | minutes=...,
  seed=...) -> Path``: train on fresh synthetic samples (or ``real=DIR``) and write a checkpoint.
- ``synthgap.models.checkpoint.load_checkpoint(path, device=None) -> Recognizer``: ``model.meta``
  holds the checkpoint's config.json (style, variant, charset, seed, steps, ...).
- ``synthgap.models.evaluation.evaluate(model, images, texts, case_sensitive) -> dict``: recognition
  rate, mean character accuracy, breaking times.
"""

from __future__ import annotations

from typing import Any

from synthgap.models.base import Recognizer
from synthgap.registry import Registry

MODELS: Registry[Recognizer] = Registry("model")


def register_model(name: str, **tags: Any):
    """Class decorator: register a :class:`Recognizer` subclass under ``name``."""

    def decorator(cls: type[Recognizer]) -> type[Recognizer]:
        cls.name = name
        return MODELS.register(name, **tags)(cls)

    return decorator


def create_model(name: str, *, charset: str, max_len: int, size: str = "cpu", **kwargs: Any) -> Recognizer:
    """Build an untrained model; ``kwargs`` go to the family (``latents`` for ``paper_lstm``)."""
    return MODELS.create(name, charset=charset, max_len=max_len, size=size, **kwargs)


def list_models(pattern: str = "*") -> list[str]:
    return MODELS.names(pattern)


# Each family registers itself on import; import them explicitly, in one place.
from synthgap.models import crnn_ctc, multihead_cnn, paper_lstm  # noqa: E402,F401

__all__ = ["MODELS", "Recognizer", "create_model", "list_models", "register_model"]
