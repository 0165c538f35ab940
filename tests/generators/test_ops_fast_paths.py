"""The fast paths of ``ops`` against plain reference versions of the same operations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthgap.generators import ops
from synthgap.generators.glyphs import Glyph, paste


def _ink(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Blobby random coverage in [0, 1]."""
    rng = np.random.default_rng(seed)
    cov = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), 2.0)
    return np.clip((cov - 0.5) * 8.0, 0.0, 1.0)


def _wave_per_pixel(cov, xph, xper, xamp, yph, yper, yamp):
    """OxCaptcha's two passes, composed, pixel by pixel: out(x, y) = p1(x - row[y + 1], y + 1) with
    p1(x, y) = in(x + 1, y - col[x + 1]) (the last row reuses its own shift, columns clamp)."""
    h, w = cov.shape
    col = np.trunc(np.sin((xph + np.arange(w)) / xper) * xamp).astype(int)
    row = np.trunc(np.sin((yph + np.arange(h)) / yper) * yamp).astype(int)
    out = np.zeros_like(cov)
    for y in range(h):
        for x in range(w):
            sx = x + 1 - row[min(y + 1, h - 1)]
            sy = y + 1 - col[min(max(sx, 0), w - 1)]
            if 0 <= sx < w and 0 <= sy < h:
                out[y, x] = cov[sy, sx]
    return out


@pytest.mark.parametrize("params", [(10, 20, 5, 3, 12, -4), (199, 10, -7, 49, 5, 6), (0, 39, 0, 0, 19, 0)])
def test_wave_matches_the_per_pixel_definition(params):
    cov = _ink((50, 200), sum(params))
    assert np.array_equal(ops.wave(cov, *params), _wave_per_pixel(cov, *params))


@pytest.mark.parametrize("seed", range(6))
def test_elastic_ox_with_wave_folded_in_equals_the_two_steps(seed):
    shape = (57, 300) if seed % 2 else (50, 200)
    cov = _ink(shape, seed)
    params = (seed * 37 % 200, 10 + seed, 5 - seed, seed * 7 % 50, 5 + seed, seed - 3)
    two_steps = ops.wave(ops.elastic_ox(cov, 15.0, 11, 6.0, np.random.default_rng(seed)), *params)
    one_pass = ops.elastic_ox(
        cov, 15.0, 11, 6.0, np.random.default_rng(seed), then=ops.wave_map(shape, *params)
    )
    assert np.array_equal(two_steps, one_pass)


def test_elastic_ox_to_without_displacement_is_a_bilinear_resize():
    cov = _ink((57, 300), 3)
    still = ops.elastic_ox_to(cov, 0.0, 11, 6.0, np.random.default_rng(0), (50, 200))
    resized = cv2.resize(cov, (200, 50), interpolation=cv2.INTER_LINEAR)
    assert still.shape == (50, 200) and np.abs(still - resized).max() < 0.04  # remap's 1/32 px weights


def test_elastic_ox_to_moves_ink_as_far_as_elastic_ox_then_a_resize():
    """Same field statistics as the full-size field: the displaced images differ from the
    undisplaced one by about as much (mean absolute change within 15 %), and keep the ink on
    average (one field squeezes or spreads it by a few per cent)."""
    cov = _ink((57, 300), 4)
    base = cv2.resize(cov, (200, 50), interpolation=cv2.INTER_AREA)
    ours, theirs, ink = [], [], []
    for seed in range(40):
        a = ops.elastic_ox_to(cov, 25.0, 11, 6.0, np.random.default_rng(seed), (50, 200))
        b = cv2.resize(ops.elastic_ox(cov, 25.0, 11, 6.0, np.random.default_rng(seed)), (200, 50),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
        ours.append(np.abs(a - base).mean())
        theirs.append(np.abs(b - base).mean())
        ink.append(a.sum() / base.sum())
    assert np.mean(theirs) > 0.02 and abs(np.mean(ours) / np.mean(theirs) - 1) < 0.15
    assert abs(np.mean(ink) - 1) < 0.02


def test_two_pixel_lines_carry_as_much_ink_as_opencvs():
    """``line_layer``'s three offset 1 px lines stand in for OpenCV's 2 px LINE_AA line."""
    rng = np.random.default_rng(0)
    controls = rng.random((200, 4, 2)) * (200, 50)
    ours = theirs = 0.0
    for c in controls.reshape(25, 8, 4, 2):
        points, tangents = ops._bezier(c)
        ours += ops.line_layer((50, 200), points, tangents, 2.0).sum()
        ref = np.zeros((50, 200), np.uint8)
        cv2.polylines(ref, list(np.round(points * 16).astype(np.int32)), False, 255, 2, cv2.LINE_AA, shift=4)
        theirs += ref.sum()
    assert ours == pytest.approx(theirs, rel=0.03)


def test_one_pixel_lines_are_opencvs():
    controls = np.random.default_rng(1).random((8, 4, 2)) * (200, 50)
    points, tangents = ops._bezier(controls)
    ref = np.zeros((50, 200), np.uint8)
    cv2.polylines(ref, list(np.round(points * 16).astype(np.int32)), False, 255, 1, cv2.LINE_AA, shift=4)
    assert np.array_equal(ops.line_layer((50, 200), points, tangents, 1.2), ref)


@pytest.mark.parametrize("background", [255.0, 200.0])
def test_gray_without_noise_matches_compose_then_round(background):
    cov = _ink((50, 200), 3)
    slow = ops.to_uint8(ops.compose(cov, background))
    fast = ops.gray(cov, background, 0.0, np.random.default_rng(0))
    assert fast.dtype == np.uint8
    assert np.abs(fast.astype(int) - slow).max() <= 1 and (fast != slow).mean() < 0.001


@pytest.mark.parametrize("ss", [2, 4, 8])
def test_polylines_halving_equals_area_averaging(ss):
    """``polylines`` averages the fine layer by repeated bilinear halving: that is INTER_AREA."""
    rng = np.random.default_rng(ss)
    lines = [rng.random((int(rng.integers(2, 6)), 2)) * (200, 50) for _ in range(6)]
    cov = np.zeros((50, 200), np.float32)
    fine = np.zeros((50 * ss, 200 * ss), np.uint8)
    pts = [np.round((p * ss + (ss - 1) / 2) * 16).astype(np.int32) for p in lines]
    cv2.polylines(fine, pts, False, 255, round(2.3 * ss), cv2.LINE_8, shift=4)
    ref = cv2.resize(fine, (200, 50), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    ours = ops.polylines(cov, lines, 2.3, ss)
    assert ref.max() == 1.0 and np.abs(ours - ref).max() <= 1.5 / 255.0


def test_polylines_refuses_other_supersampling():
    with pytest.raises(ValueError, match="power of two"):
        ops.polylines(np.zeros((50, 200), np.float32), [np.array([[0.0, 0.0], [9.0, 9.0]])], 2.0, 3)


@pytest.mark.parametrize(
    "x, baseline", [(20, 30), (0, 40), (-7, 30), (190, 30), (50, 8), (50, 60), (-40, 30), (250, 30)]
)
def test_paste_is_a_max_blend_clipped_to_the_canvas(x, baseline):
    """Inside the canvas (the fast path), across each edge, and wholly outside."""
    g = Glyph("M", _ink((30, 25), 3), -28)
    cov = _ink((50, 200), 4) * 0.5
    big = np.zeros((50 + 200, 200 + 200), np.float32)  # 100 px of margin all round: nothing clips
    big[100:150, 100:300] = cov
    region = big[100 + baseline + g.top :, 100 + x :][:30, :25]
    np.maximum(region, g.cov, out=region)
    paste(cov, g, x, baseline)
    assert np.array_equal(cov, big[100:150, 100:300])


@pytest.mark.parametrize("seed", range(3))
def test_displace_waved_without_a_field_is_the_wave(seed):
    """The wave's source positions are whole pixels, so a zero field's bilinear lookup is the shear."""
    cov = _ink((50, 200), seed)
    params = (seed * 41 % 200, 12 + seed, 4 - seed, seed * 9 % 50, 7 + seed, seed - 2)
    still = ops.displace_waved(cov, np.zeros((50, 200, 2), np.float32), ops.wave_map((50, 200), *params))
    assert np.array_equal(still, ops.wave(cov, *params))


def test_displace_waved_adds_the_field_to_the_waves_source():
    """A uniform field of (+3, -2) px reads every pixel 3 px right and 2 px up of where the wave would."""
    cov = _ink((50, 200), 5)
    params = (17, 25, 3, 11, 9, -3)
    field = np.broadcast_to(np.float32([3.0, -2.0]), (50, 200, 2)).copy()
    moved = ops.displace_waved(cov, field, ops.wave_map((50, 200), *params))
    shifted = np.zeros_like(cov)
    shifted[2:, :-3] = cov[:-2, 3:]
    assert np.array_equal(moved[5:-5, 5:-5], ops.wave(shifted, *params)[5:-5, 5:-5])


def test_ox_field_drawn_at_half_resolution_moves_as_far_as_the_full_one():
    """Same per-axis RMS displacement (within 15 %) over 40 fields, and the k//2 border stays still."""
    full = [ops._ox_field(np.random.default_rng(s), (50, 200), 15.0, 11, 6.0, tails=True) for s in range(40)]
    half = [ops.ox_field(np.random.default_rng(s), (50, 200), 15.0, 11, 6.0) for s in range(40)]
    rms_full, rms_half = (np.sqrt(np.mean(np.square(f)[:, 5:-5, 5:-5])) for f in (full, half))
    assert rms_half == pytest.approx(rms_full, rel=0.15)
    assert half[0].shape == (50, 200, 2) and not half[0][:5].any() and not half[0][:, -5:].any()


def test_normal_levels_are_whole_gray_levels_of_a_sigma_normal():
    levels = ops._normal_levels(10.0)
    assert levels.dtype == np.int16 and levels.shape == (65536,)
    assert np.array_equal(levels, -levels[::-1])  # symmetric quantiles
    assert levels.std() == pytest.approx(10.0, rel=0.01) and levels.max() == 43


def test_gray_quantized_noise_is_sigma_noise_around_the_rounded_gray_and_saturates():
    cov = np.full((100, 200), 0.5, np.float32)  # 127.5 -> 128 before the noise
    img = ops.gray_quantized_noise(cov, 255.0, 10.0, np.random.default_rng(0))
    assert img.dtype == np.uint8 and img.shape == (100, 200)
    assert img.mean() == pytest.approx(128.0, abs=0.3) and img.std() == pytest.approx(10.0, rel=0.03)
    white = ops.gray_quantized_noise(np.zeros((100, 200), np.float32), 255.0, 10.0, np.random.default_rng(1))
    assert (white == 255).mean() == pytest.approx(0.5 + 0.5 * 0.0399, abs=0.01)  # z >= -0.05 saturates
    again = ops.gray_quantized_noise(cov, 255.0, 10.0, np.random.default_rng(0))
    assert np.array_equal(img, again)


def test_gray_quantized_noise_without_noise_is_gray():
    cov = _ink((50, 200), 6)
    assert np.array_equal(
        ops.gray_quantized_noise(cov, 255.0, 0.0, np.random.default_rng(0)),
        ops.gray(cov, 255.0, 0.0, np.random.default_rng(0)),
    )


def test_a_36_gon_ellipse_is_within_half_a_pixel_of_the_72_gon():
    """Outlines of 40 random ellipses: the same ink (within 5 % each, 2.5 % in all), and the coarser
    outline's ink lies within a pixel of the finer one's (a 36-gon is within 0.4 px of a 100 px
    semi-axis)."""
    boxes = np.random.default_rng(2).random((40, 4)) * (200, 50, 200, 50)
    blank = np.ones((50, 200), np.float32)
    ratios = []
    for box in boxes:
        fine, coarse = (1.0 - ops.ellipses(blank, box[None], 1.2, sides) for sides in (72, 36))
        ratios.append(coarse.sum() / fine.sum())
        near = cv2.dilate((fine > 0.2).astype(np.uint8), np.ones((3, 3), np.uint8))
        assert not ((coarse > 0.5) & (near == 0)).any()
    assert np.abs(np.subtract(ratios, 1.0)).max() < 0.05 and np.mean(ratios) == pytest.approx(1.0, abs=0.025)


def test_normal_levels_of_a_huge_sigma_saturate_instead_of_wrapping():
    """sigma 10,000 (an override) would overflow int16 past 3.3 sigma: the table stays ordered, within
    the +-255 that saturates a gray level either way."""
    levels = ops._normal_levels(10_000.0)
    assert (np.diff(levels.astype(np.int64)) >= 0).all() and levels.min() == -255 and levels.max() == 255
