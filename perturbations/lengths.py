"""Text length outside the training prior (a breaker whose length head never saw it)."""

from __future__ import annotations

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import GenerativePerturbation

# characters beyond the training range, severity 1..5: +k means every text has hi + k characters,
# -k means lo - k (clipped to >= 1), where lo..hi is the style's training range.
LENGTH_OFFSET = (1, -1, 2, -2, 3)


@register_perturbation("lengths", family="generative")
class Lengths(GenerativePerturbation):
    param, table = "length_offset", LENGTH_OFFSET

    def shift(self, gen, value):
        lo, hi = gen.config.lengths
        n = max(1, hi + value if value > 0 else lo + value)
        return {"lengths": (n, n)}
