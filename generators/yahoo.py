"""Yahoo (2011-2013): hollow, sheared, mixed-font letters and digits, case-sensitive.

shared/spec/styles.md, section 7. Known [LIT]: a 2011 tally of 100 Yahoo captchas (mean length 7.2,
at least three fonts, skewed glyphs, no clutter; A B F G H J L M T V only upper case, c d e n p r s t
y z only lower case, digits 2-8); Gao et al. (2013): Yahoo later moved to hollow connected glyphs.
Everything else is [ASSUMED]: L U{6..8}; each glyph's font drawn uniformly from DejaVu Sans Bold,
DejaVu Serif Bold and Liberation Sans Bold; size U{30..36} (one per image);
``glyph_jitter(rot U[-15,15) deg, dy U{-3..3})`` plus horizontal shear U[-0.3,0.3) per glyph ->
``hollow`` per glyph -> ``layout_centred(k U{-7..-3})`` -> ``wave(xph U{0..199}, xper U{20..39},
xamp U{-5..5}, yph U{0..49}, yper U{10..19}, yamp U{-4..4})``; no blur, no noise. Phases and the
row period are our choice (the spec gives none).
The ``font`` latent is the first glyph's font; ``params["fonts"]`` holds the fonts of glyphs 2..L.
Elastic variant [ASSUMED]: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px), as Wikipedia.
"""

from __future__ import annotations

from synthgap.fonts import resolve_font
from synthgap.generators import register_generator
from synthgap.generators.base import StyleConfig
from synthgap.generators.glyphs import glyph
from synthgap.generators.jittered import Jitter, JitteredGenerator


@register_generator("yahoo")
class Yahoo(JitteredGenerator):
    defaults = StyleConfig(
        charset="ABFGHJLMTV" + "cdenprstyz" + "2345678",
        lengths=(6, 8),
        fonts=("dejavu-sans-bold", "dejavu-serif-bold", "liberation-sans-bold"),
        sizes=(30, 36),
        kerning=(-7, -3),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )
    case_sensitive = True
    jitter = Jitter(rot=(-15.0, 15.0), dy=(-3, 3), shear=(-0.3, 0.3))
    hollow = True
    wave = {"xph": (0, 199), "xper": (20, 39), "xamp": (-5, 5), "yph": (0, 49), "yper": (10, 19),
            "yamp": (-4, 4)}  # fmt: skip

    def draw_params(self, rng, glyphs):
        fonts = self.config.fonts
        rest = [fonts[i] for i in rng.integers(len(fonts), size=len(glyphs) - 1)]
        return {**super().draw_params(rng, glyphs), "fonts": rest}

    def glyphs(self, latent):
        keys = [latent.font, *latent.params["fonts"]]
        raw = [glyph(resolve_font(f).path, latent.size, ch) for f, ch in zip(keys, latent.text, strict=True)]
        return self.shape_glyphs(latent, raw)

    def render_ink(self, latent, rng):
        return self.waved_text(latent)
