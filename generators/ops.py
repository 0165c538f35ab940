"""Pure image operations shared by the styles (names follow shared/spec/styles.md, section 0).

They work on an *ink coverage* layer: float32 HxW in [0, 1], 0 = background, 1 = full ink.
Geometric distortions move coverage, so pixels uncovered by a shift become background for free;
``compose`` turns coverage into the final 8-bit gray image. Every random draw comes from an
explicit ``numpy.random.Generator``; nothing here touches global state.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

# Single-threaded OpenCV: parallelism comes from worker processes, and 200x50 images are too
# small for OpenCV's own threads to pay off.
cv2.setNumThreads(1)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


_grid = functools.cache(_grid)


def remap(cov: np.ndarray, dx: np.ndarray, dy: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """Sample ``cov`` at (x + dx, y + dy); samples from outside the canvas are background."""
    xs, ys = _grid(*cov.shape)
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.remap(cov, xs + dx, ys + dy, interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def wave_map(
    shape: tuple[int, int], xph: float, xper: float, xamp: float, yph: float, yper: float, yamp: float
) -> tuple[np.ndarray, np.ndarray]:
    """Source x and y (float32 HxW maps, whole pixels) of every output pixel of ``wave``.

    Pass 1: out(x, y) = in(x + 1, y - col[x + 1]); pass 2: out(x, y) = p1(x - row[y + 1], y + 1).
    Composed: src_x = x + 1 - row[y + 1], src_y = y + 1 - col[clip(src_x)].
    """
    h, w = shape
    col = np.trunc(np.sin((xph + _arange(w)) / xper) * xamp).astype(np.float32)
    row = np.trunc(np.sin((yph + _arange(h)) / yper) * yamp)
    shift = (1.0 - np.append(row[1:], row[-1])).astype(np.intp)  # src_x - x, per row
    xs, ys_next = _wave_grids(h, w)
    src_x = xs + shift.astype(np.float32)[:, None]
    # col[clip(src_x)]: row y of the result is the window at shift[y] of col padded with its edges
    pad = int(np.abs(shift).max())
    padded = np.concatenate([np.full(pad, col[0]), col, np.full(pad, col[-1])])
    step = padded.itemsize  # window i is padded[i : i + w]: rows one element apart
    windows = np.ndarray((2 * pad + 1, w), padded.dtype, padded, 0, (step, step))
    return src_x, np.subtract(ys_next, windows[shift + pad])


@functools.cache
def _arange(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64)


@functools.cache
def _wave_grids(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = _grid(h, w)
    return xs, ys + 1.0


def wave(
    cov: np.ndarray, xph: float, xper: float, xamp: float, yph: float, yper: float, yamp: float
) -> np.ndarray:
    """OxCaptcha's two-pass shear: columns move vertically, then rows move horizontally.

    Integer shifts (``trunc``) as in the original, which is what makes the baseline look stepped.
    Both passes are one nearest-neighbour lookup through ``wave_map``.
    """
    src_x, src_y = wave_map(cov.shape, xph, xper, xamp, yph, yper, yamp)
    return cv2.remap(cov, src_x, src_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


@functools.cache
def _cell_gaussian(k: int, s: float) -> np.ndarray:
    """1-D weights of a unit-mass Gaussian (std ``s``) integrated over ``k`` pixel cells.

    Their outer product is OxCaptcha's *unnormalised* kernel: it sums to the mass inside the
    k x k window (0.26 for k=11, s=8), which is why that elastic field is gentle.
    """
    half = k / 2.0
    edges = np.arange(-half, half + 1.0, 1.0)
    cdf = 0.5 * (1.0 + np.array([math.erf(e / (s * math.sqrt(2.0))) for e in edges]))
    return np.diff(cdf).astype(np.float32)


# Byte -> value tables for ``_uniform_field``: 256 symmetric levels on (-1, 1), and the rare x5
# kick of OxCaptcha's elastic field (a byte < 26: probability 26/256, about 0.1).
_LEVELS = (np.arange(256, dtype=np.float32) * (2.0 / 256.0) - (255.0 / 256.0)).astype(np.float32)
_KICKS = np.where(np.arange(256) < 26, 5.0, 1.0).astype(np.float32)


def random_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform random bytes (uint8) straight from the bit generator's 64-bit words.

    About twice as fast as ``rng.bytes`` and deterministic in the same way.
    """
    return rng.bit_generator.random_raw((n + 7) // 8).view(np.uint8)[:n]


def _uniform_field(rng: np.random.Generator, shape: tuple[int, int], tails: bool = False) -> np.ndarray:
    """Per-pixel (dx, dy) draws, HxWx2, uniform on (-1, 1) in 256 symmetric steps.

    Drawn from raw bytes through a lookup table, several times faster than float draws; after
    smoothing the 1/128 step is invisible. With ``tails`` each entry is independently multiplied
    by 5 with probability ~0.1 (OxCaptcha's rare kicks), decided by a second, independent byte.
    """
    h, w = shape
    n = h * w * 2
    raw = random_bytes(rng, 2 * n if tails else n)
    field = cv2.LUT(raw[:n].reshape(h, w, 2), _LEVELS)
    if tails:
        field *= cv2.LUT(raw[n:].reshape(h, w, 2), _KICKS)
    return field


@functools.cache
def _grid2(h: int, w: int) -> np.ndarray:
    xs, ys = _grid(h, w)
    return np.dstack([xs, ys])


def displace(cov: np.ndarray, d: np.ndarray, then: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Sample ``cov`` bilinearly at (x, y) + d(x, y) for an HxWx2 field; outside is background.

    ``then`` (source maps (x, y) such as ``wave_map``'s) is a nearest-neighbour lookup applied to
    the result; it is folded into the sampling positions, which gives the same image in one pass.
    ``d`` is overwritten.
    """
    pos = np.add(_grid2(*cov.shape), d, out=d)
    if then is not None:
        pos = cv2.remap(pos, *then, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=_FAR)
    return cv2.remap(cov, pos, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def displace_waved(cov: np.ndarray, d: np.ndarray, wave: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Sample ``cov`` bilinearly at ``wave``'s source position (``wave_map``) plus d, HxWx2: the
    wave's whole-pixel shear and a smooth field in one lookup. ``displace(cov, d, then=wave)`` reads
    the field at the wave's source instead; for a random field either is as likely. ``d`` is
    overwritten."""
    d[..., 0] += wave[0]
    d[..., 1] += wave[1]
    return cv2.remap(cov, d, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


_FAR = (-1000.0, -1000.0)  # a sampling position far outside any canvas: reads background


def _ox_field(rng: np.random.Generator, shape: tuple[int, int], a: float, k: int, s: float, tails: bool):
    kern = _cell_gaussian(k, s)
    field = cv2.sepFilter2D(
        _uniform_field(rng, shape, tails), -1, kern, kern * a, borderType=cv2.BORDER_CONSTANT
    )
    r = k // 2  # valid-mode correlation: a k//2 border keeps zero displacement
    field[:r], field[-r:], field[:, :r], field[:, -r:] = 0.0, 0.0, 0.0, 0.0
    return field


def elastic_ox(
    cov: np.ndarray,
    a: float,
    k: int,
    s: float,
    rng: np.random.Generator,
    then: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """OxCaptcha ``distortionElastic``: small, smooth displacements with rare x5 kicks.

    ``then``: source maps (``wave_map``) of a lookup applied afterwards, in the same pass.
    """
    return displace(cov, _ox_field(rng, cov.shape, a, k, s, tails=True), then)


def _ox_field_half(rng: np.random.Generator, shape: tuple[int, int], a: float, k: int, s: float):
    """OxCaptcha's field (uniform draws with rare x5 kicks, the cell-integrated kernel, in canvas
    pixels) drawn on a half-resolution grid of an h x w canvas: kernel and std halved, amplitude
    halved to keep the RMS, as ``elastic_simard``. Upsample it to the size it is used at."""
    h, w = shape
    kern = _cell_gaussian(k // 2 + 1, s / 2.0)
    coarse = _uniform_field(rng, ((h + 1) // 2, (w + 1) // 2), tails=True)
    return cv2.sepFilter2D(coarse, -1, kern, kern * (a * 0.5), borderType=cv2.BORDER_CONSTANT)


def ox_field(rng: np.random.Generator, shape: tuple[int, int], a: float, k: int, s: float) -> np.ndarray:
    """``elastic_ox``'s HxWx2 field from the half-resolution draw (``_ox_field_half``), upsampled
    bilinearly; a k//2 border keeps zero displacement. About a third of the full-size field's cost."""
    h, w = shape
    field = cv2.resize(_ox_field_half(rng, shape, a, k, s), (w, h), interpolation=cv2.INTER_LINEAR)
    r = k // 2
    field[:r], field[-r:], field[:, :r], field[:, -r:] = 0.0, 0.0, 0.0, 0.0
    return field


def elastic_ox_to(
    cov: np.ndarray, a: float, k: int, s: float, rng: np.random.Generator, size: tuple[int, int]
) -> np.ndarray:
    """``elastic_ox`` then a resize to ``size`` (h, w), in one bilinear lookup at the output size.

    The field is drawn at half resolution (``_ox_field_half``) and upsampled straight to ``size``;
    the zero border keeps its width in canvas pixels. About 0.6x the cost of the two steps: no
    full-size field, one remap at the smaller size and no resize. Sampling instead of
    area-averaging makes a downscale by 1.5 slightly crisper.
    """
    h, w = cov.shape
    oh, ow = size
    field = cv2.resize(_ox_field_half(rng, cov.shape, a, k, s), (ow, oh), interpolation=cv2.INTER_LINEAR)
    ry, rx = math.ceil((k // 2) * oh / h), math.ceil((k // 2) * ow / w)
    field[:ry], field[-ry:], field[:, :rx], field[:, -rx:] = 0.0, 0.0, 0.0, 0.0
    pos = np.add(_scaled_grid(h, w, oh, ow), field, out=field)
    return cv2.remap(cov, pos, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


@functools.cache
def _scaled_grid(h: int, w: int, oh: int, ow: int) -> np.ndarray:
    """Canvas (x, y) of each output pixel's centre when an h x w canvas is shown at oh x ow."""
    xs = (np.arange(ow, dtype=np.float32) + 0.5) * (w / ow) - 0.5
    ys = (np.arange(oh, dtype=np.float32) + 0.5) * (h / oh) - 0.5
    return np.dstack(np.meshgrid(xs, ys)).astype(np.float32)


def electric(cov: np.ndarray, rng: np.random.Generator, a: float = 24.0) -> np.ndarray:
    """OxCaptcha ``distortionElectric2``: a 2x2 kernel, so edges turn furry and jagged."""
    return displace(cov, _ox_field(rng, cov.shape, a, 2, 2.2, tails=False))


def simard_field(shape: tuple[int, int], alpha: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Simard et al. (2003): U(-1,1) fields smoothed by a normalised Gaussian, times alpha (HxWx2).

    Per-axis RMS displacement is alpha / (2 sigma sqrt(3 pi)). The smooth field is drawn and
    smoothed on a half-resolution grid (std sigma/2, amplitude halved to keep the RMS) and
    upsampled bilinearly: the same Gaussian random field, at a quarter of the cost.
    """
    h, w = shape
    coarse = _uniform_field(rng, ((h + 1) // 2, (w + 1) // 2))
    kern = _gaussian_kernel(sigma / 2.0)
    coarse = cv2.sepFilter2D(coarse, -1, kern, kern * (alpha * 0.5), borderType=cv2.BORDER_REFLECT)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)


def elastic_simard(cov: np.ndarray, alpha: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Move ``cov`` by a Simard field (``simard_field``): the elastic variants' broadening."""
    return displace(cov, simard_field(cov.shape, alpha, sigma, rng))


@functools.cache
def _gaussian_kernel(s: float) -> np.ndarray:
    """Normalised Gaussian taps (std ``s``, radius ceil(3 s)), as ``cv2.GaussianBlur`` uses."""
    return cv2.getGaussianKernel(2 * math.ceil(3 * s) + 1, s, cv2.CV_32F)


def blur(cov: np.ndarray, s: float = 0.5) -> np.ndarray:
    """5-tap normalised Gaussian blur."""
    return cv2.GaussianBlur(cov, (5, 5), s)


def ink_box(cov: np.ndarray, thresh: float) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the pixels above ``thresh``; w = 0 when there are none. OpenCV's bounding
    box of the mask: twice as fast as numpy's maxima along both axes."""
    return cv2.boundingRect((cov > thresh).view(np.uint8))


def recentre(cov: np.ndarray, thresh: float = 1e-3) -> np.ndarray:
    """Move the ink bounding box to the canvas centre (integer shift)."""
    x, y, bw, bh = ink_box(cov, thresh)
    if bw == 0:
        return cov
    h, w = cov.shape
    return shift(cov, (w - bw) // 2 - x, (h - bh) // 2 - y)


def shift(cov: np.ndarray, sx: int, sy: int) -> np.ndarray:
    """Integer translation; what leaves the canvas is lost."""
    h, w = cov.shape
    out = np.zeros_like(cov)
    ys, yd = (slice(0, h - sy), slice(sy, h)) if sy >= 0 else (slice(-sy, h), slice(0, h + sy))
    xs, xd = (slice(0, w - sx), slice(sx, w)) if sx >= 0 else (slice(-sx, w), slice(0, w + sx))
    out[yd, xd] = cov[ys, xs]
    return out


@functools.cache
def _bernstein(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cubic Bernstein basis at ``n`` evenly spaced t, and its derivative (both n x 4)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    basis = np.hstack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3])
    slope = np.hstack([-3 * (1 - t) ** 2, 3 * (1 - t) * (1 - 3 * t), 3 * t * (2 - 3 * t), 3 * t**2])
    return basis, slope


def _bezier(controls: np.ndarray, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """(k, 4, 2) cubic control points -> (k, n, 2) points on the curves and their tangents."""
    basis, slope = _bernstein(n)
    controls = np.asarray(controls, np.float64)
    return basis @ controls, slope @ controls


def bezier_points(controls: np.ndarray, n: int = 48) -> np.ndarray:
    """(k, 4, 2) cubic control points -> (k, n, 2) points on the curves (polyline vertices)."""
    return _bernstein(n)[0] @ np.asarray(controls, np.float64)


def _unit_normals(tangents: np.ndarray) -> np.ndarray:
    """Unit normals of (..., 2) tangents (zero where a tangent vanishes), via complex numbers."""
    z = np.ascontiguousarray(tangents, np.float64).view(np.complex128)
    return (z * (1j / np.maximum(np.abs(z), 1e-9))).view(np.float64)


# Normal offsets (px) of the three 1 px lines that make a 2 px line (see ``line_layer``).
_THICK_OFFSETS = (-1.25, 0.0, 1.25)


def line_layer(
    shape: tuple[int, int], points: np.ndarray, tangents: np.ndarray, width: float, closed: bool = False
) -> np.ndarray:
    """Antialiased polylines (k, n, 2) as a uint8 coverage layer, ``round(width)`` px (1 or 2) wide;
    ``tangents`` (k, n, 2), of any length, give the normals a 2 px line is offset along.

    1 px is OpenCV's LINE_AA line (sub-pixel vertices). OpenCV's 2 px LINE_AA line costs ten
    times as much (a filled polygon and a disc at every vertex), so a 2 px line is three 1 px
    lines side by side, ``_THICK_OFFSETS`` px apart along the normal, summed with saturation.
    Checked against OpenCV's own 2 px lines on 400 facebook latents (seed 4): ink mass within 1 %
    for strokes and ellipses, mean absolute difference 6-8 gray levels per pixel (same look).
    """
    layer = np.zeros(shape, np.uint8)
    thick = round(width) >= 2
    normals = _unit_normals(tangents) if thick else None
    for off in _THICK_OFFSETS if thick else (0.0,):
        one = np.zeros(shape, np.uint8) if off else layer
        pts = np.round((points + off * normals if off else points) * 16).astype(np.int32)  # 4 fractional bits
        cv2.polylines(one, list(pts), closed, 255, 1, cv2.LINE_AA, shift=4)
        if off:
            cv2.add(layer, one, dst=layer)
    return layer


_UNIT = (np.arange(256) / 255.0).astype(np.float32)  # uint8 coverage -> 0..1
_ONE_MINUS = (1.0 - _UNIT).astype(np.float32)


def strokes(cov: np.ndarray, controls: np.ndarray, width: float) -> np.ndarray:
    """Ink cubic Bezier curves; ``controls`` is (n, 4, 2) control points in pixels."""
    layer = line_layer(cov.shape, *_bezier(controls), width)
    return np.maximum(cov, cv2.LUT(layer, _UNIT))


@functools.cache
def _circle(sides: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and tangents of a unit ``sides``-gon, from angle 0 counter-clockwise."""
    angles = np.radians(np.arange(sides) * (360.0 / sides))
    return np.stack([np.cos(angles), np.sin(angles)], -1), np.stack([-np.sin(angles), np.cos(angles)], -1)


def ellipses(cov: np.ndarray, boxes: np.ndarray, width: float, sides: int = 72) -> np.ndarray:
    """Background-coloured ellipse outlines that cut white gaps through the glyphs.

    ``boxes`` is (n, 4): corner x, corner y, width, height. Each ellipse is a closed polygon drawn
    by ``line_layer``, all in one call. The 72-gon is cv2.ellipse's 5 degree step (the one it uses
    for semi-axes over 15 px; it used coarser polygons below, which a 72-gon differs from by at
    most 0.3 px, 0.6 px for the 0.25 % under 2.5 px). A 36-gon lies within r (1 - cos 5 deg), 0.4 px
    of a 100 px semi-axis, of the ellipse, at half the cost.
    """
    circle, tangents = _circle(sides)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 1, 4)
    axes = boxes[..., 2:] / 2
    points = circle * axes + (boxes[..., :2] + axes)
    layer = line_layer(cov.shape, points, tangents * axes, width, closed=True)
    return cov * cv2.LUT(layer, _ONE_MINUS)


_DIAGONALS = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1]], np.uint8)


def hollow(glyph: np.ndarray) -> np.ndarray:
    """Outline of a glyph: ink at the four diagonal 1-px offsets, background at the centre.

    The result is 1 px larger on every side, so the outline of ink touching the edge survives.
    """
    p = cv2.copyMakeBorder(glyph, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0.0)
    ring = cv2.dilate(p, _DIAGONALS, borderType=cv2.BORDER_CONSTANT, borderValue=0.0)
    return np.maximum(ring - p, 0.0)


def compose(cov: np.ndarray, background: np.ndarray | float = 255.0, ink: float = 0.0) -> np.ndarray:
    """Blend ink over a background (a gray level or an HxW array) as float32 gray."""
    return background + (ink - background) * cov


def gradient(shape: tuple[int, int], left: float, right: float) -> np.ndarray:
    """Horizontal background ramp from gray ``left`` at x=0 to ``right`` at the last column."""
    h, w = shape
    return np.broadcast_to(np.linspace(left, right, w, dtype=np.float32), (h, w))


def gauss_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add sigma*N(0,1) per pixel on the 0..255 scale (OxCaptcha truncates toward zero)."""
    if sigma <= 0:
        return img
    noisy = rng.standard_normal(img.shape, dtype=np.float32)
    noisy *= sigma
    noisy += img
    return np.trunc(noisy, out=noisy)


def to_uint8(img: np.ndarray, whole: bool = False) -> np.ndarray:
    """Round to the nearest gray level and saturate; ``whole``: the values are whole numbers
    already (``gauss_noise`` truncates), so only the saturation is left to do."""
    return np.clip(img if whole else np.rint(img), 0, 255).astype(np.uint8)


def gray(
    cov: np.ndarray, background: np.ndarray | float, noise_sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """``to_uint8(gauss_noise(compose(cov, background), noise_sigma, rng))``.

    Without noise and on a plain background it is one OpenCV call: bg - bg * cov lies in
    0..bg, so the absolute value and saturation of ``convertScaleAbs`` change nothing.
    """
    if noise_sigma <= 0 and np.ndim(background) == 0:
        return cv2.convertScaleAbs(cov, alpha=-float(background), beta=float(background))
    return to_uint8(gauss_noise(compose(cov, background), noise_sigma, rng), whole=noise_sigma > 0)


@functools.cache
def _normal_levels(sigma: float) -> np.ndarray:
    """sigma * z rounded to whole gray levels at the 65536 quantile midpoints of N(0, 1), int16:
    a uniform 16-bit draw through it is sigma-normal noise with tails to 4.2 sigma (kept within
    +-255, past which a gray level saturates anyway)."""
    from scipy.special import ndtri  # imported here: only the styles with this noise need scipy's import

    return np.clip(np.rint(sigma * ndtri((np.arange(65536) + 0.5) / 65536)), -255, 255).astype(np.int16)


def gray_quantized_noise(
    cov: np.ndarray, background: float, noise_sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Dark ink on a plain ``background``, rounded to gray levels, plus sigma-normal noise in whole
    gray levels, saturated: ``gray``'s image within a gray level, a quarter of its cost (16-bit
    draws through ``_normal_levels`` instead of float normal draws, and two OpenCV passes)."""
    base = cv2.convertScaleAbs(cov, alpha=-float(background), beta=float(background))
    if noise_sigma <= 0:
        return base
    draws = random_bytes(rng, 2 * cov.size).view(np.uint16)
    noise = np.take(_normal_levels(float(noise_sigma)), draws).reshape(cov.shape)
    return cv2.add(base, noise, dtype=cv2.CV_8U)


def speckle_fringe(
    cov: np.ndarray, strength: np.ndarray | float, rng: np.random.Generator, spread: float = 1.8
) -> np.ndarray:
    """Dither the ink's blurred halo against uniform noise: a ragged, speckled fringe.

    Where the halo (Gaussian, std ``spread``) is high, ink stays; in its tail random specks
    appear and near the edges random holes; ``strength`` (scalar, or per-column 0..1) mixes
    that dithered layer with the clean one.
    """
    halo = cv2.GaussianBlur(cov, (0, 0), spread)
    dither = np.clip((halo * 1.6 - rng.random(cov.shape, dtype=np.float32)) * 3.0, 0.0, 1.0)
    s = np.asarray(strength, np.float32)
    return cov + (dither - cov) * s


def polylines(cov: np.ndarray, lines: list[np.ndarray] | np.ndarray, width: float, ss: int = 4) -> np.ndarray:
    """Ink open polylines (each (m, 2) vertices in pixels; a (k, m, 2) array when all are as long)
    of any fractional ``width``.

    Drawn ``ss`` (a power of two) times finer and averaged: the fine line is aliased (LINE_8,
    round joins), and averaging ss x ss cells antialiases it. OpenCV's LINE_AA thick lines, twice
    as slow, are about one fine pixel wider than asked (on 300 captcha_v2 strikes, seed 5:
    LINE_AA drew 7 % more ink; mean difference 0.6 gray levels). The averaging is repeated
    bilinear halving (each step averages 2x2 cells exactly), five times faster than INTER_AREA.
    """
    h, w = cov.shape
    if ss < 1 or ss & (ss - 1):
        raise ValueError(f"ss must be a power of two, got {ss}")
    layer = np.zeros((h * ss, w * ss), np.uint8)

    # pixel centre x is at ss*x + (ss-1)/2 on the fine grid; 4 fractional bits
    def fine_grid(p) -> np.ndarray:
        return np.round((np.asarray(p, np.float64) * ss + (ss - 1) / 2) * 16).astype(np.int32)

    fine = list(fine_grid(lines)) if isinstance(lines, np.ndarray) else [fine_grid(p) for p in lines]
    cv2.polylines(layer, fine, False, 255, max(1, round(width * ss)), cv2.LINE_8, shift=4)
    while layer.shape[0] > h:
        layer = cv2.resize(layer, (layer.shape[1] // 2, layer.shape[0] // 2), interpolation=cv2.INTER_LINEAR)
    return np.maximum(cov, cv2.LUT(layer, _UNIT))
