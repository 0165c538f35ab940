"""Recognizers as importance-sampling proposals, and the `synthgap posterior` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from clitools import synthgap
from PIL import Image

from synthgap.errors import UsageError
from synthgap.generators import create_generator, list_generators
from synthgap.grid import parse_grid
from synthgap.inference import (
    LetterCountLikelihood,
    ModelProposal,
    ProjectedGaussianLikelihood,
    fit_epsilon,
    generator_for,
    log_prior,
    model_posteriors,
)
from synthgap.models import create_model, list_models
from synthgap.models.checkpoint import load_checkpoint, save_checkpoint

TINY = {"charset": "abc", "lengths": (2, 3), "sizes": (26, 27)}

# -- the prior with some latents fixed -----------------------------------------------------------


@pytest.mark.parametrize("style", list_generators())
def test_sample_latent_with_fixed_values_draws_the_rest_for_them(style):
    gen = create_generator(style)
    support = gen.discrete_latents()
    plain = gen.sample_latent(np.random.default_rng(7))
    assert gen.sample_latent(np.random.default_rng(7)) == plain  # nothing fixed: the usual draw
    fixed = {"font": support["font"][-1], "size": support["size"][0], "kerning": support["kerning"][-1]}
    lats = {}
    for n in (support["L"][0] - 1 or 1, support["L"][-1] + 1):  # lengths the prior never draws itself
        text = (gen.config.charset * n)[:n]
        lats[n] = gen.sample_latent(np.random.default_rng(7), text=text, **fixed)
        assert {k: getattr(lats[n], k) for k in fixed} == fixed and lats[n].text == text
        img = gen.render(lats[n])  # per-glyph params sized for another text fail (strict zips)
        assert img.shape == (50, 200) and img.min() < 128  # some ink
    lat = gen.sample_latent(np.random.default_rng(7), text=plain.text[::-1], **fixed)
    assert np.isfinite(log_prior(gen, lat))


# -- proposals from the model families -----------------------------------------------------------


def tiny_model(name, gen):
    torch.manual_seed(0)
    latents = {k: list(v) for k, v in gen.discrete_latents().items()}
    return create_model(name, charset=gen.config.charset, max_len=gen.config.lengths[1], latents=latents)


@pytest.mark.parametrize("name", list_models())
def test_proposal_latents_lie_in_the_support_with_finite_log_q(name):
    gen = create_generator("wikipedia", **TINY)
    model = tiny_model(name, gen)
    if name == "crnn_ctc":  # untrained, it spells a letter in most of its 32 columns: favour blanks
        with torch.no_grad():
            model.head.bias[0] = 3.5
    image = gen.sample(0, 0)[0]
    proposal = ModelProposal(model, gen)
    latents, log_q = proposal(image, 40, np.random.default_rng(1))
    draws, net_log_q = model.sample(image[None], 40, np.random.default_rng(1))
    assert [lat.text for lat in latents] == [d["text"] for d in draws[0]]
    assert log_q.shape == (40,) and np.all(np.isfinite(log_q))
    support = gen.discrete_latents()
    sizes = [len(support[k]) for k in ("font", "size", "kerning")]
    prior_drawn = 0.0 if name == "paper_lstm" else -np.log(np.prod(sizes))
    np.testing.assert_allclose(log_q, net_log_q[0] + prior_drawn)
    inside = [lat for lat in latents if np.isfinite(log_prior(gen, lat))]
    assert len(inside) >= 5  # an untrained net still proposes many strings of length 2..3 over "abc"
    for lat, d in zip(latents, draws[0], strict=True):
        if name == "paper_lstm":
            assert (lat.L, lat.font, lat.size, lat.kerning) == (d["L"], d["font"], d["size"], d["kerning"])
        if np.isfinite(log_prior(gen, lat)):
            assert lat.font in support["font"] and lat.size in support["size"]
            assert lat.kerning in support["kerning"] and lat.L in support["L"]
            assert gen.render(lat).shape == (50, 200)
        else:
            assert lat.L not in support["L"]


class CandidateModel:
    """A stand-in trained network: proposes the true latents' discrete part with probability 0.3,
    else one of a few one-letter changes or random texts (as a paper_lstm draw)."""

    def __init__(self, gen, truth, rng):
        letters = gen.config.charset
        texts = {"".join(rng.choice(list(letters), truth.L)) for _ in range(10)}
        for i in range(truth.L):
            t = list(truth.text)
            t[i] = letters[(letters.index(t[i]) + 1) % len(letters)]
            texts.add("".join(t))
        others = sorted(texts - {truth.text})
        self.texts = [truth.text, *others]
        self.q = np.array([0.3] + [0.7 / len(others)] * len(others))
        self.truth = truth

    def sample(self, images, m, rng):
        idx = rng.choice(len(self.texts), size=m, p=self.q)
        t = self.truth
        draws = [{"L": t.L, "font": t.font, "size": t.size, "kerning": t.kerning, "text": self.texts[i]}
                 for i in idx]  # fmt: skip
        return [draws], np.log(self.q[idx])[None]


def test_posterior_of_a_clean_captcha_puts_most_mass_on_the_truth():
    """The proposal gives the truth 0.3; the posterior gives it most of the mass on average. With
    the rest of each latent from the prior, a neighbour string whose drawn distortion happens to
    match better wins some captchas outright (sigma = 1 leaves ESS near 1): 6 of 10 here."""
    gen = create_generator("wikipedia")
    images, truths = gen.generate(10, 11)
    mass = []
    for i, (image, truth) in enumerate(zip(images, truths, strict=True)):
        model = CandidateModel(gen, truth, np.random.default_rng(i))
        (post,) = model_posteriors(model, gen, image[None], 100, seed=i)
        assert post.n_samples == 100 and 1 <= post.ess <= 100 and np.isfinite(post.log_evidence)
        assert post.map in model.texts
        mass.append(post.prob(truth.text))
    assert np.mean(mass) > 0.5, mass


def test_posterior_with_no_sample_in_the_support_is_empty():
    gen = create_generator("wikipedia")
    image, truth = gen.sample(0, 0)

    class Short:
        def sample(self, images, m, rng):
            return [[{"text": "ab"}] * m], np.zeros((1, m))

    (post,) = model_posteriors(Short(), gen, image[None], 5, seed=0)
    assert post.strings == () and post.map is None and post.confidence == 0.0 and post.ess == 0.0
    assert post.log_evidence == -np.inf


def test_generator_for_a_checkpoint():
    gen = generator_for({"style": "wikipedia", "variant": "elastic", "overrides": {"charset": "ab"}})
    assert gen.elastic and gen.config.charset == "ab"
    assert generator_for({"style": None}, style="captcha_v2").name == "captcha_v2"
    with pytest.raises(UsageError, match="--style"):
        generator_for({"style": None})


def test_grid_posterior_settings_parse_and_validate():
    base = 'styles=["wikipedia"]\nmodels=["crnn_ctc"]\nsizes=["cpu"]\nseeds=[0]\n'
    base += "test_size=4\n[budget]\nsteps=1\n"
    grid = parse_grid(base + "[posterior]\nsize=3\nM=7\nsigma=2.5\n")
    assert (grid.posterior.size, grid.posterior.M, grid.posterior.sigma, grid.posterior.dim) == (
        3,
        7,
        2.5,
        500,
    )
    assert all(c.posterior == grid.posterior for c in grid.cells())
    assert grid.settings()["posterior"]["M"] == 7
    assert parse_grid(base).posterior.size == 20
    assert "likelihood" not in grid.settings()["posterior"]  # the paper's pixels: settings as before
    letters = parse_grid(base + '[posterior]\nlikelihood="letters"\nfit_n=7\n')
    want = {
        "size": 20,
        "M": 100,
        "sigma": 1.0,
        "dim": 500,
        "likelihood": "letters",
        "fit_n": 7,
    }
    assert letters.settings()["posterior"] == want
    assert parse_grid(base + '[posterior]\nlikelihood="letters"\nepsilon=0.5\n').posterior.epsilon == 0.5
    for bad, field in (("M=0", "posterior.M"), ("sigma=0", "posterior.sigma"), ("n=3", "posterior.n"),
                       ('likelihood="words"', "posterior.likelihood"), ("epsilon=0", "posterior.epsilon"),
                       ("fit_n=0", "posterior.fit_n")):  # fmt: skip
        with pytest.raises(UsageError, match=field):
            parse_grid(base + f"[posterior]\n{bad}\n")


# -- the letter-count likelihood -----------------------------------------------------------------

ZOO_CRNN = Path(__file__).resolve().parents[2] / "results" / "zoo" / "captcha_v2-plain-crnn_ctc-cpu-s0"


@pytest.fixture(scope="module")
def zoo_crnn():
    return load_checkpoint(ZOO_CRNN)


def test_letter_counts_weigh_the_text_where_pixels_weigh_the_nuisance(zoo_crnn):
    """Renders of the true text (fresh prior nuisance) against renders of a one-letter-off text:
    on letter counts the true ones are nearly always closer, on pixels about half the time."""
    gen = generator_for(zoo_crnn.meta)
    images, latents = gen.generate(6, 5)
    rng = np.random.default_rng(0)
    letters, pixels = LetterCountLikelihood(zoo_crnn, 0.1), ProjectedGaussianLikelihood(images.shape[1:])
    closer = {"letters": [], "pixels": []}
    for img, lat in zip(images, latents, strict=True):
        t, cs = lat.text, gen.config.charset
        other = cs[(cs.index(t[0]) + 1) % len(cs)] + t[1:]
        renders = [
            np.stack([gen.render(gen.sample_latent(rng, text=s)) for _ in range(8)]) for s in (t, other)
        ]
        for name, lik in (("letters", letters), ("pixels", pixels)):
            right, wrong = (lik(img, r) for r in renders)
            closer[name].append(np.mean(right[:, None] > wrong[None, :]))
    assert np.mean(closer["letters"]) > 0.9 and np.mean(closer["pixels"]) < 0.8, closer


def test_fitted_epsilon_is_the_spread_under_the_nuisance_and_the_posterior_keeps_samples(zoo_crnn):
    """Epsilon: renders of a captcha's own text sit about epsilon away (median), a wrong letter
    (distance ~ sqrt 2) far outside; with it, posteriors keep many samples and find the truth."""
    gen = generator_for(zoo_crnn.meta)
    eps = fit_epsilon(zoo_crnn, gen, seed=9, n=6)
    assert eps == fit_epsilon(zoo_crnn, gen, seed=9, n=6)  # seeded
    assert 1e-4 <= eps < 0.2
    images, latents = gen.generate(6, 10)
    posts = model_posteriors(zoo_crnn, gen, images, 20, 10, likelihood="letters", epsilon=eps)
    assert np.median([p.ess / 20 for p in posts]) >= 0.2  # the paper's pixels: 1 of 20
    truth = [lat.text for lat in latents]
    argmax_right = sum(p == t for p, t in zip(zoo_crnn.predict(images), truth, strict=True))
    assert sum(p.map == t for p, t in zip(posts, truth, strict=True)) >= argmax_right >= 4
    with pytest.raises(ValueError, match="epsilon"):
        model_posteriors(zoo_crnn, gen, images[:1], 5, 0, likelihood="letters")


# -- the command -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    gen = create_generator("wikipedia", **TINY)
    model = tiny_model("paper_lstm", gen)
    meta = {"style": "wikipedia", "variant": "plain", "overrides": {k: list(v) if isinstance(v, tuple) else v
                                                                     for k, v in TINY.items()}}  # fmt: skip
    return save_checkpoint(model, tmp_path_factory.mktemp("ckpt") / "lstm", meta)


def test_posterior_command_writes_table_and_panel(tmp_path, checkpoint):
    gen = create_generator("wikipedia", **TINY)
    images, latents = gen.generate(2, 3)
    paths = []
    for img, lat in zip(images, latents, strict=True):
        paths.append(tmp_path / f"{lat.text}.png")
        Image.fromarray(img).save(paths[-1])
    out = tmp_path / "out"
    r = synthgap(
        "posterior", str(checkpoint), *map(str, paths), "-M", "12", "--top-k", "3", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(out / "posterior.csv")
    assert sorted(set(table["image"])) == sorted(p.name for p in paths)
    assert table["prob"].dropna().between(0, 1).all() and table.groupby("image")["rank"].max().max() <= 3
    assert table["model_confidence"].between(0, 1).all() and (table["ess"] <= 12).all()
    assert (out / "posterior.png").stat().st_size > 5000 and (out / "run.json").is_file()
    assert "ms per captcha at M=12" in r.stdout
    r = synthgap("posterior", str(checkpoint), *map(str, paths), "-M", "12", "--likelihood", "letters",
                 "--out", str(tmp_path / "letters"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    run = json.loads((tmp_path / "letters" / "run.json").read_text())
    assert run["likelihood"] == "letters" and run["epsilon"] >= 1e-4  # fitted, and recorded


CASES = [
    "missing image",
    "not an image",
    "unknown checkpoint",
    "no prior",
    "bad M",
    "bad sigma",
    "bad epsilon",
]


@pytest.mark.parametrize("case", CASES)
def test_posterior_command_rejects_bad_input(tmp_path, checkpoint, case):
    image, text = tmp_path / "x.png", tmp_path / "notes.png"
    Image.fromarray(np.full((50, 200), 255, np.uint8)).save(image)
    text.write_text("not a PNG")
    real_trained = tmp_path / "real_ckpt"  # trained on real images: no generator to be its prior
    shutil.copytree(checkpoint, real_trained)
    config = json.loads((real_trained / "config.json").read_text())
    (real_trained / "config.json").write_text(json.dumps({**config, "style": None}))
    args, field = {
        "missing image": ([str(checkpoint), str(tmp_path / "nope.png")], "image"),
        "not an image": ([str(checkpoint), str(text)], "notes.png"),
        "unknown checkpoint": ([str(tmp_path / "no_ckpt"), str(image)], "no_ckpt"),
        "no prior": ([str(real_trained), str(image)], "--style"),
        "bad M": ([str(checkpoint), str(image), "-M", "0"], "M:"),
        "bad sigma": ([str(checkpoint), str(image), "--sigma", "0"], "sigma:"),
        "bad epsilon": (
            [str(checkpoint), str(image), "--likelihood", "letters", "--epsilon", "0"],
            "epsilon:",
        ),
    }[case]
    r = synthgap("posterior", *args, "--out", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "error" in r.stderr and field in r.stderr
    assert not (tmp_path / "out").exists()


def test_posterior_of_a_replaced_latent_is_unchanged_by_the_prior_draws():
    """The string-only proposal's log q includes the prior-drawn font/size/kerning: weights then
    depend on the likelihood alone when the network gives every string the same probability."""
    gen = create_generator("wikipedia", **TINY)
    image, truth = gen.sample(0, 1)

    class Uniform:
        def sample(self, images, m, rng):
            return [[{"text": truth.text}] * m], np.full((1, m), -1.0)

    proposal = ModelProposal(Uniform(), gen)
    latents, log_q = proposal(image, 8, np.random.default_rng(0))
    log_w = np.array([proposal.log_prior(lat) for lat in latents]) - log_q
    np.testing.assert_allclose(log_w, log_w[0])  # p(discrete) / q(discrete) is the same for every draw
    assert len({lat.seed for lat in latents}) == 8  # the rest comes from the prior, fresh per draw
