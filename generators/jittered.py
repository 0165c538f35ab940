"""Shared base of the assumed styles (Baidu 2011/2013, eBay, Yahoo, reCaptcha): jittered glyphs.

These styles have no published generator (shared/spec/styles.md, sections 4-8), so they share one
[ASSUMED] recipe: ``glyph_jitter`` (per-glyph rotation, baseline offset, scale, horizontal shear),
optional ``hollow`` outlines, ``layout_centred(k)`` on the shaped glyphs (vertically: see
``layout``), then a style pipeline starting with ``wave``. Every per-glyph draw is stored in
``latent.params`` so ``render`` repeats it.
Kerning keeps its meaning: the ink gap between neighbours is 1 + k px on the shaped glyphs, before
any distortion. Each style subclass sets the ranges as class attributes and writes ``render_ink``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from synthgap.generators import ops
from synthgap.generators.base import HEIGHT, WIDTH, Generator, int_ranges, uniform_ints
from synthgap.generators.glyphs import Glyph, layout_centred, paste, transform


@dataclass(frozen=True)
class Jitter:
    """Per-glyph ``glyph_jitter`` ranges: rotation U[deg), baseline offset U{px}, scale U[), shear U[)."""

    rot: tuple[float, float] = (0.0, 0.0)
    dy: tuple[int, int] = (0, 0)
    scale: tuple[float, float] = (1.0, 1.0)
    shear: tuple[float, float] = (0.0, 0.0)


def hollow_glyph(g: Glyph) -> Glyph:
    """``hollow`` on one glyph; its outline box is 1 px larger all round."""
    return Glyph(g.char, ops.hollow(g.cov), g.top - 1)


class JitteredGenerator(Generator):
    """Glyph-jitter styles. Subclasses set ``jitter``, ``wave`` (ranges) and maybe ``hollow``."""

    jitter: ClassVar[Jitter]
    #: wave draws U{a..b}: phase, period, amplitude for columns, then rows (spec ``wave``)
    wave: ClassVar[dict[str, tuple[int, int]]]
    hollow: ClassVar[bool] = False
    #: (height, width) of the canvas the text is laid out and distorted on
    canvas: ClassVar[tuple[int, int]] = (HEIGHT, WIDTH)

    def draw_params(self, rng, glyphs):
        n, j = len(glyphs), self.jitter
        lo, hi = np.array([j.rot, j.scale, j.shear]).T[:, :, None]
        rot, scale, shear = lo + (hi - lo) * rng.random((3, n))
        wave = uniform_ints(rng, int_ranges(list(self.wave.values())))
        return {
            "rot": rot,
            "dy": (rng.random(n) * (j.dy[1] - j.dy[0] + 1)).astype(np.int64) + j.dy[0],
            "scale": scale,
            "shear": shear,
            **dict(zip(self.wave, wave, strict=True)),
        }

    def shape_glyphs(self, latent, glyphs):
        p = latent.params
        shaped = [transform(*args) for args in zip(glyphs, p["rot"], p["scale"], p["shear"], strict=True)]
        return [hollow_glyph(g) for g in shaped] if self.hollow else shaped

    def layout(self, latent, glyphs):
        """``layout_centred(k)`` across; down, the union of the ink boxes is centred, then ``dy``.

        For upright glyphs resting on the baseline this is ``layout_centred``'s own baseline; for
        rotated glyphs (ink boxes reaching below the baseline) that rule would push the text down
        and clip it at the bottom edge.
        """
        h, w = self.canvas
        lefts, _ = layout_centred(glyphs, latent.kerning, w, h)
        top, bottom = min(g.top for g in glyphs), max(g.top + g.height for g in glyphs)
        baseline = (h - (bottom - top)) // 2 - top
        return lefts, [baseline + int(dy) for dy in latent.params["dy"]]

    def place_text(self, latent):
        cov = np.zeros(self.canvas, np.float32)
        glyphs = self.glyphs(latent)
        lefts, baselines = self.layout(latent, glyphs)
        for g, x, b in zip(glyphs, lefts, baselines, strict=True):
            paste(cov, g, x, b)
        return cov

    def waved_text(self, latent) -> np.ndarray:
        """The laid-out text after ``wave``: the common start of every assumed pipeline."""
        return ops.wave(self.place_text(latent), *(latent.params[k] for k in self.wave))
