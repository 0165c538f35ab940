"""Speed of importance-sampled inference on one captcha: M = 100 renders + ABC weighting."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthgap.generators import create_generator
from synthgap.inference import ProjectedGaussianLikelihood, log_prior, posterior

M = 100


@pytest.fixture(scope="module")
def setup():
    gen = create_generator("wikipedia")
    image, truth = gen.sample(seed=0, index=0)
    rng = np.random.default_rng(1)
    # stand-in proposal: random texts of the true length with the true style parameters
    latents = [truth] + [
        dataclasses.replace(truth, text="".join(rng.choice(list(gen.config.charset), truth.L)))
        for _ in range(M - 1)
    ]

    def proposal(img, m, rng):
        return latents[:m], np.full(m, -np.log(m))

    return gen, image, proposal, ProjectedGaussianLikelihood(image.shape, dim=500, sigma=1.0, seed=0)


def bench_posterior_m100(benchmark, setup):
    """Whole posterior: M renders, prior, batched likelihood, weights, merge."""
    gen, image, proposal, lik = setup
    post = benchmark(
        posterior,
        image,
        proposal,
        lambda lat: log_prior(gen, lat),
        gen.render,
        lik,
        M,
        np.random.default_rng(0),
    )
    assert post.map == gen.sample(seed=0, index=0)[1].text


def bench_likelihood_m100(benchmark, setup):
    """The batched ABC likelihood alone, on M precomputed renders."""
    gen, image, proposal, lik = setup
    renders = np.stack([gen.render(lat) for lat in proposal(image, M, None)[0]])
    benchmark(lik, image, renders)
