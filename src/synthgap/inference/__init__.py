"""Posterior inference by importance sampling with a (learned) proposal, as in Le et al. (2017).

>>> from synthgap.inference import ProjectedGaussianLikelihood, posterior, log_prior
>>> from synthgap.inference import ModelProposal, model_posteriors  # a trained recognizer as q
"""

from __future__ import annotations

from synthgap.inference.importance import Posterior, importance_weights, merge_by_string, posterior
from synthgap.inference.likelihood import LetterCountLikelihood, ProjectedGaussianLikelihood
from synthgap.inference.prior import log_prior
from synthgap.inference.proposals import ModelProposal, fit_epsilon, generator_for, model_posteriors

__all__ = [
    "LetterCountLikelihood",
    "ModelProposal",
    "Posterior",
    "ProjectedGaussianLikelihood",
    "fit_epsilon",
    "importance_weights",
    "log_prior",
    "generator_for",
    "merge_by_string",
    "model_posteriors",
    "posterior",
]
