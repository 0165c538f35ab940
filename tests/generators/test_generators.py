from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthgap.errors import UsageError
from synthgap.generators import HEIGHT, WIDTH, Latent, create_generator, list_generators

STYLES = list_generators()
CASES = [(s, e) for s in STYLES for e in (False, True)]


@pytest.fixture(scope="module", params=CASES, ids=[f"{s}-{'elastic' if e else 'plain'}" for s, e in CASES])
def gen(request):
    style, elastic = request.param
    return create_generator(style, elastic=elastic)


def test_same_seed_same_bytes(gen):
    a, la = gen.generate(6, seed=11)
    b, lb = gen.generate(6, seed=11)
    assert a.dtype == np.uint8 and a.shape == (6, HEIGHT, WIDTH)
    assert a.tobytes() == b.tobytes() and la == lb
    c, _ = gen.generate(6, seed=12)
    assert a.tobytes() != c.tobytes()


def test_render_reproduces_sample(gen):
    images, latents = gen.generate(5, seed=3)
    for img, lat in zip(images, latents, strict=True):
        assert np.array_equal(gen.render(lat), img)
        assert np.array_equal(gen.render(Latent.from_json(lat.to_json())), img)


def test_labels_within_prior(gen):
    _, latents = gen.generate(40, seed=5)
    c = gen.config
    support = gen.discrete_latents()
    for lat in latents:
        assert set(lat.text) <= set(c.charset)
        assert c.lengths[0] <= lat.L <= c.lengths[1]
        for name, values in support.items():
            assert lat.value(name) in values, name


def test_images_have_ink_and_background(gen):
    images, _ = gen.generate(8, seed=2)
    for img in images:
        dark = (img < 128).mean()
        assert 0.02 < dark < 0.6


@pytest.mark.parametrize("style", STYLES)
def test_elastic_differs_from_plain_for_same_latent(style):
    gen = create_generator(style, elastic=True)
    _, (lat,) = gen.generate(1, seed=0)
    plain = dataclasses.replace(lat, elastic=False)
    elastic_img, plain_img = gen.render(lat), gen.render(plain)
    assert np.abs(elastic_img.astype(int) - plain_img.astype(int)).mean() > 1.0


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("shift", [1, 2, -1])
def test_kerning_shift_moves_glyphs_by_the_pixels_asked(style, shift):
    base = create_generator(style)
    shifted = create_generator(style, kerning_shift=shift)
    _, (lat,) = base.generate(1, seed=7)
    _, (lat2,) = shifted.generate(1, seed=7)
    assert lat2.kerning == lat.kerning + shift and lat2.text == lat.text
    g1, g2 = base.glyphs(lat), shifted.glyphs(lat2)
    x1, _ = base.layout(lat, g1)
    x2, _ = shifted.layout(lat2, g2)
    gaps1 = [x1[i + 1] - x1[i] - g1[i].width for i in range(len(g1) - 1)]
    gaps2 = [x2[i + 1] - x2[i] - g2[i].width for i in range(len(g2) - 1)]
    assert [b - a for a, b in zip(gaps1, gaps2, strict=True)] == [shift] * (len(g1) - 1)


def _blank_runs(cov: np.ndarray) -> list[int]:
    """Lengths of inkless column runs strictly between inked columns."""
    inked = cov.max(axis=0) > 0.5
    cols = np.flatnonzero(inked)
    runs, run = [], 0
    for x in range(cols[0], cols[-1] + 1):
        if inked[x]:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    return runs


def test_kerning_shift_widens_pixel_gaps_on_wikipedia():
    """Rendered pixels, before distortion: every blank gap between glyphs grows by one column."""
    base, wider = create_generator("wikipedia"), create_generator("wikipedia", kerning_shift=1)
    _, (lat,) = base.generate(1, seed=4)
    _, (lat2,) = wider.generate(1, seed=4)
    runs1, runs2 = _blank_runs(base.place_text(lat)), _blank_runs(wider.place_text(lat2))
    assert len(runs1) == len(runs2) >= lat.L - 1
    assert sum(runs2) - sum(runs1) == len(runs1)


def test_parallel_workers_give_identical_bytes():
    gen = create_generator("wikipedia", elastic=True)
    a, la = gen.generate(64, seed=9)
    b, lb = gen.generate(64, seed=9, workers=2)
    assert a.tobytes() == b.tobytes() and la == lb


def test_sample_stream_is_indexed():
    gen = create_generator("wikipedia")
    whole, _ = gen.generate(6, seed=1)
    tail, _ = gen.generate(3, seed=1, start=3)
    assert whole[3:].tobytes() == tail.tobytes()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lengths": (5, 3)}, "lengths"),
        ({"charset": ""}, "charset"),
        ({"sizes": (30, 20)}, "sizes"),
        ({"fonts": []}, "fonts"),
        ({"fonts": ["no-such-font"]}, "fonts"),
        ({"noise_sigma": -1}, "noise_sigma"),
        ({"colour": 3}, "colour"),
    ],
)
def test_bad_overrides_name_the_field(overrides, field):
    with pytest.raises(UsageError) as err:
        create_generator("wikipedia", **overrides)
    assert err.value.field == field
    assert field in str(err.value)


def test_unknown_style():
    with pytest.raises(UsageError, match="unknown style 'nope'"):
        create_generator("nope")


def test_manifest_records_fonts_and_hashes():
    m = create_generator("wikipedia").manifest()
    assert {f["key"] for f in m["fonts"]} == {"texgyre-cursor-bold", "nimbus-mono-bold"}
    assert all(len(f["sha256"]) == 64 for f in m["fonts"])
    assert m["versions"]["numpy"] == np.__version__
