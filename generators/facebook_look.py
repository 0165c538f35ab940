"""Facebook after the real captchas' look (shared/spec/styles.md, section 2, "Look" and "Labels").

The paper's ``facebook`` model draws its glyphs with OxCaptcha's elastic field and adds sigma-10
grey noise, which the real captchas do not show; this style keeps the paper's style as it is and
models what the spec measured on the real ones instead. Its generator is unknown, so the ranges
below are [ASSUMED] except where the spec gives a number:
- text: 6-7 symbols, uniform over the 59 seen (2-9, A-Z without O, a-z), case-sensitive;
- heavy sans glyphs, caps ~30 px tall (ink rows ~2-34): Nimbus Sans (a Helvetica), Liberation
  Sans, FreeSans and DejaVu Sans, all bold, size 38-44, strokes made heavier by a 2x2 dilation in
  half the images (the spec's stroke ~3.2 px); each glyph rotated U[-8, 8] degrees and moved
  U{-2..2} px vertically, laid out with kerning -4..0 so that letters touch or overlap, from
  x U{6..14} (the word spans x ~10 to 150-185);
- a gentle wave (OxCaptcha's, amplitudes within +-2 px);
- 4-7 dark cubic curves, 1-2 px (the spec's width), that sweep across the word mostly around and
  below the baseline (ends beyond the word at y 18-48, inner control points anywhere, even off
  the canvas, so that some curves loop), and 2-4 thin white arcs (the paper's ellipses) that cut
  through glyphs;
- white background, no additive noise (the spec: ~80 % of light pixels are exactly 255).
Elastic variant: Simard field, alpha U[24, 48), sigma 6, as the paper's ``facebook``.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, Generator, StyleConfig, int_ranges, uniform_ints
from synthgap.generators.glyphs import layout_rel, turned

CHARSET = "23456789ABCDEFGHIJKLMNPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# integer draws, U{a..b} both ends included: the wave (phase, period, amplitude for columns, then
# rows), text origin x0 and baseline, numbers of dark curves and white arcs
INTS = {"xph": (0, 199), "xper": (15, 40), "xamp": (-2, 2), "yph": (0, 49), "yper": (8, 20), "yamp": (-2, 2),
        "x0": (6, 14), "baseline": (32, 36), "n_curves": (4, 7), "n_arcs": (2, 4)}  # fmt: skip
WAVE = ("xph", "xper", "xamp", "yph", "yper", "yamp")
DY, ROT = (-2, 2), 8.0  # per-glyph vertical jitter (px) and rotation (degrees, +-)
# dark curves: width (px); height of their ends; inner control points (x, y), beyond the canvas for loops
CURVE_WIDTH, CURVE_Y, INNER_X, INNER_Y = (1.0, 2.0), (18.0, 48.0), (-40.0, 240.0), (5.0, 50.0)
ARC_WIDTH = (1.1, 1.6)
CURVE_POINTS = 24  # polyline vertices per curve
_SQUARE2 = np.ones((2, 2), np.uint8)
# every coordinate of a dark curve's control points is lo + span * U[0, 1): the ends beyond the word
# (x -20..60 and 140..220) at height CURVE_Y, the inner points anywhere in INNER_X x INNER_Y
_END_LO, _INNER_LO = (-20.0, CURVE_Y[0]), (INNER_X[0], INNER_Y[0])
_END, _INNER = (80.0, CURVE_Y[1] - CURVE_Y[0]), (INNER_X[1] - INNER_X[0], INNER_Y[1] - INNER_Y[0])
_CURVE_LO = np.array([_END_LO, _INNER_LO, _INNER_LO, (140.0, CURVE_Y[0])])
_CURVE_SPAN = np.array([_END, _INNER, _INNER, _END])


def _u(u: float, lo_hi: tuple[float, float]) -> float:
    return lo_hi[0] + (lo_hi[1] - lo_hi[0]) * u


@functools.cache
def _int_ranges(n: int) -> np.ndarray:
    """``INTS`` then one ``DY`` per glyph of an n-glyph text."""
    return int_ranges(list(INTS.values()) + [DY] * n)


@register_generator("facebook_look")
class FacebookLook(Generator):
    # 2: glyph turns rounded to the degree and cached (``turned``); curves as 24-point polylines (48
    # before; within 0.4 px of the curve, the same ink, 0.6 gray levels apart on average) and arcs
    # as 36-gons (within 0.4 px of the ellipse)
    version = 2
    case_sensitive = True
    defaults = StyleConfig(
        charset=CHARSET,
        lengths=(6, 7),
        fonts=("nimbus-sans-bold", "liberation-sans-bold", "free-sans-bold", "dejavu-sans-bold"),
        sizes=(38, 44),
        kerning=(-4, 0),
        elastic_alpha=(24.0, 48.0),
        elastic_sigma=6.0,
    )

    def draw_params(self, rng, glyphs):
        ints = uniform_ints(rng, _int_ranges(len(glyphs)))
        p, dy = dict(zip(INTS, ints[: len(INTS)], strict=True)), ints[len(INTS) :]
        u = rng.random(2 + len(glyphs))
        curves = _CURVE_LO + _CURVE_SPAN * rng.random((p.pop("n_curves"), 4, 2))
        arcs = rng.random((p.pop("n_arcs"), 4)) * (WIDTH, HEIGHT, WIDTH / 2, HEIGHT)
        return {**p, "dy": dy, "rot": (ROT * (2.0 * u[2:] - 1.0)).tolist(), "heavy": bool(u[0] < 0.5),
                "curves": curves, "curve_width": _u(float(u[1]), CURVE_WIDTH), "arcs": arcs,
                "arc_width": _u(rng.random(), ARC_WIDTH)}  # fmt: skip

    def glyphs(self, latent):
        """Each glyph turned by its angle rounded to the degree (``turned``: cached rotations)."""
        path, size, rot = self.font_files[latent.font].path, latent.size, latent.params["rot"]
        return [turned(path, size, ch, round(r)) for ch, r in zip(latent.text, rot, strict=True)]

    def warm_caches(self):
        """Every glyph of the prior at every whole angle, as a long run has them cached."""
        for path, size, char in self.prior_glyphs():
            for degrees in range(-round(ROT), round(ROT) + 1):
                turned(path, size, char, degrees)
        super().warm_caches()

    def layout(self, latent, glyphs):
        p = latent.params
        return layout_rel(glyphs, p["x0"], latent.kerning), [p["baseline"] + d for d in p["dy"]]

    def render_ink(self, latent, rng):
        p = latent.params
        text = self.place_text(latent)
        if p["heavy"]:  # strokes 1 px heavier: a grayscale 2x2 dilation
            text = cv2.dilate(text, _SQUARE2)
        cov = ops.wave(text, *(p[k] for k in WAVE))
        curves = ops.bezier_points(np.asarray(p["curves"], np.float64), CURVE_POINTS)
        cov = ops.polylines(cov, curves, p["curve_width"])
        return ops.ellipses(cov, np.asarray(p["arcs"], np.float64), p["arc_width"], sides=36)
