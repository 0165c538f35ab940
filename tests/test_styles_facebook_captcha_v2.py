"""Style-specific behaviour of facebook and captcha_v2 (the generic contract is in test_generators)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from synthgap.generators import create_generator


@pytest.mark.parametrize("elastic", [False, True])
def test_captcha_v2_background_ramp_at_the_edges(elastic):
    """Column 0 never gets ink (text starts at x >= 29, the strike at x >= 17): pure ramp start."""
    gen = create_generator("captcha_v2", elastic=elastic)
    images, _ = gen.generate(6, seed=3)
    assert (images[:, :, 0] == 193).all()
    # the right edge is ink-free except for rare long texts: its rows sit on the ramp's end
    assert np.median(images[:, :, -1]) == 252


def test_captcha_v2_draws_n_twice_as_often():
    gen = create_generator("captcha_v2")
    text = "".join(gen.sample_latent(np.random.default_rng([0, i])).text for i in range(400))
    counts = Counter(text)
    assert set(counts) == set(gen.config.charset)
    others = np.mean([c for ch, c in counts.items() if ch != "n"])
    assert 1.7 < counts["n"] / others < 2.3


def test_captcha_v2_strike_ends_at_x180():
    """Ink of the strike stops at x = 180: right of it only the (short) text can be dark."""
    gen = create_generator("captcha_v2")
    images, latents = gen.generate(20, seed=8)
    checked = 0
    for img, lat in zip(images, latents, strict=True):
        glyphs = gen.glyphs(lat)
        lefts, _ = gen.layout(lat, glyphs)
        if max(x + g.width for x, g in zip(lefts, glyphs, strict=True)) < 170:
            assert (img[:, 183:] > 190).all()
            assert (img[:, 176:180] < 128).any()
            checked += 1
    assert checked >= 15


def test_facebook_labels_keep_case():
    gen = create_generator("facebook")
    assert gen.case_sensitive
    _, latents = gen.generate(30, seed=1)
    text = "".join(lat.text for lat in latents)
    assert any(c.isupper() for c in text) and any(c.islower() for c in text)
    assert "0" not in text


def test_facebook_upper_and_lower_case_render_differently():
    """Same latent but one letter's case flipped: the pixels must change (labels are exact)."""
    gen = create_generator("facebook")
    _, (lat,) = gen.generate(1, seed=2)
    i = next(i for i, c in enumerate(lat.text) if c.isalpha())
    flipped = lat.text[:i] + lat.text[i].swapcase() + lat.text[i + 1 :]
    other = dataclasses.replace(lat, text=flipped)
    assert not np.array_equal(gen.render(lat), gen.render(other))
