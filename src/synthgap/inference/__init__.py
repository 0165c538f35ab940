"""Posterior inference by importance sampling with a (learned) proposal, as in Le et al. (2017).

>>> from synthgap.inference import ProjectedGaussianLikelihood, posterior, log_prior
"""

from __future__ import annotations

from synthgap.inference.importance import Posterior, importance_weights, merge_by_string, posterior
from synthgap.inference.likelihood import ProjectedGaussianLikelihood
from synthgap.inference.prior import log_prior

__all__ = [
    "Posterior",
    "ProjectedGaussianLikelihood",
    "importance_weights",
    "log_prior",
    "merge_by_string",
    "posterior",
]
