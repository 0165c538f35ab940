"""Your own breaker in the benchmark: any recognizer, named by its factory.

A breaker is named ``package.module:factory`` (importable, or found in the working directory) or by a name
that a distribution declares in the entry-point group ``synthgap.breakers``::

    [project.entry-points."synthgap.breakers"]
    mybreaker = "mypackage.breaker:make"

``factory(charset)`` (charset: the symbols the style uses, or None) returns an object with
``predict(images) -> list[str]`` for uint8 gray images (n, 50, 200), and optionally
``confidence(images) -> (strings, probabilities)``; it is called with at most ``batch_size``
images at a time (its attribute, default 256). It is scored, timed and reported like the trained
models and the peers: ``synthgap eval-peer NAME --real DIR`` or a grid row ``peer:NAME``.
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from synthgap.errors import UsageError
from synthgap.peers.base import Peer

GROUP = "synthgap.breakers"


def resolve(name: str) -> tuple[str, Any] | None:
    """(target "module:factory", the factory) for a user breaker name; None if it names none."""
    target = name
    if ":" not in name:
        found = entry_points(group=GROUP, name=name)
        if not found:
            return None
        target = next(iter(found)).value
    module_name, _, attr = target.partition(":")
    if os.getcwd() not in sys.path:  # like uvicorn's app strings: modules in the working directory import
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UsageError(f"breaker {name!r}: cannot import {module_name!r} ({e})", field="breaker") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise UsageError(f"breaker {name!r}: {module_name} has no callable {attr!r}", field="breaker")
    return target, factory


class UserBreaker(Peer):
    """A user's recognizer behind the peers' interface."""

    name = "user"

    def __init__(self, target: str, factory: Any, charset: str | None = None) -> None:
        super().__init__(charset)
        self.target = target
        self.breaker = factory(charset)
        if not callable(getattr(self.breaker, "predict", None)):
            raise UsageError(
                f"breaker {target!r}: its factory returned an object without predict()", field="breaker"
            )
        if callable(getattr(self.breaker, "confidence", None)):
            self.confidence = self._confidence

    @classmethod
    def missing(cls) -> str | None:
        return None

    def predict(self, images: np.ndarray, batch_size: int = 256) -> list[str]:
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        step = int(getattr(self.breaker, "batch_size", batch_size))
        out: list[str] = []
        for i in range(0, len(images), step):
            got = [str(s) for s in self.breaker.predict(images[i : i + step])]
            if len(got) != len(images[i : i + step]):
                raise UsageError(f"breaker {self.target!r}: predict returned {len(got)} strings for "
                                 f"{len(images[i : i + step])} images", field="breaker")  # fmt: skip
            out += got
        return out

    def _confidence(self, images: np.ndarray) -> tuple[list[str], np.ndarray]:
        strings, probs = self.breaker.confidence(np.asarray(images))
        return [str(s) for s in strings], np.clip(np.asarray(probs, np.float64), 0.0, 1.0)

    def version(self) -> str:
        module = importlib.import_module(self.target.partition(":")[0])
        return str(getattr(module, "__version__", ""))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "peer": self.target}
