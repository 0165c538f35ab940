"""reCaptcha (2011-2013): one crowded, strongly warped lower-case word in bold serif.

shared/spec/styles.md, section 8. Known [LIT]: by 2012-13 the text was a single crowded, warped
black string; images were about 300x57 (recollection). Everything else is [ASSUMED]: charset a-z
(answers case-insensitive), L U{5..8}; bold serif fonts (DejaVu Serif Bold, Nimbus Roman Bold,
STIXGeneral Bold), size U{32..40}; ``glyph_jitter(rot U[-15,15) deg, dy U{-3..3})`` ->
``layout_centred(k U{-5..-2})`` -> ``wave(xph U{0..299}, xper U{20..39}, xamp U{-7..7},
yph U{0..56}, yper U{10..19}, yamp U{-5..5})`` -> ``elastic_ox(U{20..30}, 11, 6)``, all on a
300x57 canvas, shown at 200x50 (glyphs end up 2/3 as wide and 7/8 as tall); no noise. Phases and
the row period are our choice (the spec gives none). The spec's optional inverting band (the
2008-10 look) is not drawn.
Version 2: the elastic field is drawn at half resolution and the canvas sampled once at 200x50
(``ops.elastic_ox_to``) instead of a full-size field, a remap and an area resize: the same look
(results/sheets/recaptcha-v1-v2.png), 0.75-0.8x the rendering time.
Elastic variant [ASSUMED]: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px), applied on the
final 200x50 image like every style's.
"""

from __future__ import annotations

from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, StyleConfig
from synthgap.generators.jittered import Jitter, JitteredGenerator

OX_A = (20, 30)  # elastic_ox amplitude U{20..30}, kernel 11, std 6


@register_generator("recaptcha")
class Recaptcha(JitteredGenerator):
    defaults = StyleConfig(
        charset="abcdefghijklmnopqrstuvwxyz",
        lengths=(5, 8),
        fonts=("dejavu-serif-bold", "nimbus-roman-bold", "stix-bold"),
        sizes=(32, 40),
        kerning=(-5, -2),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )
    version = 2
    canvas = (57, 300)
    jitter = Jitter(rot=(-15.0, 15.0), dy=(-3, 3))
    wave = {"xph": (0, 299), "xper": (20, 39), "xamp": (-7, 7), "yph": (0, 56), "yper": (10, 19),
            "yamp": (-5, 5)}  # fmt: skip

    def draw_params(self, rng, glyphs):
        return {**super().draw_params(rng, glyphs), "ox_a": int(rng.integers(OX_A[0], OX_A[1] + 1))}

    def render_ink(self, latent, rng):
        return ops.elastic_ox_to(self.waved_text(latent), float(latent.params["ox_a"]), 11, 6.0, rng,
                                 (HEIGHT, WIDTH))  # fmt: skip
