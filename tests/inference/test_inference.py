from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from synthgap.generators import create_generator
from synthgap.inference import (
    ProjectedGaussianLikelihood,
    importance_weights,
    log_prior,
    merge_by_string,
    posterior,
)

# -- importance weights ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_weights_normalised_finite_and_ess_bounded(seed):
    rng = np.random.default_rng(seed)
    m = 200
    log_p, log_lik, log_q = (rng.normal(0, s, m) for s in (3.0, 50.0, 3.0))
    log_lik -= 1e4  # far below exp's range: must not underflow to all-zero weights
    w, log_z, ess = importance_weights(log_p, log_lik, log_q)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert 1.0 <= ess <= m
    assert np.isfinite(log_z) and log_z < -9000


def test_equal_weights_give_ess_m_and_exact_evidence():
    m = 50
    log_q = np.linspace(-3, 1, m)
    # log p + log lik - log q = -7.5 for every sample: Z = exp(-7.5) exactly
    w, log_z, ess = importance_weights(log_q - 10.0, np.full(m, 2.5), log_q)
    np.testing.assert_allclose(w, 1.0 / m)
    assert ess == pytest.approx(m)
    assert log_z == pytest.approx(-7.5)


def test_one_dominant_sample_gives_ess_one():
    log_lik = np.array([0.0, -800.0, -900.0, -np.inf])
    w, log_z, ess = importance_weights(np.zeros(4), log_lik, np.zeros(4))
    assert w[0] == pytest.approx(1.0) and w[3] == 0.0
    assert ess == pytest.approx(1.0)
    assert log_z == pytest.approx(-np.log(4))


@pytest.mark.parametrize(
    "log_p, log_lik, log_q",
    [
        ([0.0, np.nan], [0.0, 0.0], [0.0, 0.0]),
        ([0.0, 0.0], [0.0, np.inf], [0.0, 0.0]),
        ([0.0, 0.0], [0.0, 0.0], [0.0, -np.inf]),
        ([-np.inf, -np.inf], [0.0, 0.0], [0.0, 0.0]),
        ([0.0], [0.0, 0.0], [0.0, 0.0]),
    ],
)
def test_bad_weights_raise(log_p, log_lik, log_q):
    with pytest.raises(ValueError):
        importance_weights(np.array(log_p), np.array(log_lik), np.array(log_q))


def test_merge_by_string_sums_and_sorts():
    strings, probs = merge_by_string(
        ["b", "a", "c", "a", "b", "a"], np.array([0.1, 0.2, 0.05, 0.2, 0.25, 0.2])
    )
    assert strings == ("a", "b", "c")
    np.testing.assert_allclose(probs, [0.6, 0.35, 0.05])
    strings, probs = merge_by_string(["y", "x", "z"], np.array([0.4, 0.4, 0.2]), top_k=2)
    assert strings == ("x", "y")  # equal mass: alphabetical
    np.testing.assert_allclose(probs, [0.4, 0.4])
    assert merge_by_string(["a"] * 9, np.full(9, 1 / 9))[1][0] == 1.0  # not 1 + 2e-16: a probability


# -- ABC likelihood ----------------------------------------------------------------------------


def test_abc_likelihood_is_maximal_for_the_identical_image():
    gen = create_generator("wikipedia")
    images, _ = gen.generate(6, seed=4)
    lik = ProjectedGaussianLikelihood((50, 200), dim=500, sigma=1.0, seed=0)
    for i, observed in enumerate(images):
        ll = lik(observed, images)
        assert ll.shape == (6,)
        assert np.argmax(ll) == i
        assert ll[i] == pytest.approx(-500 * 0.5 * np.log(2 * np.pi))  # zero difference: only the normaliser


def test_abc_likelihood_matches_the_formula_and_its_seed():
    rng = np.random.default_rng(1)
    obs = rng.integers(0, 256, (5, 7)).astype(np.uint8)
    renders = rng.integers(0, 256, (3, 5, 7)).astype(np.uint8)
    lik = ProjectedGaussianLikelihood((5, 7), dim=4, sigma=2.0, seed=3)
    proj = np.random.default_rng(3).standard_normal((35, 4)) / np.sqrt(35)
    d = (renders.reshape(3, -1).astype(float) - obs.reshape(-1)) @ proj
    expected = -0.5 * np.sum(d**2, axis=1) / 4.0 - 4 * (np.log(2.0) + 0.5 * np.log(2 * np.pi))
    np.testing.assert_allclose(lik(obs, renders), expected, rtol=1e-5)
    other = ProjectedGaussianLikelihood((5, 7), dim=4, sigma=2.0, seed=4)
    assert not np.allclose(other(obs, renders), expected)
    with pytest.raises(ValueError):
        lik(obs, np.zeros((3, 7, 5)))


# -- prior -------------------------------------------------------------------------------------


def test_log_prior_sums_to_one_over_the_discrete_support():
    gen = create_generator(
        "wikipedia", charset="abc", lengths=(1, 2), sizes=(26, 27), kerning=(0, 1), kerning_shift=1,
        char_weights={"a": 2.0, "b": 1.0, "c": 1.0},
    )  # fmt: skip
    base = gen.sample_latent(np.random.default_rng(0))
    support = gen.discrete_latents()
    total = 0.0
    for n, font, size, kerning in itertools.product(*(support[k] for k in ("L", "font", "size", "kerning"))):
        for text in itertools.product("abc", repeat=n):
            latent = dataclasses.replace(base, text="".join(text), font=font, size=size, kerning=kerning)
            total += np.exp(log_prior(gen, latent))
    assert total == pytest.approx(1.0)
    a = dataclasses.replace(base, text="a", font=support["font"][0], size=26, kerning=1)
    expected = np.log(0.5) - np.log(2) - np.log(len(support["font"])) - np.log(2) - np.log(2)
    assert log_prior(gen, a) == pytest.approx(expected)


def test_log_prior_is_minus_infinity_outside_the_support():
    gen = create_generator("wikipedia")
    latent = gen.sample_latent(np.random.default_rng(0))
    assert np.isfinite(log_prior(gen, latent))
    for change in (
        {"text": "abcdefg"},
        {"text": "ABCDEFGH"},
        {"font": "dejavu-sans"},
        {"size": 40},
        {"kerning": 0},
    ):
        assert log_prior(gen, dataclasses.replace(latent, **change)) == -np.inf


# -- the driver on a synthetic captcha ---------------------------------------------------------


def mixture_proposal(gen, truth, rng, p_truth=0.3, n_others=20):
    """A stand-in for a trained network: ``p_truth`` on the true latent, the rest spread over
    other texts (random ones and one-letter changes) and the true text at other kernings."""
    letters = gen.config.charset
    others = [
        dataclasses.replace(truth, text="".join(rng.choice(list(letters), truth.L))) for _ in range(n_others)
    ]
    for i in range(5):
        t = list(truth.text)
        t[i] = letters[(letters.index(t[i]) + 1) % len(letters)]
        others.append(dataclasses.replace(truth, text="".join(t)))
    k0, k1 = gen.discrete_latents()["kerning"][0], gen.discrete_latents()["kerning"][-1]
    others.append(dataclasses.replace(truth, kerning=k1 if truth.kerning == k0 else k0))
    candidates = [truth, *others]
    q = np.array([p_truth] + [(1 - p_truth) / len(others)] * len(others))

    def sample(image, m, rng):
        idx = rng.choice(len(candidates), size=m, p=q)
        return [candidates[i] for i in idx], np.log(q[idx])

    return sample


@pytest.mark.parametrize("seed", [0, 1])
def test_posterior_concentrates_on_the_truth(seed):
    gen = create_generator("wikipedia")
    image, truth = gen.sample(seed=seed, index=0)
    lik = ProjectedGaussianLikelihood(image.shape, dim=500, sigma=1.0, seed=0)
    proposal = mixture_proposal(gen, truth, np.random.default_rng([seed, 1]))

    def run(img):
        prior = lambda lat: log_prior(gen, lat)  # noqa: E731
        return posterior(img, proposal, prior, gen.render, lik, M=100, rng=np.random.default_rng(seed))

    post = run(image)
    assert post.map == truth.text
    assert post.prob(truth.text) > 0.99
    assert post.confidence == post.prob(truth.text)
    assert post.probs.sum() == pytest.approx(1.0)
    assert 1.0 <= post.ess <= 100 and post.n_samples == 100
    assert post.prob("not a candidate") == 0.0
    # an image the proposal knows nothing about: no candidate renders it, so the evidence drops
    post_other = run(gen.sample(seed=seed, index=1)[0])
    assert post_other.probs.sum() == pytest.approx(1.0)
    assert post_other.log_evidence < post.log_evidence - 1000


def test_tempering_reaches_the_ess_target_and_leaves_even_weights_alone():
    from synthgap.inference.importance import importance_weights, temper

    rng = np.random.default_rng(0)
    log_p, log_q = np.zeros(100), np.zeros(100)
    log_lik = -rng.uniform(0, 5000, 100)  # one candidate dominates: ESS ~ 1
    assert importance_weights(log_p, log_lik, log_q)[2] < 2
    beta = temper(log_p, log_lik, log_q, 0.1)
    ess = importance_weights(log_p, beta * log_lik, log_q)[2]
    assert 0 < beta < 1 and ess == pytest.approx(10, rel=0.01)
    flat = -rng.uniform(0, 0.01, 100)
    assert temper(log_p, flat, log_q, 0.1) == 1.0  # already even: untouched
    uneven_q = -rng.uniform(0, 500, 100)  # p / q alone leaves one sample: no beta helps
    assert temper(log_p, log_lik, uneven_q, 0.1) == 1.0
    with pytest.raises(ValueError, match="ess_target"):
        temper(log_p, flat, log_q, 0)
