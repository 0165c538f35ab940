"""Baidu (2011): four crowded, rotated, solid dark glyphs on a plain light background.

shared/spec/styles.md, section 4. Known [LIT, recollection]: 4 characters, upper case and digits,
solid dark glyphs crowded together and rotated, plain background. Everything else is [ASSUMED]:
charset without the look-alikes I, O, 0, 1 (answers are case-insensitive); bold sans fonts
(DejaVu Sans Bold, Liberation Sans Bold, Nimbus Sans Bold), size U{32..40};
``glyph_jitter(rot U[-30,30) deg, dy U{-4..4}, scale U[0.9,1.1))`` -> ``layout_centred(k U{-8..-3})``
-> ``wave(xph U{0..199}, xper U{15..39}, xamp U{-3..3}, yph U{0..49}, yper U{10..19},
yamp U{-2..2})`` -> ink gray U{0..60} -> ``blur(0.5)``; no noise. The two phase ranges are our
choice too (the spec gives none; these are Wikipedia's).
Ink gray is applied by scaling the coverage by (255 - ink) / 255: on a white background that is
exactly an ink level of ``ink``, with no change to the base class.
Elastic variant [ASSUMED]: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px), as Wikipedia.
"""

from __future__ import annotations

from synthgap.generators import ops, register_generator
from synthgap.generators.base import StyleConfig
from synthgap.generators.jittered import Jitter, JitteredGenerator

BAIDU_CHARSET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INK = (0, 60)  # ink gray level U{0..60}


@register_generator("baidu2011")
class Baidu2011(JitteredGenerator):
    defaults = StyleConfig(
        charset=BAIDU_CHARSET,
        lengths=(4, 4),
        fonts=("dejavu-sans-bold", "liberation-sans-bold", "nimbus-sans-bold"),
        sizes=(32, 40),
        kerning=(-8, -3),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )
    jitter = Jitter(rot=(-30.0, 30.0), dy=(-4, 4), scale=(0.9, 1.1))
    wave = {"xph": (0, 199), "xper": (15, 39), "xamp": (-3, 3), "yph": (0, 49), "yper": (10, 19),
            "yamp": (-2, 2)}  # fmt: skip

    def draw_params(self, rng, glyphs):
        return {**super().draw_params(rng, glyphs), "ink": int(rng.integers(INK[0], INK[1] + 1))}

    def render_ink(self, latent, rng):
        cov = self.waved_text(latent) * ((255 - latent.params["ink"]) / 255.0)
        return ops.blur(cov, 0.5)
