"""The perturbation interface: a named operator whose integer severity indexes a parameter table.

Severity 0 is the clean test set (identity); 1..``max_severity`` index the entry's ``table`` (one
row per severity, commented in the entry's file); any other value raises ``ValueError``. Three
families, given as a tag at registration:

- ``image``: :class:`ImagePerturbation` changes rendered uint8 images; pure functions take an
  explicit ``np.random.Generator`` and the class only draws per-image parameters.
- ``generative``: :class:`GenerativePerturbation` renders the test set afresh from a shifted prior
  (``create_generator`` overrides), so the latents record the shift.
- ``transfer``: test on another style (see ``transfer.py``).
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from synthgap.errors import UsageError
from synthgap.generators import Generator, create_generator


def check_severity(severity: Any, max_severity: int = 5) -> int:
    """An int in 0..max_severity, else ValueError (never a silent index into the table)."""
    if isinstance(severity, bool) or not isinstance(severity, numbers.Integral):
        raise ValueError(f"severity must be an integer 0..{max_severity}, got {severity!r}")
    if not 0 <= severity <= max_severity:
        raise ValueError(f"severity must be 0..{max_severity}, got {severity}")
    return int(severity)


class Perturbation:
    """Base of every entry: ``table[severity - 1]`` is the value of the parameter ``param``."""

    name: ClassVar[str]
    family: ClassVar[str]
    param: ClassVar[str]
    table: ClassVar[tuple[Any, ...]]

    def __init__(self, severity: int) -> None:
        self.severity = check_severity(severity, len(self.table))

    @property
    def max_severity(self) -> int:
        return len(self.table)

    @property
    def value(self) -> Any:
        """The table value at this severity (None when clean)."""
        return None if self.severity == 0 else self.table[self.severity - 1]

    @property
    def params(self) -> dict[str, Any]:
        """Resolved parameters for the results table ({} when clean)."""
        return {} if self.severity == 0 else {self.param: _plain(self.value)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(severity={self.severity}, params={self.params})"


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def as_batch(images: np.ndarray) -> np.ndarray:
    """Accept one HxW image or an (N,H,W) stack of uint8; always work on a stack."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (2, 3):
        raise ValueError(f"expected uint8 (N,H,W) or (H,W) images, got {images.dtype} {images.shape}")
    return images[None] if images.ndim == 2 else images


class ImagePerturbation(Perturbation):
    """Changes rendered images. Subclasses implement ``transform(images, value, rng)``."""

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A new uint8 array with the images perturbed; clean returns an unchanged copy."""
        batch = as_batch(images)
        out = batch.copy() if self.severity == 0 else self.transform(batch, self.value, rng)
        assert out.dtype == np.uint8 and out.shape == batch.shape
        return out.reshape(np.shape(images))

    def transform(self, images: np.ndarray, value: Any, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


class GenerativePerturbation(Perturbation):
    """A shifted prior: the test set is rendered by ``create_generator(style, **overrides)``.

    ``elastic`` entries render the elastic variant. ``overrides`` may depend on the style's own
    prior (``gen.config``), e.g. lengths just outside its training range.
    """

    elastic: ClassVar[bool] = False

    def overrides(self, gen: Generator) -> dict[str, Any]:
        return {} if self.severity == 0 else self.shift(gen, self.value)

    def shift(self, gen: Generator, value: Any) -> dict[str, Any]:
        raise NotImplementedError

    def generator(self, style: str, elastic: bool = False, **base: Any) -> Generator:
        """The generator of the perturbed test set for ``style`` (plain unless told otherwise),
        shifted from the style with the prior overrides ``base``; a setting in both is a UsageError."""
        shift = self.overrides(create_generator(style, **base))
        clash = sorted(shift.keys() & base.keys())
        if clash:
            why = f"set: {', '.join(clash)} is also what {self.name} shifts; give one or the other"
            raise UsageError(why, field="set")
        elastic = elastic or (self.elastic and self.severity > 0)
        return create_generator(style, elastic=elastic, **base, **shift)

    def resolved(self, gen: Generator) -> dict[str, Any]:
        """``params`` plus the overrides they resolve to for this style."""
        return {**self.params, **{k: _plain(v) for k, v in self.overrides(gen).items()}}
