"""Word-pair decoding: exact CTC probabilities of two-word texts, and the best pair among all."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthgap.models.lexicon import WordPairs

CHARSET = "abc"
WORDS = ("ab", "ba", "aa", "abc", "cab", "cc", "bcb")


def ctc_log_prob(logp: np.ndarray, text: str) -> float:
    """The reference: torch's CTC loss of one text (blank 0, letters 1..)."""
    target = torch.tensor([[CHARSET.index(c) + 1 for c in text]])
    lp = torch.from_numpy(logp)[:, None, :]
    loss = F.ctc_loss(lp, target, torch.tensor([len(logp)]), torch.tensor([len(text)]), reduction="sum")
    return -loss.item()


@pytest.mark.parametrize("seed", range(6))
def test_best_pair_and_its_probability_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    logp = np.log(rng.dirichlet(np.full(len(CHARSET) + 1, 0.3), size=12))
    decoder = WordPairs(WORDS, CHARSET, (4, 6), top=len(WORDS))
    text, score = decoder.decode(logp)
    pairs = {
        a + b: ctc_log_prob(logp, a + b) for a, b in itertools.product(WORDS, WORDS) if 4 <= len(a + b) <= 6
    }
    best = max(pairs, key=pairs.get)
    assert score == pytest.approx(pairs[best], abs=1e-6)
    assert pairs[text] == pytest.approx(pairs[best], abs=1e-6)  # the argmax (ties: any of them)


def test_repeated_letter_across_the_words_needs_a_blank():
    # frames: a a (no blank) then b: "a"+"ab" would need a blank between the two a's
    one_hot = np.full((3, 4), -30.0)
    one_hot[[0, 1, 2], [1, 1, 2]] = 0.0
    decoder = WordPairs(("a", "ab", "b"), CHARSET, (2, 3), top=3)
    text, score = decoder.decode(one_hot)
    assert text == "ab" and score == pytest.approx(0.0, abs=1e-9)  # "a" + "b", not "a" + "ab"


def test_no_pair_fits_gives_empty():
    logp = np.log(np.full((2, 4), 0.25))
    assert WordPairs(("abc",), CHARSET, (6, 6)).decode(logp) == ("", -np.inf)


@pytest.fixture(scope="module")
def word_checkpoint(tmp_path_factory):
    from synthgap.models.training import train

    out = tmp_path_factory.mktemp("ce") / "ck"
    return train(out, style="wikipedia_confirmedit", model="crnn_ctc", steps=2, batch_size=8, workers=0,
                 val_n=8, progress=False)  # fmt: skip


def test_checkpoint_of_a_word_style_decodes_two_words_by_default(word_checkpoint):
    from synthgap.generators import create_generator
    from synthgap.models.checkpoint import load_checkpoint

    model = load_checkpoint(word_checkpoint)
    gen = create_generator("wikipedia_confirmedit")
    assert model.meta["prior"] == gen.text_prior() and model.prior is not None
    words = set(gen.words)
    for text in model.predict(gen.generate(3, seed=5)[0]):
        assert any(text[:i] in words and text[i:] in words for i in (4, 5)), text


def test_eval_prior_switches(word_checkpoint, tmp_path):
    import json

    from clitools import synthgap

    args = (
        "eval",
        word_checkpoint,
        "--style",
        "wikipedia_confirmedit",
        "-n",
        "2",
        "--no-timing",
        "--out",
        tmp_path,
    )
    r = synthgap(*args, "--prior", "none")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "wikipedia_confirmedit-plain-n2-seed0-prior=none.json").read_text())
    assert report["decoder"] == "greedy"
    r = synthgap(*args, "--prior", "wikipedia")
    assert r.returncode == 2 and "draws independent letters" in r.stderr
