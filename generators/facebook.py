"""Facebook (2016): the paper's model of the Facebook captcha (shared/spec/styles.md, section 2).

Pipeline: layout_rel(x0, baseline, k) -> elastic_ox(a, 11, 6) and wave, one lookup -> strokes(n, w)
-> ellipses(n, w) -> gauss_noise(10) in whole gray levels (``finish``, from ``noise_sigma``).
Text is uniform over a-zA-Z1-9 and case-sensitive, as in the paper's prior (the real set shows
2-9, A-Z without O and a-z).
Fonts: the paper drew "Hind Semibold", "Noto Sans" or "Ubuntu" (1/3 each, Java bold). None of them
is installable here, so three heavy humanist/grotesque sans faces stand in for them:
Liberation Sans Bold, FreeSans Bold and DejaVu Sans Bold (1/3 each).
Clutter geometry (Bezier control points, ellipse boxes, line widths) is drawn in ``draw_params``,
so it is part of the latent and ``render`` reproduces it exactly.
Elastic variant: Simard field, alpha U[24, 48), sigma 6: per-axis RMS a/(2 s sqrt(3 pi)) =
0.65-1.3 px, as Wikipedia's (20-40, 5), but smoother, for these bigger (~30 px) glyphs. It is added
to the OxCaptcha field, so it moves the text; the strokes and ellipses, drawn after, stay as drawn.
"""

from __future__ import annotations

import numpy as np

from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, Generator, StyleConfig, int_ranges, uniform_ints
from synthgap.generators.glyphs import layout_rel

# integer draws, U{a..b} both ends included: the wave (phase, period, amplitude for columns, then
# rows), text origin x0 and baseline, elastic_ox amplitude, number of strokes and of ellipses
INTS = {"xph": (0, 199), "xper": (10, 39), "xamp": (-4, 3), "yph": (0, 49), "yper": (5, 19),
        "yamp": (-5, 4), "x0": (2, 14), "baseline": (29, 32), "elastic_a": (10, 19),
        "n_strokes": (6, 10), "n_ellipses": (4, 6)}  # fmt: skip
WAVE = ("xph", "xper", "xamp", "yph", "yper", "yamp")
_INT_RANGES = int_ranges(list(INTS.values()))
LINE_WIDTH = (1.1, 1.6)


@register_generator("facebook")
class Facebook(Generator):
    # 2: the OxCaptcha field drawn at half resolution (``ops.ox_field``) and read at the output pixel,
    # the wave and the elastic variant's Simard field added to it: one resampling of the text, where
    # version 1 resampled the whole image again for the Simard field; the sigma-10 noise as 16-bit
    # draws through a table of whole gray levels (``ops.gray_quantized_noise``); ellipses as 36-gons
    version = 2
    elastic_in_ink = True
    case_sensitive = True
    defaults = StyleConfig(
        charset="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ123456789",
        lengths=(6, 7),
        fonts=("liberation-sans-bold", "free-sans-bold", "dejavu-sans-bold"),
        sizes=(38, 43),
        kerning=(-2, 1),
        noise_sigma=10.0,
        elastic_alpha=(24.0, 48.0),
        elastic_sigma=6.0,
    )

    def draw_params(self, rng, glyphs):
        p = dict(zip(INTS, uniform_ints(rng, _INT_RANGES), strict=True))
        lo, hi = LINE_WIDTH
        # strokes: every control point uniform over the canvas (OxCaptcha noiseStrokes)
        p["strokes"] = rng.random((p.pop("n_strokes"), 4, 2)) * (WIDTH, HEIGHT)
        p["stroke_width"] = lo + (hi - lo) * rng.random()
        # ellipses: corner uniform on the canvas, width U{0..199}, height U{0..49} (noiseEllipses)
        p["ellipses"] = (rng.random((p.pop("n_ellipses"), 4)) * (WIDTH, HEIGHT, WIDTH, HEIGHT)).astype(
            np.int64
        )
        p["ellipse_width"] = lo + (hi - lo) * rng.random()
        return p

    def layout(self, latent, glyphs):
        p = latent.params
        return layout_rel(glyphs, p["x0"], latent.kerning), [p["baseline"]] * len(glyphs)

    def render_ink(self, latent, rng):
        p = latent.params
        field = ops.ox_field(rng, (HEIGHT, WIDTH), float(p["elastic_a"]), 11, 6.0)
        if latent.elastic:
            field += ops.simard_field((HEIGHT, WIDTH), p["elastic_alpha"], p["elastic_sigma"], rng)
        wave = ops.wave_map((HEIGHT, WIDTH), *(p[k] for k in WAVE))
        cov = ops.displace_waved(self.place_text(latent), field, wave)
        cov = ops.strokes(cov, np.asarray(p["strokes"], np.float64), p["stroke_width"])
        return ops.ellipses(cov, np.asarray(p["ellipses"], np.float64), p["ellipse_width"], sides=36)

    def finish(self, cov, latent, rng):
        return ops.gray_quantized_noise(cov, self.background(latent), latent.params["noise_sigma"], rng)
