"""Fonts the breaker never saw: the test set is drawn in other typefaces.

Every style trains on bold upright faces. The rows move away from that: other bold upright
families, then slanted, then regular weight (thinner strokes), then both, then a light typewriter
face. The order is our judgement [ASSUMED]; the accuracy drop per severity is what is measured.
A style's own fonts are removed from its row, so the shift is always to unseen fonts; a row left
empty raises a UsageError (no registered style owns a whole row).
"""

from __future__ import annotations

from synthgap.errors import UsageError
from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import GenerativePerturbation

# font keys (synthgap.fonts.FONTS), one of them drawn per image, severity 1..5
FONT_SETS = (
    ("free-sans-bold", "free-serif-bold", "liberation-serif-bold", "liberation-mono-bold"),  # bold, other
    ("free-sans-bold-oblique", "free-mono-bold-oblique", "liberation-serif-bold-italic"),  # bold, slanted
    ("dejavu-sans", "liberation-sans", "free-serif"),  # regular weight, upright
    ("free-sans-oblique", "liberation-serif-italic"),  # regular weight, slanted
    ("cmtt10", "free-mono"),  # light typewriter: thin strokes, slab serifs
)


@register_perturbation("fonts", family="generative")
class Fonts(GenerativePerturbation):
    param, table = "fonts", FONT_SETS

    def shift(self, gen, value):
        own = set(gen.config.fonts)
        unseen = tuple(f for f in value if f not in own)
        if not unseen:
            raise UsageError(
                f"fonts severity {self.severity}: all of {list(value)} are fonts of style {gen.name!r}",
                field="perturbations",
            )
        return {"fonts": unseen}
