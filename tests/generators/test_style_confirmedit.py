"""The ConfirmEdit Wikipedia styles: two dictionary words, the real pipeline, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from synthgap.errors import UsageError
from synthgap.generators import create_generator
from synthgap.generators import wikipedia_confirmedit as ce


@pytest.fixture(scope="module")
def sample():
    gen = create_generator("wikipedia_confirmedit")
    return gen, *gen.generate(40, seed=3)


def test_text_is_two_words_of_the_list(sample):
    gen, _, latents = sample
    words = set(gen.words)
    assert len(words) > 5000 and all(4 <= len(w) <= 5 and w.isalpha() and w.islower() for w in words)
    for lat in latents:
        t = lat.text
        assert 8 <= len(t) <= 10
        assert any(t[:i] in words and t[i:] in words for i in (4, 5)), t
    assert len({lat.text for lat in latents}) == len(latents)  # ~84 M pairs: no repeats in 40


def test_dark_ink_on_white_like_the_samples_and_grey_with_the_noise_stage(sample):
    _, images, latents = sample
    assert (images.reshape(len(images), -1).min(axis=1) < 30).all()
    assert 0.6 < (images >= 250).mean() < 0.9
    noisy = create_generator("wikipedia_confirmedit_noise")
    grey = np.stack(
        [noisy.render(lat.__class__(**{**lat.__dict__, "style": noisy.name})) for lat in latents[:5]]
    )
    assert grey.min() >= 30 and (grey >= 250).mean() < 0.01


def test_every_wobble_draw_is_a_recorded_latent(sample):
    gen, images, latents = sample
    lat = latents[0]
    assert len(lat.params["wobble"]) == 6
    f, p, angle = lat.params["wobble"][0]
    assert 12 <= f <= 15 and 0 <= p <= 2 * np.pi and 35 <= angle <= 55  # round 0, first copy: s = 3
    changed = lat.__class__(
        **{
            **lat.__dict__,
            "params": {**lat.params, "wobble": [[f, p, angle + 20]] + lat.params["wobble"][1:]},
        }
    )
    assert np.abs(gen.render(changed).astype(int) - images[0]).mean() > 1


@pytest.mark.parametrize(("angle", "moved"), [(0.0, (0, 3)), (90.0, (3, 0)), (180.0, (0, -3))])
def test_a_wobbly_copy_moves_each_scan_line_of_the_rotated_ink_by_its_shift(angle, moved):
    """Shifting every row of the frame rotated by ``angle`` by 3 px moves the ink 3 px along the
    rotated rows, (cos, sin) x 3 in (x, y); a flat square stays flat (the sharpen clips at 1)."""
    ink = np.ones((5, 7), np.float32)
    side = 120
    still, origin = ce.wobbly_copy(ink, (50, 40), side, angle, np.zeros(side + 1, np.float32))
    assert origin == (50, 40) and still.shape == ink.shape and np.allclose(still, 1.0, atol=1e-5)
    shift = np.full(side + 1, 3.0, np.float32)
    out, origin = ce.wobbly_copy(ink, (50, 40), side, angle, shift)
    assert origin == (50 + moved[0], 40 + moved[1])
    assert out.shape == ink.shape and np.allclose(out, 1.0, atol=1e-5)


def test_scan_line_shifts_are_the_sine_plus_a_whole_pixel_jitter():
    tables = ce.shift_tables([[13.0, 1.0, 45.0], [4.0, 2.0, 90.0]], 200, 4.0, np.random.default_rng(0))
    assert tables.shape == (2, 201) and (tables[:, -1] == 0).all()
    wave = np.trunc(np.sin(1.0 + np.arange(200) * 13.0 / 200) * 4.0)
    jitter = tables[0, :200] - wave
    assert set(np.unique(jitter)) <= {-1.0, 0.0, 1.0}  # trunc(U(-2, 2)): whole pixels, |j| < 2
    assert 0.3 < (jitter == 0).mean() < 0.7


@pytest.mark.parametrize("overrides", [{"lengths": (3, 7)}, {"charset": "xyz"}])
def test_a_prior_with_no_word_pair_is_an_error_naming_the_word_list(overrides):
    with pytest.raises(UsageError) as e:
        create_generator("wikipedia_confirmedit", **overrides)
    assert str(ce.WORDLIST) in str(e.value) and e.value.field == "words"


def test_missing_word_list_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(ce, "WORDLIST", tmp_path / "none")
    with pytest.raises(UsageError, match="apt-get install wamerican") as e:
        create_generator("wikipedia_confirmedit")
    assert str(tmp_path / "none") in str(e.value)


def test_missing_font_file_is_an_error_at_creation_naming_the_file(tmp_path, monkeypatch):
    from synthgap import fonts

    install, _ = fonts.FONTS["free-mono-bold-oblique"]
    monkeypatch.setitem(fonts.FONTS, "free-mono-bold-oblique", (install, tmp_path / "gone.otf"))
    fonts.resolve_font.cache_clear()
    try:
        with pytest.raises(UsageError) as e:
            create_generator("wikipedia_confirmedit")
    finally:
        fonts.resolve_font.cache_clear()  # the real file again for the tests after this one
    assert str(tmp_path / "gone.otf") in str(e.value) and install in str(e.value) and e.value.field == "fonts"
