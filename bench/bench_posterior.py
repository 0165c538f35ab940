"""Speed of the importance-sampled posterior with a network proposal, per captcha at M = 100
(wikipedia, ``cpu`` size, 1 torch thread). Speed does not depend on training, so the networks are
untrained: an untrained ``paper_lstm`` still proposes only latents in the prior's support (its
heads range over the support), so every one of the M candidates is rendered and weighted, as
with a trained one. ``crnn_ctc`` is timed for its proposal alone (untrained, it spells strings
the prior cannot render). The letters likelihood needs a trained summary, so its benchmarks take
the converged wikipedia entries of the zoo (results/zoo), at M = 100 and M = 1000. Run with
``tox -e bench``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from synthgap.generators import create_generator
from synthgap.inference import (
    LetterCountLikelihood,
    ModelProposal,
    ProjectedGaussianLikelihood,
    fit_epsilon,
    generator_for,
    model_posteriors,
    posterior,
)
from synthgap.models import create_model
from synthgap.models.checkpoint import load_checkpoint

M = 100
ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "results" / "zoo" / "index.csv"
ZOO = pd.read_csv(INDEX) if INDEX.is_file() else pd.DataFrame(columns=["style", "variant", "path", "name"])
WIKIPEDIA = ZOO[(ZOO["style"] == "wikipedia") & (ZOO["variant"] == "plain")].to_dict("records")


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    gen = create_generator("wikipedia")
    images, _ = gen.generate(8, seed=0)
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    models = {
        name: create_model(name, charset=gen.config.charset, max_len=gen.config.lengths[1], latents=latents)
        for name in ("paper_lstm", "crnn_ctc")
    }
    lik = ProjectedGaussianLikelihood(images.shape[1:], dim=500, sigma=1.0, seed=0)
    return gen, images, models, lik


def bench_posterior_paper_lstm_m100(benchmark, setup):
    """One captcha: M proposals from the network, M prior completions, M renders, batched weights."""
    gen, images, models, lik = setup
    proposal = ModelProposal(models["paper_lstm"], gen)
    post = benchmark(
        posterior, images[0], proposal, proposal.log_prior, gen.render, lik, M, np.random.default_rng(0)
    )
    assert post.n_samples == M and post.probs.sum() == pytest.approx(1.0)


def bench_model_posteriors_paper_lstm_8_captchas(benchmark, setup):
    """Eight captchas through ``model_posteriors`` (projection matrix built once per call)."""
    gen, images, models, _ = setup
    posts = benchmark.pedantic(
        model_posteriors, (models["paper_lstm"], gen, images, M, 0), rounds=3, iterations=1
    )
    assert len(posts) == 8


def bench_proposal_crnn_ctc_m100(benchmark, setup):
    """The proposal alone: one forward pass, M path draws, CTC log q, M prior completions."""
    gen, images, models, _ = setup
    proposal = ModelProposal(models["crnn_ctc"], gen)
    latents, log_q = benchmark(proposal, images[0], M, np.random.default_rng(0))
    assert len(latents) == M and np.all(np.isfinite(log_q))


@pytest.mark.parametrize("entry", WIKIPEDIA, ids=[e["name"] for e in WIKIPEDIA])
@pytest.mark.parametrize("m", [100, 1000])
def bench_posterior_letters_zoo(benchmark, entry, m):
    """One captcha with a converged proposal and the letters likelihood (the grids' setting): M
    proposals, prior completions and renders, and one forward pass of the M renders for their
    letter counts."""
    torch.set_num_threads(1)
    model = load_checkpoint(ROOT / entry["path"])
    gen = generator_for(model.meta)
    images, _ = gen.generate(1, seed=4242)
    lik = LetterCountLikelihood(model, fit_epsilon(model, gen, seed=5, n=20))
    proposal = ModelProposal(model, gen)
    post = benchmark.pedantic(
        posterior,
        args=(images[0], proposal, proposal.log_prior, gen.render, lik, m, np.random.default_rng(0)),
        rounds=10 if m == 100 else 3,
        warmup_rounds=1,
    )
    assert post.n_samples == m and post.ess >= 1
