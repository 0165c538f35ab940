"""Style-specific behaviour of the assumed styles (Baidu 2011/2013, eBay, Yahoo, reCaptcha)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthgap.fonts import resolve_font
from synthgap.generators import HEIGHT, WIDTH, create_generator, ops
from synthgap.generators.glyphs import glyph, transform

ASSUMED = ["baidu2011", "baidu2013", "ebay", "yahoo", "recaptcha"]


@pytest.mark.parametrize("style", ["baidu2011", "baidu2013"])
def test_baidu_charset_is_upper_case_without_look_alikes(style):
    gen = create_generator(style)
    assert set(gen.config.charset) == set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert not gen.case_sensitive
    _, latents = gen.generate(30, seed=1)
    text = "".join(lat.text for lat in latents)
    assert all(lat.L == 4 for lat in latents)
    assert text.isupper() and not set(text) & set("IO01")


def test_yahoo_charset_is_case_sensitive_mixed_case():
    gen = create_generator("yahoo")
    assert gen.case_sensitive
    assert len(gen.config.charset) == 27
    _, latents = gen.generate(30, seed=1)
    text = "".join(lat.text for lat in latents)
    assert any(c.isupper() for c in text) and any(c.islower() for c in text)
    assert any(c.isdigit() for c in text)


def test_ebay_is_six_digits():
    _, latents = create_generator("ebay").generate(20, seed=1)
    assert all(lat.L == 6 and lat.text.isdigit() for lat in latents)


@pytest.mark.parametrize("style", ["baidu2013", "yahoo"])
def test_hollow_styles_have_less_ink_than_filled_for_the_same_latent(style):
    hollow_gen = create_generator(style)
    filled_gen = create_generator(style)
    filled_gen.hollow = False  # same latent, glyphs left solid
    _, latents = hollow_gen.generate(5, seed=3)
    for lat in latents:
        hollow_ink = hollow_gen.place_text(lat).sum()
        filled_ink = filled_gen.place_text(lat).sum()
        assert 0.2 * filled_ink < hollow_ink < 0.75 * filled_ink


def test_hollow_outline_surrounds_the_glyph_and_leaves_its_inside_blank():
    g = glyph(resolve_font("dejavu-sans-bold").path, 40, "H")
    out = ops.hollow(g.cov)
    assert out.shape == (g.height + 2, g.width + 2)
    solid = np.pad(g.cov, 1) == 1.0
    assert solid.any() and out[solid].max() == 0.0  # inside of the strokes: background
    # the outline reaches one column beyond the ink box on both sides
    assert out[:, 0].max() == g.cov[:, 0].max() > 0 and out[:, -1].max() == g.cov[:, -1].max() > 0


@pytest.mark.parametrize("rot", [-30.0, -10.0, 15.0, 30.0])
@pytest.mark.parametrize("shear", [-0.3, 0.0, 0.3])
def test_transform_keeps_all_the_ink(rot, shear):
    """Rotation and shear preserve area, so no ink may be lost to the output box."""
    g = glyph(resolve_font("dejavu-serif-bold").path, 36, "W")
    t = transform(g, rot, 1.1, shear)
    assert t.cov.sum() == pytest.approx(g.cov.sum() * 1.1**2, rel=0.03)


@pytest.mark.parametrize("stretch", [0.9, 1.25])
def test_transform_stretch_widens_only(stretch):
    g = glyph(resolve_font("liberation-sans-bold").path, 40, "8")
    t = transform(g, stretch=stretch)
    assert t.width == pytest.approx(g.width * stretch, abs=1.5) and abs(t.height - g.height) <= 1
    assert t.cov.sum() == pytest.approx(g.cov.sum() * stretch, rel=0.03)


def test_baidu2011_darkest_pixel_is_the_drawn_ink_gray():
    gen = create_generator("baidu2011")
    images, latents = gen.generate(10, seed=4)
    inks = [lat.params["ink"] for lat in latents]
    assert all(0 <= i <= 60 for i in inks) and len(set(inks)) > 3
    for img, ink in zip(images, inks, strict=True):
        assert img.min() == ink


@pytest.mark.parametrize("style", ASSUMED)
def test_glyph_jitter_comes_from_the_latent(style):
    gen = create_generator(style)
    _, (lat,) = gen.generate(1, seed=5)
    glyphs = gen.glyphs(lat)
    _, baselines = gen.layout(lat, glyphs)
    dy = lat.params["dy"]
    assert [b - baselines[0] for b in baselines] == [d - dy[0] for d in dy]
    upright = dataclasses.replace(lat, params={**lat.params, "rot": [0.0] * lat.L, "shear": [0.0] * lat.L})
    assert not np.array_equal(gen.render(upright), gen.render(lat))


def test_yahoo_draws_a_font_per_glyph():
    gen = create_generator("yahoo")
    _, latents = gen.generate(20, seed=6)
    for lat in latents:
        assert len(lat.params["fonts"]) == lat.L - 1
        assert set(lat.params["fonts"]) <= set(gen.config.fonts)
    assert any(len({lat.font, *lat.params["fonts"]}) == 3 for lat in latents)
    lat = latents[0]
    swapped = [next(f for f in gen.config.fonts if f != k) for k in lat.params["fonts"]]
    other = dataclasses.replace(lat, params={**lat.params, "fonts": swapped})
    assert not np.array_equal(gen.render(other), gen.render(lat))


def test_recaptcha_is_laid_out_on_300x57_and_resized():
    gen = create_generator("recaptcha")
    images, (lat, *_) = gen.generate(2, seed=8)
    assert gen.place_text(lat).shape == (57, 300)
    assert images.shape[1:] == (HEIGHT, WIDTH)
