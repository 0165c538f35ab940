"""Test sets that name themselves: every score says exactly what it was measured on.

A test set is described by a small frozen spec, :class:`Synthetic` (a style, its variant, prior
overrides, a perturbation at a severity, a size and a seed) or :class:`Real` (a folder of labelled
captchas, the prior its labels are held to, the held-out part of a training split, a look set left
out). ``spec.name`` is the stem of the files a result is written to, and ``spec.record()`` the
fields of its JSON: two specs that differ in anything give different names. ``spec.build()`` makes
the images. The grid's cells, ``synthgap eval`` and ``synthgap eval-peer`` all build through here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthgap.errors import UsageError
from synthgap.generators import Generator, Latent, create_generator


@dataclass(frozen=True)
class TestSet:
    __test__ = False  # not a pytest class

    images: np.ndarray  # uint8 (N, 50, 200)
    texts: list[str]
    latents: list[Latent] | None  # None for real images
    skipped: int = 0  # real files left out (unreadable, or label outside the prior)
    case_sensitive: bool = False  # what the texts' case rule is


def override_tag(overrides: dict[str, Any]) -> str:
    """Prior overrides as part of a file name (``-kerning_shift=1-noise_sigma=5``): a shifted score
    never overwrites the clean one."""
    parts = [f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in sorted(overrides.items())]
    return "".join("-" + re.sub(r"[^A-Za-z0-9_.=,+-]", "", p) for p in parts)


@dataclass(frozen=True)
class Synthetic:
    """``n`` fresh captchas of ``style`` from ``seed``: clean, or under a prior override, a
    generative perturbation (a shifted prior) or an image perturbation. An image perturbation is
    applied to the clean images of ``clean_seed`` (default ``seed``) with ``default_rng(seed)``, so
    every severity perturbs the same captchas."""

    style: str
    n: int
    seed: int
    elastic: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    perturbation: str | None = None
    severity: int = 0
    clean_seed: int | None = None

    def __post_init__(self) -> None:
        from synthgap.perturbations import create_perturbation, perturbation_family

        if self.n < 1:
            raise UsageError(f"n: must be >= 1, got {self.n}", field="n")
        if self.perturbation is not None:
            if perturbation_family(self.perturbation) == "transfer":  # UsageError for an unknown name
                why = "perturbation: transfer is a test style (another style's captchas), not a perturbation"
                raise UsageError(why, field="perturbation")
            try:
                create_perturbation(self.perturbation, self.severity)
            except ValueError as e:
                raise UsageError(f"severity: {e}", field="severity") from None
        self.generator()  # a UsageError for a bad style or override, before anything is rendered

    @property
    def family(self) -> str | None:
        from synthgap.perturbations import perturbation_family

        return None if self.perturbation is None else perturbation_family(self.perturbation)

    def generator(self) -> Generator:
        """The generator of the images: the style's, with the overrides and a generative shift."""
        from synthgap.perturbations import create_perturbation

        if self.family != "generative":
            return create_generator(self.style, elastic=self.elastic, **self.overrides)
        p = create_perturbation(self.perturbation, self.severity)
        return p.generator(self.style, elastic=self.elastic, **self.overrides)

    @property
    def variant(self) -> str:
        return "elastic" if self.elastic else "plain"

    @property
    def name(self) -> str:
        pert = f"-{self.perturbation}{self.severity}" if self.perturbation else ""
        clean = f"-clean{self.clean_seed}" if self.family == "image" and self.clean_seed is not None else ""
        base = f"{self.style}-{self.variant}{override_tag(self.overrides)}"
        return f"{base}{pert}{clean}-n{self.n}-seed{self.seed}"

    def record(self) -> dict[str, Any]:
        out = {"style": self.style, "variant": self.variant, "generator_version": self.generator().version,
               "overrides": dict(self.overrides), "n": self.n, "seed": self.seed}  # fmt: skip
        if self.perturbation is not None:
            out.update(
                perturbation=self.perturbation, severity=self.severity, perturbation_family=self.family
            )
            if self.family == "image":
                out["clean_seed"] = self.seed if self.clean_seed is None else self.clean_seed
        return out

    def build(self, workers: int = 1) -> TestSet:
        from synthgap.perturbations import create_perturbation

        gen = self.generator()
        if self.family != "image":
            images, latents = gen.generate(self.n, self.seed, workers=workers)
        else:
            clean = self.seed if self.clean_seed is None else self.clean_seed
            images, latents = gen.generate(self.n, clean, workers=workers)
            p = create_perturbation(self.perturbation, self.severity)
            images = p.apply(images, np.random.default_rng(self.seed))
        return TestSet(images, [lat.text for lat in latents], latents, 0, gen.case_sensitive)


@dataclass(frozen=True)
class Real:
    """The labelled images of ``path`` (label = file name), held to a prior (``charset``,
    ``lengths``, case rule: labels outside it are skipped, or an error when ``strict``); with
    ``heldout`` = (train fraction, seed) only the held-out part of that training split, with
    ``skip_look`` the images outside the seeded look set of that many."""

    path: Path
    charset: str | None = None
    lengths: tuple[int, int] | None = None
    case_sensitive: bool = False
    strict: bool = False
    heldout: tuple[float, int] | None = None
    skip_look: int = 0
    look_seed: int = 0

    @classmethod
    def for_style(cls, path: Path, style: str, **kwargs: Any) -> Real:
        """Held to ``style``'s charset, lengths and case rule."""
        from synthgap.realdata import for_style

        return cls(Path(path), **for_style(style), **kwargs)

    @classmethod
    def for_model(cls, path: Path, model: Any, **kwargs: Any) -> Real:
        """Held to what ``model`` can spell: its charset, up to its length, its case rule."""
        return cls(Path(path), charset=model.charset, lengths=(1, model.max_len),
                   case_sensitive=bool(model.meta.get("case_sensitive", False)), **kwargs)  # fmt: skip

    @property
    def name(self) -> str:
        name = f"real-{Path(self.path).resolve().name}"
        if self.heldout is not None:
            name += "-heldout"
        if self.skip_look:
            name += f"-nolook{self.skip_look}-seed{self.look_seed}"
        return name

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"real": str(Path(self.path).resolve())}
        if self.heldout is not None:
            out.update(heldout_of_split=self.heldout[0], split_seed=self.heldout[1])
        if self.skip_look:
            out.update(look_left_out=self.skip_look, look_seed=self.look_seed)
        return out

    def build(self, workers: int = 1) -> TestSet:
        from synthgap.realdata import load_real, look_split, split_indices

        real = load_real(self.path, charset=self.charset, lengths=self.lengths,
                         case_sensitive=self.case_sensitive, strict=self.strict)  # fmt: skip
        keep = np.arange(len(real.labels))
        if self.heldout is not None:
            keep = keep[split_indices(len(keep), *self.heldout)[1]]
        if self.skip_look:
            keep = keep[look_split(len(keep), self.skip_look, self.look_seed)[1]]
        return TestSet(real.images[keep], [real.labels[i] for i in keep], None, len(real.skipped),
                       self.case_sensitive)  # fmt: skip
