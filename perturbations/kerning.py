"""Kerning shift: every glyph gap wider or narrower than the training prior allows.

The paper's robustness test "kerning modified by one pixel" is severity 1 (+1 px).
"""

from __future__ import annotations

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import GenerativePerturbation

# pixels added to every kerning draw (``kerning_shift``), severity 1..5; alternating wider and
# narrower so that each step up is at least as far from the prior as the one before
KERNING_SHIFT = (1, -1, 2, -2, 3)


@register_perturbation("kerning", family="generative")
class Kerning(GenerativePerturbation):
    param, table = "kerning_shift", KERNING_SHIFT

    def shift(self, gen, value):
        return {"kerning_shift": gen.config.kerning_shift + value}
