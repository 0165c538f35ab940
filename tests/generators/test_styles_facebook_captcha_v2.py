"""Style-specific behaviour of facebook and captcha_v2 (the generic contract is in test_generators)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from synthgap.fonts import resolve_font
from synthgap.generators import create_generator
from synthgap.generators.captcha_v2 import CHARSET, FACES
from synthgap.generators.glyphs import glyph, transform, turned


@pytest.mark.parametrize("elastic", [False, True])
def test_captcha_v2_background_ramp_at_the_edges(elastic):
    """Column 0 never gets ink (text starts at x >= 24, the strike at x >= 15): the ramp's drawn
    left end; the right edge is ink-free except for rare long texts: the ramp's right end."""
    gen = create_generator("captcha_v2", elastic=elastic)
    images, latents = gen.generate(8, seed=3)
    for img, lat in zip(images, latents, strict=True):
        left, right = lat.params["bg"]
        assert 186 <= left <= 200 and 246 <= right <= 255
        assert (img[:, 0] == round(left)).all()
        assert np.median(img[:, -1]) == round(right)
    assert len({round(lat.params["bg"][0]) for lat in latents}) > 3  # the ramp varies


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
    images, latents = gen.generate(40, seed=8)
    checked = 0
    for img, lat in zip(images, latents, strict=True):
        glyphs = gen.glyphs(lat)
        lefts, _ = gen.layout(lat, glyphs)
        if max(x + g.width for x, g in zip(lefts, glyphs, strict=True)) < 170:
            assert (img[:, 183:] > 190).all()
            assert (img[:, 176:180] < 128).any()
            checked += 1
    assert checked >= 25


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = np.clip(((points - a) @ (b - a)) / max(float((b - a) @ (b - a)), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1)


def test_captcha_v2_strike_is_straight_between_its_vertices():
    """All strike ink lies on the straight segments between the latent's vertices, and ink
    covers every segment: a polyline with sharp bends, not a curve."""
    gen = create_generator("captcha_v2")
    _, latents = gen.generate(12, seed=2)
    for lat in latents:
        off = dataclasses.replace(lat, params={**lat.params, "strike": [[[-60.0, -60.0], [-50.0, -60.0]]]})
        strike = gen.render(off).astype(int) - gen.render(lat).astype(int) > 40
        ys, xs = np.nonzero(strike)
        pts = np.column_stack([xs, ys]).astype(float)
        segs = [
            (np.array(a), np.array(b))
            for line in lat.params["strike"]
            for a, b in zip(line[:-1], line[1:], strict=True)
        ]
        dist = np.min([_segment_distance(pts, a, b) for a, b in segs], axis=0)
        assert dist.max() <= lat.params["strike_width"] / 2 + 1.0
        for a, b in segs:  # each segment's middle is drawn (unless text already darkens it)
            mx, my = np.round((a + b) / 2).astype(int)
            if 0 <= my < 50 and not gen.place_text(lat)[max(my - 2, 0) : my + 3, mx - 2 : mx + 3].any():
                assert strike[max(my - 1, 0) : my + 2, mx - 1 : mx + 2].any()


def test_captcha_v2_strike_prior_bends_sharply_at_the_left():
    """Main line from x 15-22 to x = 180 (height 4-46), 2-5 segments; nearly every image has a
    sharp (> 30 degree) bend at x < 55 or a separate tick there."""
    gen = create_generator("captcha_v2")
    bent = 0
    for i in range(300):
        main, *ticks = (
            np.asarray(line) for line in gen.sample_latent(np.random.default_rng([4, i])).params["strike"]
        )
        assert 15 <= main[0, 0] <= 22 and main[-1, 0] == 180 and 4 <= main[-1, 1] <= 46
        assert 3 <= len(main) <= 6 and len(ticks) <= 1
        d = np.diff(main, axis=0)
        turn = np.degrees(np.abs(np.angle((d[1:, 0] + 1j * d[1:, 1]) / (d[:-1, 0] + 1j * d[:-1, 1]))))
        bent += bool(ticks) or bool(((turn > 30) & (main[1:-1, 0] < 55)).any())
    assert bent >= 0.85 * 300


def test_captcha_v2_draws_the_font_per_image_from_its_faces():
    gen = create_generator("captcha_v2")
    assert gen.discrete_latents()["font"] == FACES and len(FACES) >= 5
    fonts = Counter(gen.sample_latent(np.random.default_rng([6, i])).font for i in range(200))
    assert set(fonts) == set(FACES) and min(fonts.values()) > 20
    assert {f["key"] for f in gen.manifest()["fonts"]} == set(FACES)


@pytest.mark.parametrize("face", FACES)
def test_captcha_v2_faces_render_every_character(face):
    """Each face maps every character to a glyph of its own (no .notdef box, no blank)."""
    from fontTools.ttLib import TTFont  # installed with matplotlib

    path = resolve_font(face).path
    with TTFont(path, lazy=True) as font:  # closes the file it opened
        cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in CHARSET)
    shapes = [glyph(path, 44, c).cov for c in CHARSET]  # glyph() raises on a blank glyph
    assert len({c.tobytes() for c in shapes}) == len(CHARSET)


@pytest.mark.parametrize("face", FACES)
def test_captcha_v2_faces_share_digit_height_and_width(face):
    """Size and stretch mean the same for every face: Comic Neue's '8' height and mean width."""
    gen = create_generator("captcha_v2")
    lat = gen.sample_latent(np.random.default_rng(0), text="88888", font="comic-neue-bold", size=46)
    upright = {**lat.params, "rot": [0.0] * 5, "stretch": 1.0, "squeeze": 0.0}
    ref = dataclasses.replace(lat, params=upright)
    other = dataclasses.replace(ref, font=face)
    # within 2 px: the size is rounded to whole pixels and ink boxes count faint antialiased rows
    assert abs(gen.glyphs(other)[0].height - gen.glyphs(ref)[0].height) <= 2
    widths = {}
    for f in ("comic-neue-bold", face):
        glyphs = gen.glyphs(dataclasses.replace(ref, font=f, text=CHARSET[:5]))
        glyphs += gen.glyphs(dataclasses.replace(ref, font=f, text=CHARSET[5:10]))
        glyphs += gen.glyphs(dataclasses.replace(ref, font=f, text=CHARSET[10:15]))
        widths[f] = np.mean([g.width for g in glyphs])
    assert widths[face] == pytest.approx(widths["comic-neue-bold"], rel=0.12)


def test_captcha_v2_glyph_shape_comes_from_the_latent():
    """Stretch widens the text in proportion, rotation moves pixels, weight changes the ink."""
    gen = create_generator("captcha_v2")
    _, (lat,) = gen.generate(1, seed=11)
    upright = {**lat.params, "rot": [0.0] * 5}

    def width(stretch):
        return sum(
            g.width for g in gen.glyphs(dataclasses.replace(lat, params={**upright, "stretch": stretch}))
        )

    assert width(1.25) / width(1.0) == pytest.approx(1.25, rel=0.04)
    assert not np.array_equal(gen.render(dataclasses.replace(lat, params=upright)), gen.render(lat))
    ink = [
        (gen.render(dataclasses.replace(lat, params={**lat.params, "weight": w})) < 128).sum()
        for w in (-1, 0, 1)
    ]
    assert ink[0] < ink[1] < ink[2]


@pytest.mark.parametrize("face", FACES)
def test_captcha_v2_squeeze_brings_wide_glyphs_to_the_mean_width(face):
    """Squeeze 1 draws m and w at the face's mean glyph width; narrow glyphs never change."""
    gen = create_generator("captcha_v2")
    lat = gen.sample_latent(np.random.default_rng(0), text="mw2f7", font=face, size=46)

    def widths(squeeze, text="mw2f7"):
        params = {**lat.params, "rot": [0.0] * 5, "stretch": 1.0, "squeeze": squeeze}
        return [g.width for g in gen.glyphs(dataclasses.replace(lat, params=params, text=text))]

    mean = np.mean([w for t in ("23456", "78bcd", "efgmn", "pwxy2") for w in widths(0.0, t)])
    loose, squeezed = widths(0.0), widths(1.0)
    assert loose[0] > 1.2 * mean and squeezed[0] == pytest.approx(mean, abs=4)
    assert squeezed[0] < loose[0] and squeezed[1] < loose[1] and squeezed[2:] == loose[2:]


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


def test_facebook_elastic_field_moves_the_text_but_not_the_clutter_drawn_after_it():
    """The Simard field joins the text's one resampling; strokes and ellipses are drawn after it. So
    a latent rendered with the field at alpha 30 and at 0 (the same draws) differs only near the
    text: right of its last glyph (plus the field's reach) the pixels, strokes and noise, agree."""
    gen = create_generator("facebook", elastic=True)
    _, latents = gen.generate(12, seed=4)
    clutter_checked = 0
    for lat in latents:
        still = dataclasses.replace(lat, params={**lat.params, "elastic_alpha": 0.0})
        moved = dataclasses.replace(lat, params={**lat.params, "elastic_alpha": 30.0})
        a, b = gen.render(still), gen.render(moved)
        glyphs = gen.glyphs(lat)
        lefts, _ = gen.layout(lat, glyphs)
        right = max(x + g.width for x, g in zip(lefts, glyphs, strict=True)) + 8  # ox field and waves
        assert not np.array_equal(a, b)
        assert np.array_equal(a[:, right:], b[:, right:])
        clutter_checked += int((a[:, right:] < 100).sum() > 20)
    assert clutter_checked >= 3  # strokes or ellipses do cross the compared part


def test_facebook_look_turns_glyphs_by_whole_degrees_from_a_cache():
    gen = create_generator("facebook_look")
    _, (lat,) = gen.generate(1, seed=5)
    path = gen.font_files[lat.font].path
    expected = [
        transform(glyph(path, lat.size, ch), rot_deg=round(r))
        for ch, r in zip(lat.text, lat.params["rot"], strict=True)
    ]
    got = gen.glyphs(lat)
    assert [g.top for g in got] == [g.top for g in expected]
    assert all(np.array_equal(g.cov, e.cov) for g, e in zip(got, expected, strict=True))
    assert any(abs(r - round(r)) > 0.1 for r in lat.params["rot"])  # the latent keeps the exact angle
    assert turned(path, lat.size, lat.text[0], 3) is turned(path, lat.size, lat.text[0], 3)
