"""eBay (2011): six touching bold digits, mildly waved.

shared/spec/styles.md, section 6. Known [LIT, recollection of Bursztein et al. 2011]: digits only,
six per image, dark bold glyphs that touch, mild waving. Everything else is [ASSUMED]: bold sans
fonts (DejaVu Sans Bold, Nimbus Sans Bold), size U{30..38};
``glyph_jitter(rot U[-10,10) deg, dy U{-3..3})`` -> ``layout_centred(k U{-4..0})`` ->
``wave(xph U{0..199}, xper U{15..39}, xamp U{-4..4}, yph U{0..49}, yper U{10..19}, yamp U{-3..3})``
-> ``elastic_ox(U{10..19}, 11, 6)``; no blur, no noise. Phases and the row period are our choice
(the spec gives none).
Elastic variant [ASSUMED]: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px), as Wikipedia.
"""

from __future__ import annotations

from synthgap.generators import ops, register_generator
from synthgap.generators.base import StyleConfig
from synthgap.generators.jittered import Jitter, JitteredGenerator

OX_A = (10, 19)  # elastic_ox amplitude U{10..19}, kernel 11, std 6


@register_generator("ebay")
class Ebay(JitteredGenerator):
    defaults = StyleConfig(
        charset="0123456789",
        lengths=(6, 6),
        fonts=("dejavu-sans-bold", "nimbus-sans-bold"),
        sizes=(30, 38),
        kerning=(-4, 0),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )
    jitter = Jitter(rot=(-10.0, 10.0), dy=(-3, 3))
    wave = {"xph": (0, 199), "xper": (15, 39), "xamp": (-4, 4), "yph": (0, 49), "yper": (10, 19),
            "yamp": (-3, 3)}  # fmt: skip

    def draw_params(self, rng, glyphs):
        return {**super().draw_params(rng, glyphs), "ox_a": int(rng.integers(OX_A[0], OX_A[1] + 1))}

    def render_ink(self, latent, rng):
        return ops.elastic_ox(self.waved_text(latent), float(latent.params["ox_a"]), 11, 6.0, rng)
