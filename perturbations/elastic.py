"""Elastic distortion stronger than training: the Simard field of the elastic variant, scaled up.

Per-axis RMS displacement = alpha / (2 sigma sqrt(3 pi)); at the styles' sigma = 5 px that is
alpha / 30.7 px. The elastic training variant draws alpha from U[20, 40).
"""

from __future__ import annotations

from synthgap.perturbations import register_perturbation
from synthgap.perturbations.base import GenerativePerturbation

# Simard alpha (fixed, not drawn), severity 1..5; RMS at sigma 5: 0.65 1.3 1.8 2.3 2.9 px.
# Severities 1-2 lie inside the elastic variant's training range, 3-5 beyond it; at 5 glyphs
# are torn but mostly still legible to a person.
ELASTIC_ALPHA = (20.0, 40.0, 55.0, 70.0, 90.0)


@register_perturbation("elastic", family="generative")
class Elastic(GenerativePerturbation):
    param, table = "elastic_alpha", ELASTIC_ALPHA
    elastic = True

    def shift(self, gen, value):
        return {"elastic_alpha": (value, value)}
