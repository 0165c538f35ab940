from __future__ import annotations

import json

import numpy as np
import pytest

from synthgap.errors import UsageError
from synthgap.generators import create_generator, list_generators
from synthgap.perturbations import (
    FAMILIES,
    create_perturbation,
    list_perturbations,
    perturbation_family,
    register_perturbation,
)
from synthgap.perturbations.base import ImagePerturbation
from synthgap.perturbations.fonts import FONT_SETS
from synthgap.perturbations.transfer import charset_overlap, check_transfer

NAMES = list_perturbations()
IMAGE = list_perturbations(family="image")
GENERATIVE = list_perturbations(family="generative")
STYLE = "wikipedia"


def make(name, severity):
    extra = {"target": STYLE} if perturbation_family(name) == "transfer" else {}
    return create_perturbation(name, severity, **extra)


@pytest.fixture(scope="module")
def images():
    return create_generator(STYLE).generate(6, seed=0)[0]


def test_families_partition_the_registry():
    assert sorted(n for f in FAMILIES for n in list_perturbations(family=f)) == NAMES
    assert {"gaussian_noise", "gaussian_blur", "jpeg", "contrast", "brightness"} <= set(IMAGE)
    assert {"salt_and_pepper", "rotation", "scale"} <= set(IMAGE)
    assert set(GENERATIVE) == {"kerning", "fonts", "elastic", "lengths"}
    assert list_perturbations(family="transfer") == ["transfer"]
    with pytest.raises(ValueError):
        list_perturbations(family="noise")


def test_duplicate_name_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_perturbation("jpeg", family="image")(ImagePerturbation)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [-1, 6, 1.0, True, "1", None])
def test_bad_severity_raises(name, severity):
    with pytest.raises(ValueError):
        make(name, severity)


@pytest.mark.parametrize("name", NAMES)
def test_table_and_params(name):
    assert make(name, 0).params == {}
    top = make(name, 1).max_severity
    assert top == (1 if name == "transfer" else 5)
    with pytest.raises(ValueError):
        make(name, top + 1)
    values = [make(name, s).params for s in range(1, top + 1)]
    for params in values:
        assert len(params) == 1 and list(params.values())[0] is not None
        json.dumps(params)  # goes into the results table as is
    assert len({json.dumps(v) for v in values}) == top  # every severity is a different setting


@pytest.mark.parametrize("name", IMAGE)
def test_image_severity_zero_is_identity(name, images):
    out = make(name, 0).apply(images, np.random.default_rng(0))
    assert out is not images and np.array_equal(out, images)


@pytest.mark.parametrize("name", IMAGE)
def test_image_same_seed_same_bytes(name, images):
    p = make(name, 3)
    a = p.apply(images, np.random.default_rng(5))
    b = p.apply(images, np.random.default_rng(5))
    assert a.dtype == np.uint8 and a.shape == images.shape
    assert a.tobytes() == b.tobytes()
    assert np.array_equal(p.apply(images[0], np.random.default_rng(5)), a[0])  # single image too


@pytest.mark.parametrize("name", IMAGE)
def test_image_change_grows_with_severity(name, images):
    change = [
        np.abs(make(name, s).apply(images, np.random.default_rng(1)).astype(float) - images).mean()
        for s in range(6)
    ]
    assert change[0] == 0 and change[1] > 0
    assert all(b >= a for a, b in zip(change, change[1:], strict=False)), change


def test_noise_sigma5_has_that_std():
    p = create_perturbation("gaussian_noise", 2)
    assert p.params == {"sigma": 5.0}  # the paper's noise level
    gray = np.full((4, 50, 200), 128, np.uint8)
    diff = p.apply(gray, np.random.default_rng(0)).astype(float) - 128
    assert abs(diff.std() - 5.0) < 0.1 and abs(diff.mean()) < 0.1


def test_salt_and_pepper_replaces_that_fraction():
    gray = np.full((4, 50, 200), 128, np.uint8)
    out = create_perturbation("salt_and_pepper", 5).apply(gray, np.random.default_rng(0))
    assert abs((out == 0).mean() - 0.085) < 0.005 and abs((out == 255).mean() - 0.085) < 0.005
    assert set(np.unique(out)) == {0, 128, 255}


def test_rotation_tilts_a_horizontal_line():
    img = np.full((50, 200), 255, np.uint8)
    img[24:26] = 0
    out = create_perturbation("rotation", 5).apply(img[None], np.random.default_rng(0))[0]
    rows = [np.flatnonzero(out[:, x] < 128).mean() for x in (40, 160)]
    slope = (rows[1] - rows[0]) / 120  # image rows grow downwards
    assert abs(abs(slope) - np.tan(np.radians(12))) < 0.02


def test_scale_moves_a_vertical_line_from_the_centre():
    img = np.full((50, 200), 255, np.uint8)
    img[:, 149:151] = 0
    out = create_perturbation("scale", 5).apply(np.stack([img] * 8), np.random.default_rng(0))
    xs = {round(np.flatnonzero(o[25] < 128).mean() - 99.5, 1) for o in out}
    assert xs == {round(50 * 1.3, 1), round(50 / 1.3, 1)}  # zoom in and out both drawn


def test_contrast_and_brightness_values():
    img = np.array([[[0, 255]]], np.uint8)
    assert create_perturbation("contrast", 2).apply(img, None).tolist() == [[[64, 191]]]
    assert create_perturbation("brightness", 1).apply(img, None).tolist() == [[[0, 235]]]


@pytest.mark.parametrize("name", GENERATIVE)
def test_generative_severity_zero_is_the_style_itself(name):
    p = make(name, 0)
    assert p.overrides(create_generator(STYLE)) == {}
    a, la = p.generator(STYLE).generate(2, seed=4)
    b, lb = create_generator(STYLE).generate(2, seed=4)
    assert a.tobytes() == b.tobytes() and la == lb


@pytest.mark.parametrize("name", GENERATIVE)
def test_generative_same_seed_same_bytes_and_differs_from_clean(name):
    gen = make(name, 1).generator(STYLE)
    a, la = gen.generate(3, seed=2)
    b, lb = make(name, 1).generator(STYLE).generate(3, seed=2)
    assert a.tobytes() == b.tobytes() and la == lb
    assert a.tobytes() != create_generator(STYLE).generate(3, seed=2)[0].tobytes()


@pytest.mark.parametrize("severity", range(1, 6))
def test_kerning_shift_shows_in_latents(severity):
    p = create_perturbation("kerning", severity)
    lo, hi = create_generator(STYLE).config.kerning
    shift = p.params["kerning_shift"]
    _, latents = p.generator(STYLE).generate(20, seed=0)
    assert {lat.kerning for lat in latents} <= set(range(lo + shift, hi + shift + 1))
    if severity == 1:
        assert shift == 1  # the paper's "kerning modified by one pixel"


@pytest.mark.parametrize("severity", range(1, 6))
def test_lengths_lie_outside_the_prior(severity):
    p = create_perturbation("lengths", severity)
    lo, hi = create_generator(STYLE).config.lengths  # 8..10
    expected = {1: hi + 1, 2: lo - 1, 3: hi + 2, 4: lo - 2, 5: hi + 3}[severity]
    _, latents = p.generator(STYLE).generate(5, seed=0)
    assert {lat.L for lat in latents} == {expected}
    assert p.resolved(create_generator(STYLE))["lengths"] == [expected, expected]


def test_lengths_clip_at_one():
    gen = create_generator(STYLE, lengths=(1, 3))
    assert create_perturbation("lengths", 4).overrides(gen) == {"lengths": (1, 1)}


@pytest.mark.parametrize("severity", range(1, 6))
def test_fonts_are_unseen(severity):
    p = create_perturbation("fonts", severity)
    own = set(create_generator(STYLE).config.fonts)
    _, latents = p.generator(STYLE).generate(6, seed=0)
    fonts = {lat.font for lat in latents}
    assert fonts <= set(FONT_SETS[severity - 1]) and not fonts & own


def test_fonts_row_of_own_fonts_raises():
    gen = create_generator(STYLE, fonts=FONT_SETS[3])
    with pytest.raises(UsageError, match="fonts"):
        create_perturbation("fonts", 4).overrides(gen)


@pytest.mark.parametrize("style", list_generators())
def test_every_style_has_unseen_fonts_at_every_severity(style):
    gen = create_generator(style)
    for s in range(1, 6):
        fonts = create_perturbation("fonts", s).overrides(gen)["fonts"]
        assert fonts and not set(fonts) & set(gen.config.fonts)


@pytest.mark.parametrize("severity", range(1, 6))
def test_elastic_renders_the_elastic_variant_at_that_alpha(severity):
    p = create_perturbation("elastic", severity)
    _, latents = p.generator(STYLE).generate(3, seed=0)
    alpha = p.params["elastic_alpha"]
    assert all(lat.elastic and lat.params["elastic_alpha"] == alpha for lat in latents)


def test_transfer_overlap_and_case_rule():
    assert charset_overlap(STYLE, STYLE) == ("abcdefghijklmnopqrstuvwxyz", 1.0)
    upper = create_generator(STYLE, charset="ABC123")  # wikipedia is case-insensitive: fold
    assert charset_overlap(STYLE, upper) == ("abc", 0.5)
    digits = create_generator(STYLE, charset="0123456789")
    with pytest.raises(UsageError, match="disjoint") as e:
        check_transfer(STYLE, digits)
    assert e.value.field == "transfer"


def test_transfer_entry():
    p = create_perturbation("transfer", 1, target=STYLE)
    assert p.test_style("other") == STYLE and p.params == {"target": STYLE}
    assert p.resolved(STYLE)["charset_overlap_fraction"] == 1.0
    assert create_perturbation("transfer", 0).test_style(STYLE) == STYLE
    with pytest.raises(UsageError, match="target"):
        create_perturbation("transfer", 1)
