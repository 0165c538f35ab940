"""Perturbations: image operators, prior shifts and cross-style transfer, registered by name.

>>> import numpy as np
>>> from synthgap.perturbations import create_perturbation, list_perturbations
>>> noise = create_perturbation("gaussian_noise", 2)       # sigma 5, the paper's noise level
>>> noisy = noise.apply(images, np.random.default_rng(0))   # images: uint8 (N, 50, 200)
>>> kern = create_perturbation("kerning", 1)               # every glyph gap one pixel wider
>>> images, latents = kern.generator("wikipedia").generate(100, seed=0)
>>> list_perturbations(family="image")
"""

from __future__ import annotations

from typing import Any

from synthgap.perturbations.base import (
    GenerativePerturbation,
    ImagePerturbation,
    Perturbation,
    check_severity,
)
from synthgap.registry import Registry

FAMILIES = ("image", "generative", "transfer")
PERTURBATIONS: Registry[Perturbation] = Registry("perturbation")


def register_perturbation(name: str, *, family: str):
    """Class decorator: register a :class:`Perturbation` subclass under ``name`` and ``family``."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")

    def decorator(cls: type[Perturbation]) -> type[Perturbation]:
        cls.name, cls.family = name, family
        return PERTURBATIONS.register(name, family=family)(cls)

    return decorator


def create_perturbation(name: str, severity: int, **kwargs: Any) -> Perturbation:
    """``name`` at ``severity`` (0 = clean, 1..5 = its table); ``transfer`` also takes ``target``."""
    return PERTURBATIONS.create(name, severity=severity, **kwargs)


def list_perturbations(family: str | None = None, pattern: str = "*") -> list[str]:
    if family is None:
        return PERTURBATIONS.names(pattern)
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    return PERTURBATIONS.names(pattern, family=family)


def perturbation_family(name: str) -> str:
    return PERTURBATIONS.entry(name).tags["family"]


# Each module registers its entries on import; import them explicitly, in one place.
from synthgap.perturbations import (  # noqa: E402,F401
    blur,
    elastic,
    fonts,
    geometric,
    jpeg,
    kerning,
    lengths,
    noise,
    photometric,
    transfer,
)

__all__ = [
    "FAMILIES",
    "GenerativePerturbation",
    "ImagePerturbation",
    "Perturbation",
    "check_severity",
    "create_perturbation",
    "list_perturbations",
    "perturbation_family",
    "register_perturbation",
]
