"""captcha_images_v2: a look-alike of the public Kaggle set (shared/spec/styles.md, section 3).

Its generator is unknown, so this is a model made by eye from the first few real images; every
number here is [ASSUMED] except the charset, L = 5, the weight 2 of ``n`` and the background ramp.
Pipeline: gradient(193 -> 252) background; thick rounded marker-like glyphs, Comic Neue Bold
(its ~3.8 px stroke matches the real one) stretched 1.12x horizontally, laid out with
``layout_rel`` from x ~31 with a small per-glyph vertical jitter, so neighbours touch or overlap;
a speckled gray fringe around the glyphs that sets in from a drawn column on (the real images
keep the first one or two glyphs clean); one ~1.5 px ink strike, a cubic from x ~18 to x = 180,
nearly straight near its right end, led in 30 % of images by a hook that drops in from above.
Humor Sans was tried and dropped: it has no lowercase, and the real text is lowercase.
Elastic variant: Simard field, alpha U[24, 48), sigma 6: per-axis RMS a/(2 s sqrt(3 pi)) =
0.65-1.3 px, as Wikipedia's (20-40, 5), but smoother, for these bigger (~30 px) glyphs.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, Generator, StyleConfig
from synthgap.generators.glyphs import Glyph, glyph, layout_rel

X0, BASELINE, DY = (29, 34), (38, 41), (-2, 2)  # text start, baseline, per-glyph baseline jitter
FUZZ_FROM, FUZZ_RAMP, FUZZ_AMP = (55, 85), 12.0, (0.6, 1.0)  # speckle onset column, ramp px, level
STRIKE_X, STRIKE_WIDTH, HOOK_P = (17.0, 21.0), 1.5, 0.3
STRETCH = 1.12  # horizontal glyph scale
BG_LEFT, BG_RIGHT = 193.0, 252.0
COLS = np.arange(WIDTH, dtype=np.float32)


def _int(rng: np.random.Generator, lo_hi: tuple[int, int]) -> int:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1))


def _strike(rng: np.random.Generator) -> np.ndarray:
    """Control points (1 or 2 cubics, 4 points each) of the strike and its optional hook."""
    p0 = np.array([rng.uniform(*STRIKE_X), 3.0 + 39.0 * rng.random() ** 1.5])  # more often high
    p3 = np.array([180.0, rng.uniform(6.0, 45.0)])
    run, slope = rng.uniform(50.0, 110.0), rng.uniform(-0.35, 0.35)
    p2 = p3 - run * np.array([1.0, slope])  # collinear with the end: straight near x = 180
    # first control point near the chord: one bend, no S-shaped bulges
    p1 = np.array([p0[0] + rng.uniform(15.0, 50.0), (p0[1] + p2[1]) / 2 + rng.uniform(-8.0, 8.0)])
    curves = [np.stack([p0, p1, p2, p3])]
    if rng.random() < HOOK_P:  # drops in from the top edge and joins the strike at its start
        h0 = np.array([p0[0] + rng.uniform(0.0, 14.0), max(-2.0, p0[1] - rng.uniform(8.0, 22.0))])
        h1 = np.array([p0[0] + rng.uniform(-4.0, 16.0), rng.uniform(h0[1], p0[1])])
        h2 = np.array([p0[0] + rng.uniform(-4.0, 16.0), rng.uniform(h0[1], p0[1])])
        curves.insert(0, np.stack([h0, h1, h2, p0]))
    return np.stack(curves)


@functools.lru_cache(maxsize=4096)
def _wide(path: str, size: int, char: str) -> Glyph:
    """The glyph stretched horizontally: the real lettering is wider than Comic Neue's."""
    g = glyph(path, size, char)
    w = max(1, round(g.width * STRETCH))
    cov = cv2.resize(g.cov, (w, g.height), interpolation=cv2.INTER_LINEAR)
    cov.setflags(write=False)
    return Glyph(g.char, cov, g.top)


@register_generator("captcha_v2")
class CaptchaV2(Generator):
    defaults = StyleConfig(
        charset="2345678bcdefgmnpwxy",
        lengths=(5, 5),
        fonts=("comic-neue-bold",),
        sizes=(42, 46),
        kerning=(-3, 0),
        char_weights={"n": 2.0},
        elastic_alpha=(24.0, 48.0),
        elastic_sigma=6.0,
    )

    def shape_glyphs(self, latent, glyphs):
        path = self.font_files[latent.font].path
        return [_wide(path, latent.size, g.char) for g in glyphs]

    def draw_params(self, rng, glyphs):
        return {
            "x0": _int(rng, X0),
            "baseline": _int(rng, BASELINE),
            "dy": rng.integers(DY[0], DY[1] + 1, len(glyphs)),
            "fuzz_from": _int(rng, FUZZ_FROM),
            "fuzz_amp": float(rng.uniform(*FUZZ_AMP)),
            "strike": _strike(rng),
        }

    def layout(self, latent, glyphs):
        p = latent.params
        return layout_rel(glyphs, p["x0"], latent.kerning), [p["baseline"] + d for d in p["dy"]]

    def background(self, latent):
        return ops.gradient((HEIGHT, WIDTH), BG_LEFT, BG_RIGHT)

    def render_ink(self, latent, rng):
        p = latent.params
        ramp = np.clip((COLS - p["fuzz_from"]) / FUZZ_RAMP, 0.0, 1.0) * p["fuzz_amp"]
        cov = ops.speckle_fringe(self.place_text(latent), ramp, rng)
        return ops.strike(cov, np.asarray(p["strike"], np.float64), STRIKE_WIDTH)
