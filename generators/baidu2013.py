"""Baidu (2013): hollow glyphs whose outlines cross, the scheme of Gao et al. (CCS 2013).

shared/spec/styles.md, section 5. Known [LIT]: Baidu deployed hollow captchas (glyphs drawn as
contour lines, touching so that the contours merge). Everything else is [ASSUMED]: charset and
L = 4 as Baidu 2011; bold sans fonts (DejaVu Sans Bold, Liberation Sans Bold, Nimbus Sans Bold),
size U{34..42}; ``glyph_jitter(rot U[-20,20) deg, dy U{-3..3})`` -> ``hollow`` per glyph ->
``layout_centred(k U{-6..-2})`` so neighbouring outlines cross -> ``wave(xph U{0..199},
xper U{15..39}, xamp U{-4..4}, yph U{0..49}, yper U{10..19}, yamp U{-3..3})`` -> ``blur(0.5)``;
no noise. The spec gives only the wave amplitudes: phases and periods are Baidu 2011's.
Hollowing each glyph separately keeps both outlines where glyphs overlap (they cross, joining the
glyphs into one connected shape) rather than tracing only the outline of their union.
Elastic variant [ASSUMED]: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px), as Wikipedia.
"""

from __future__ import annotations

from synthgap.generators import ops, register_generator
from synthgap.generators.baidu2011 import BAIDU_CHARSET
from synthgap.generators.base import StyleConfig
from synthgap.generators.jittered import Jitter, JitteredGenerator


@register_generator("baidu2013")
class Baidu2013(JitteredGenerator):
    defaults = StyleConfig(
        charset=BAIDU_CHARSET,
        lengths=(4, 4),
        fonts=("dejavu-sans-bold", "liberation-sans-bold", "nimbus-sans-bold"),
        sizes=(34, 42),
        kerning=(-6, -2),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )
    jitter = Jitter(rot=(-20.0, 20.0), dy=(-3, 3))
    hollow = True
    wave = {"xph": (0, 199), "xper": (15, 39), "xamp": (-4, 4), "yph": (0, 49), "yper": (10, 19),
            "yamp": (-3, 3)}  # fmt: skip

    def render_ink(self, latent, rng):
        return ops.blur(self.waved_text(latent), 0.5)
