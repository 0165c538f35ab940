"""Fonts the breaker never saw: the test set is drawn in other typefaces.

Rows go from faces close to the bold sans/mono faces most styles train on to ones far from them.
A style's own fonts are removed from its row, so the shift is always to unseen fonts; a row left
empty raises a UsageError (pick another severity for that style).
"""

from __future__ import annotations

from synthgap.errors import UsageError
from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import GenerativePerturbation

# font keys (synthgap.fonts.FONTS), one of them drawn per image, severity 1..5
FONT_SETS = (
    ("liberation-sans-bold", "free-sans-bold", "free-mono-bold"),  # other bold sans / mono faces
    ("dejavu-serif-bold", "nimbus-roman-bold", "stix-bold"),  # bold serif
    ("comic-neue-bold", "humor-sans"),  # hand-lettered
    ("dejavu-sans",),  # regular weight: thinner strokes than any training font
    ("cmtt10",),  # light typewriter: thin strokes, serifs
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
