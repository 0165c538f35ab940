"""Wikipedia (2016): the paper's model of the MediaWiki FancyCaptcha (shared/spec/styles.md, 1).

Pipeline: layout_centred(k) -> elastic_ox(14, 11, 8) -> wave -> electric(24) -> recentre -> blur.
Fonts: the paper drew "Courier 10 Pitch" or "Nimbus Mono L" (50/50). Courier 10 Pitch is not
packaged any more, so TeX Gyre Cursor Bold (a Courier clone) stands in for it; Nimbus Mono L is
today's Nimbus Mono PS Bold. Text is uniform over a-z, not dictionary words as on the real site.
Elastic variant: Simard field, alpha U[20, 40), sigma 5 (RMS 1.3-2.6 px).
"""

from __future__ import annotations

from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, Generator, StyleConfig, uniform_ints
from synthgap.generators.glyphs import layout_centred

# wave draws, U{a..b} both ends included: phase, period, amplitude for columns, then rows
WAVE = {"xph": (0, 199), "xper": (10, 39), "xamp": (-7, 6), "yph": (0, 49), "yper": (5, 19),
        "yamp": (-6, 5)}  # fmt: skip


@register_generator("wikipedia")
class Wikipedia(Generator):
    defaults = StyleConfig(
        charset="abcdefghijklmnopqrstuvwxyz",
        lengths=(8, 10),
        fonts=("texgyre-cursor-bold", "nimbus-mono-bold"),
        sizes=(26, 31),
        kerning=(1, 2),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )

    def draw_params(self, rng, glyphs):
        return dict(zip(WAVE, uniform_ints(rng, list(WAVE.values())), strict=True))

    def layout(self, latent, glyphs):
        lefts, baseline = layout_centred(glyphs, latent.kerning, WIDTH, HEIGHT)
        return lefts, [baseline] * len(glyphs)

    def render_ink(self, latent, rng):
        wave = ops.wave_map((HEIGHT, WIDTH), *(latent.params[k] for k in WAVE))  # folded into elastic_ox
        cov = ops.elastic_ox(self.place_text(latent), 14.0, 11, 8.0, rng, then=wave)
        cov = ops.electric(cov, rng)
        return ops.blur(ops.recentre(cov), 0.5)
