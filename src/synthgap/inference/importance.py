"""Self-normalised importance sampling over latents, merged into a posterior over strings.

The paper (Le et al. 2017, Section III) turns a trained proposal q(x | y) into a posterior by
importance sampling: draw M latents from q, weight each by p(x) p(y | x) / q(x | y), normalise, and
sum the weights of latents that spell the same string. Everything here is model-free: the proposal,
prior, renderer and likelihood are callables, so a trained network is wired in without changing
this file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp


def importance_weights(
    log_p: np.ndarray, log_lik: np.ndarray, log_q: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Normalised weights, log evidence estimate and effective sample size, all in log space.

    ``log_p``, ``log_lik`` and ``log_q`` are per-sample log prior, log likelihood and log proposal
    (shape (M,)). The evidence estimate is log((1/M) sum_m w_m) with unnormalised weights w_m; the
    ESS is 1 / sum_m wbar_m^2 for the normalised weights wbar, so 1 <= ESS <= M. Samples with
    zero prior or likelihood (log = -inf) get weight 0; a sample with log_q = -inf could not have
    been drawn, and anything NaN or +inf is a bug upstream: both raise ValueError.
    """
    log_p, log_lik, log_q = (np.asarray(a, np.float64) for a in (log_p, log_lik, log_q))
    if not (log_p.shape == log_lik.shape == log_q.shape) or log_p.ndim != 1 or log_p.size == 0:
        raise ValueError(f"need three equal 1-D arrays, got {log_p.shape}, {log_lik.shape}, {log_q.shape}")
    if not np.all(np.isfinite(log_q)):
        raise ValueError("log_q must be finite: every sample was drawn from the proposal")
    for name, a in (("log_p", log_p), ("log_lik", log_lik)):
        if np.any(np.isnan(a)) or np.any(a == np.inf):
            raise ValueError(f"{name} has NaN or +inf entries")
    log_w = log_p + log_lik - log_q
    total = logsumexp(log_w)
    if not np.isfinite(total):
        raise ValueError("every sample has zero weight (prior or likelihood is zero for all of them)")
    w = np.exp(log_w - total)
    return w, float(total - np.log(log_w.size)), float(1.0 / np.sum(w * w))


def temper(log_p: np.ndarray, log_lik: np.ndarray, log_q: np.ndarray, ess_target: float) -> float:
    """The likelihood exponent beta in (0, 1] at which the ESS reaches ``ess_target`` (a fraction
    of M): 1 where the untempered weights already reach it or where no beta can (p / q alone is
    too uneven), else found by bisection on log beta.

    Tempering p(y | x)^beta widens the ABC kernel to sigma / sqrt(beta): when the rendering
    nuisance makes every candidate but one look impossible at the paper's sigma, it lets the
    weights reflect the text again.
    """
    if not 0 < ess_target <= 1:
        raise ValueError(f"ess_target must be in (0, 1], got {ess_target}")
    m = len(log_lik)
    finite = np.isfinite(log_lik)

    def ess(beta: float) -> float:
        return importance_weights(log_p, np.where(finite, beta * log_lik, -np.inf), log_q)[2]

    if ess(1.0) >= ess_target * m:
        return 1.0
    lo, hi = -40.0, 0.0  # log beta; at beta = e^-40 the likelihood no longer matters
    if ess(np.exp(lo)) < ess_target * m:
        # the prior / proposal ratio alone is that uneven: tempering would only throw the
        # likelihood away (measured: posterior-mode recognition 0.99 -> 0.70), so leave it be
        return 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(np.exp(mid)) >= ess_target * m else (lo, mid)
    return float(np.exp(lo))


def merge_by_string(
    strings: Sequence[str], weights: np.ndarray, top_k: int | None = None
) -> tuple[tuple[str, ...], np.ndarray]:
    """Sum the weights of equal strings; return strings and masses sorted by mass (ties by string)."""
    weights = np.asarray(weights, np.float64)
    if len(strings) != weights.shape[0]:
        raise ValueError(f"{len(strings)} strings but {weights.shape[0]} weights")
    uniq, inverse = np.unique(np.asarray(strings, dtype=object), return_inverse=True)
    # normalised weights: a sum above 1 is rounding (nine weights of 1/9 sum to 1 + 2e-16)
    mass = np.minimum(np.bincount(inverse.ravel(), weights=weights, minlength=len(uniq)), 1.0)
    order = np.lexsort((np.arange(len(uniq)), -mass))  # np.unique sorts strings, so ties go by string
    if top_k is not None:
        order = order[:top_k]
    return tuple(str(s) for s in uniq[order]), mass[order]


@dataclass(frozen=True)
class Posterior:
    """A posterior over strings from M importance samples.

    ``strings``/``probs`` are sorted by probability; when truncated to the top k, ``probs`` sums to
    less than 1 and every other string has probability 0 as far as this estimate knows. When no
    sample lies in the prior's support the estimate is empty: no strings, ESS 0, log evidence -inf.
    """

    strings: tuple[str, ...]
    probs: np.ndarray
    ess: float
    log_evidence: float
    n_samples: int
    beta: float = 1.0  # the likelihood's tempering exponent (1: untempered)

    @property
    def map(self) -> str | None:
        """The most probable string (None for an empty estimate)."""
        return self.strings[0] if self.strings else None

    @property
    def confidence(self) -> float:
        """Probability of the most probable string: the confidence used for calibration."""
        return float(self.probs[0]) if self.strings else 0.0

    def prob(self, text: str) -> float:
        """Posterior probability of ``text`` (0 if no retained sample spells it)."""
        try:
            return float(self.probs[self.strings.index(text)])
        except ValueError:
            return 0.0


def posterior(
    image: np.ndarray,
    proposal_sample: Callable[[np.ndarray, int, np.random.Generator], tuple[Sequence[Any], np.ndarray]],
    log_prior: Callable[[Any], float],
    render: Callable[[Any], np.ndarray],
    log_likelihood: Callable[[np.ndarray, np.ndarray], np.ndarray],
    M: int,  # noqa: N803 - the paper's name for the number of importance samples
    rng: np.random.Generator,
    *,
    text: Callable[[Any], str] = lambda latent: latent.text,
    top_k: int | None = None,
    ess_target: float | None = None,
) -> Posterior:
    """Importance-sampled posterior over the string shown in ``image``.

    ``proposal_sample(image, M, rng)`` returns M latents and their log q (the amortised proposal);
    ``log_prior(latent)`` is log p under the generator prior (see ``synthgap.inference.prior``);
    ``render(latent)`` draws one candidate; ``log_likelihood(image, renders)`` scores all M renders
    at once (e.g. :class:`~synthgap.inference.likelihood.ProjectedGaussianLikelihood`).
    ``ess_target`` (a fraction of M) tempers the likelihood per image until the ESS reaches it
    (``temper``); None keeps it as it is.
    """
    if M < 1:
        raise ValueError(f"M must be >= 1, got {M}")
    latents, log_q = proposal_sample(image, M, rng)
    if len(latents) != M:
        raise ValueError(f"proposal returned {len(latents)} latents, asked for {M}")
    log_p = np.array([log_prior(latent) for latent in latents], np.float64)
    possible = np.flatnonzero(log_p > -np.inf)  # a latent outside the prior may not even render
    if possible.size == 0:
        return Posterior((), np.zeros(0), 0.0, -np.inf, M)
    log_lik = np.full(M, -np.inf)
    log_lik[possible] = log_likelihood(image, np.stack([render(latents[i]) for i in possible]))
    beta = 1.0 if ess_target is None else temper(log_p, log_lik, log_q, ess_target)
    w, log_z, ess = importance_weights(log_p, np.where(np.isfinite(log_lik), beta * log_lik, -np.inf), log_q)
    strings, probs = merge_by_string([text(latent) for latent in latents], w, top_k)
    return Posterior(strings, probs, ess, log_z, M, beta)
