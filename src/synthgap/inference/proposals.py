"""A trained recognizer as an importance-sampling proposal over a generator's latents.

A network proposes only part of a latent: ``paper_lstm`` draws L, font, size, kerning and the
letters; ``crnn_ctc`` and ``multihead_cnn*`` draw the string alone. Every other part (the style's
params, elastic strength, pixel-noise seed, and for string-only models font/size/kerning) is drawn
from the generator's prior given the proposed part (``Generator.sample_latent(rng, text=..., ...)``).

The proposal density is then q(x | y) = q_net(proposed | y) p(rest | proposed). The continuous
rest cancels against the same factor of the prior in p(x) p(y | x) / q(x | y), so neither side
counts it (``synthgap.inference.prior`` scores only text, L, font, size and kerning). The prior
drawn *discrete* parts (font, size, kerning for string-only models) do appear in ``log_prior``,
so their prior log-probability is added to log q here: their weights cancel exactly, and the log
evidence stays an estimate of log p(y).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from synthgap.errors import UsageError
from synthgap.generators import Generator, Latent, create_generator
from synthgap.inference.importance import Posterior, posterior
from synthgap.inference.likelihood import LetterCountLikelihood, ProjectedGaussianLikelihood
from synthgap.inference.prior import log_prior

FIXABLE = ("text", "font", "size", "kerning")  # the draw keys a latent can be built from ("L" = len(text))


def generator_for(meta: dict[str, Any], style: str | None = None) -> Generator:
    """The generator a checkpoint was trained on (its prior), or ``style``'s plain one if given."""
    if style is not None:
        return create_generator(style)
    if not meta.get("style"):
        raise UsageError(
            "checkpoint: trained on real images, so it has no generator; pass --style", field="style"
        )
    return create_generator(
        meta["style"], elastic=meta.get("variant") == "elastic", **(meta.get("overrides") or {})
    )


class ModelProposal:
    """``proposal(image, M, rng) -> (latents, log_q)`` from ``model.sample`` and ``gen``'s prior.

    Draws whose L, font, size or kerning fall outside ``gen``'s support are returned as latents
    all the same (with the proposed values); ``log_prior`` gives them -inf, so they get weight 0.
    """

    def __init__(self, model: Any, gen: Generator) -> None:
        self.model, self.gen = model, gen
        support = gen.discrete_latents()
        self._support_log_p = {k: -float(np.log(len(support[k]))) for k in ("font", "size", "kerning")}

    def latents(
        self, draws: Sequence[dict[str, Any]], rng: np.random.Generator
    ) -> tuple[list[Latent], float]:
        """Latents for ``draws`` (rest from the prior) and the log prior of what the prior drew."""
        keys = set(draws[0])
        unknown = keys - set(FIXABLE) - {"L"}
        if unknown:
            raise ValueError(f"the proposal draws {sorted(unknown)}, which a Latent cannot fix")
        if "L" in keys and any(d["L"] != len(d["text"]) for d in draws):
            raise ValueError("draws with L different from their text's length")
        prior_drawn = sum(v for k, v in self._support_log_p.items() if k not in keys)
        out = []
        for d in draws:
            fixed = {k: d[k] for k in FIXABLE if k in d}
            out.append(self._latent(rng, fixed))
        return out, prior_drawn

    def _latent(self, rng: np.random.Generator, fixed: dict[str, Any]) -> Latent:
        gen, support = self.gen, self.gen.discrete_latents()
        ok = all(fixed[k] in support[k] for k in ("font", "size", "kerning") if k in fixed)
        if ok and len(fixed["text"]) in support["L"] and set(fixed["text"]) <= set(gen.config.charset):
            return gen.sample_latent(rng, **fixed)
        # outside the prior's support: log_prior is -inf, nothing is drawn and nothing rendered
        c = gen.config
        rest = {"font": c.fonts[0], "size": c.sizes[0], "kerning": support["kerning"][0]}
        return Latent(gen.name, gen.elastic, **{**rest, **fixed})

    def __call__(
        self, image: np.ndarray, m: int, rng: np.random.Generator
    ) -> tuple[list[Latent], np.ndarray]:
        draws, log_q = self.model.sample(np.asarray(image)[None], m, rng)
        latents, prior_drawn = self.latents(draws[0], rng)
        return latents, np.asarray(log_q[0], np.float64) + prior_drawn

    def log_prior(self, latent: Latent) -> float:
        return log_prior(self.gen, latent)


def fit_epsilon(model: Any, gen: Generator, seed: int, *, n: int = 50, renders: int = 2) -> float:
    """The letter-count kernel's width: how far the summary moves under the rendering nuisance alone.

    ``n`` held-aside captchas of ``gen`` (stream ``seed``) are each rendered ``renders`` more times
    with their own text and fresh prior nuisance; epsilon^2 is the median squared distance of those
    renders' summaries to the captcha's. Renders of the right text then weigh alike (within a nat or
    so) while a wrong letter, which moves the summary by about sqrt(2), is far outside the kernel.
    A summary that does not move at all gets a floor of 1e-4. Many captchas, few renders each: a
    few misread captchas move the median less (wikipedia crnn_ctc over 5 seeds: 0.03-0.06 at 50 x 2,
    0.02-0.17 at 20 x 5).
    """
    images, latents = gen.generate(n, seed)
    lik, rng = LetterCountLikelihood(model, 1.0), np.random.default_rng([seed, 1])
    d2 = [
        lik.distances(
            img, np.stack([gen.render(gen.sample_latent(rng, text=lat.text)) for _ in range(renders)])
        )
        for img, lat in zip(images, latents, strict=True)
    ]
    return max(float(np.sqrt(np.median(np.concatenate(d2)))), 1e-4)


def model_posteriors(
    model: Any,
    gen: Generator,
    images: np.ndarray,
    M: int,  # noqa: N803 - the paper's name for the number of importance samples
    seed: int,
    *,
    likelihood: str = "pixels",
    sigma: float = 1.0,
    dim: int = 500,
    epsilon: float | None = None,
    top_k: int | None = None,
    ess_target: float | None = None,
) -> list[Posterior]:
    """The importance-sampled posterior of each image, with ``model`` as proposal and ``gen`` as prior.

    ``likelihood``: ``pixels``, the paper's ABC on ``dim`` random projections with ``sigma``
    (seeded by ``seed``), or ``letters``, a kernel of width ``epsilon`` on the model's letter counts
    (``LetterCountLikelihood``; ``fit_epsilon`` gives a width). Image i uses the stream
    ``default_rng([seed, i])``, so its posterior does not depend on the other images.
    """
    images = np.asarray(images)
    if likelihood == "pixels":
        lik = ProjectedGaussianLikelihood(images.shape[1:], dim=dim, sigma=sigma, seed=seed)
    elif likelihood == "letters":
        if epsilon is None:
            raise ValueError("the letters likelihood needs its width epsilon (fit_epsilon gives one)")
        lik = LetterCountLikelihood(model, epsilon)
    else:
        raise ValueError(f"likelihood must be pixels or letters, got {likelihood!r}")
    proposal = ModelProposal(model, gen)
    return [
        posterior(
            img,
            proposal,
            proposal.log_prior,
            gen.render,
            lik,
            M,
            np.random.default_rng([seed, i]),
            top_k=top_k,
            ess_target=ess_target,
        )  # fmt: skip
        for i, img in enumerate(images)
    ]
