"""A breaker of your own in the benchmark (synthgap.peers.user): the smallest one that runs.

``synthgap eval-peer examples.breakers:majority --real DIR`` (from the repository root) or a grid
row ``peer:examples.breakers:majority`` scores it like the built-in models. A real one would load
its network in the factory and run it in ``predict``.
"""

from __future__ import annotations

import numpy as np


class Majority:
    """Answers every captcha with one fixed guess: the floor any breaker should beat."""

    batch_size = 64  # synthgap hands it at most this many images at a time

    def __init__(self, charset: str | None) -> None:
        alphabet = charset or "abcdefghijklmnopqrstuvwxyz"
        self.guess = (alphabet * 5)[:5]

    def predict(self, images: np.ndarray) -> list[str]:
        return [self.guess] * len(images)

    def confidence(self, images: np.ndarray) -> tuple[list[str], np.ndarray]:
        return self.predict(images), np.full(len(images), 0.01)


def majority(charset: str | None) -> Majority:
    """The factory synthgap calls with the style's charset (None: zero-shot)."""
    return Majority(charset)
