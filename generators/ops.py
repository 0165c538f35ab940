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


def wave(
    cov: np.ndarray, xph: float, xper: float, xamp: float, yph: float, yper: float, yamp: float
) -> np.ndarray:
    """OxCaptcha's two-pass shear: columns move vertically, then rows move horizontally.

    Integer shifts (``trunc``) as in the original, which is what makes the baseline look stepped.
    """
    h, w = cov.shape
    col_shift = np.trunc(np.sin((xph + np.arange(w)) / xper) * xamp).astype(np.int16)
    row_shift = np.trunc(np.sin((yph + np.arange(h)) / yper) * yamp).astype(np.int16)
    # Pass 1: out(x, y) = in(x + 1, y - col[x + 1]); pass 2: out(x, y) = p1(x - row[y + 1], y + 1).
    # Composed into one nearest-neighbour lookup on integer maps.
    row_next = row_shift[np.minimum(np.arange(h) + 1, h - 1)]
    src = _int_grid(h, w).copy()
    src[..., 0] += 1 - row_next[:, None]
    src[..., 1] += 1 - col_shift[np.clip(src[..., 0], 0, w - 1)]
    return cv2.remap(cov, src, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


@functools.cache
def _int_grid(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.int16)
    return np.dstack([xs, ys])


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


# Byte -> value tables for ``_uniform_field``: 256 symmetric levels on (-1, 1); the 16-bit table
# also multiplies by 5 when the low byte is < 26 (probability 26/256, about 0.1).
_LEVELS = (np.arange(256, dtype=np.float32) * (2.0 / 256.0) - (255.0 / 256.0)).astype(np.float32)
_LEVELS_TAILS = (np.repeat(_LEVELS, 256) * np.tile(np.where(np.arange(256) < 26, 5.0, 1.0), 256)).astype(
    np.float32
)


def _uniform_field(rng: np.random.Generator, shape: tuple[int, int], tails: bool = False) -> np.ndarray:
    """Per-pixel (dx, dy) draws, HxWx2, uniform on (-1, 1) in 256 symmetric steps.

    Drawn from raw bytes through a lookup table, several times faster than float draws; after
    smoothing the 1/128 step is invisible. With ``tails`` each entry is independently multiplied
    by 5 with probability ~0.1 (OxCaptcha's rare kicks), decided by a second, independent byte.
    """
    h, w = shape
    if tails:
        raw = np.frombuffer(rng.bytes(h * w * 4), np.uint16).reshape(h, w, 2)
        return _LEVELS_TAILS.take(raw)
    raw = np.frombuffer(rng.bytes(h * w * 2), np.uint8).reshape(h, w, 2)
    return _LEVELS.take(raw)


@functools.cache
def _grid2(h: int, w: int) -> np.ndarray:
    xs, ys = _grid(h, w)
    return np.dstack([xs, ys])


def displace(cov: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Sample ``cov`` bilinearly at (x, y) + d(x, y) for an HxWx2 field; outside is background."""
    return cv2.remap(
        cov, _grid2(*cov.shape) + d, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0
    )


def _ox_field(rng: np.random.Generator, shape: tuple[int, int], k: int, s: float, tails: bool):
    kern = _cell_gaussian(k, s)
    field = cv2.sepFilter2D(_uniform_field(rng, shape, tails), -1, kern, kern, borderType=cv2.BORDER_CONSTANT)
    r = k // 2  # valid-mode correlation: a k//2 border keeps zero displacement
    field[:r], field[-r:], field[:, :r], field[:, -r:] = 0.0, 0.0, 0.0, 0.0
    return field


def elastic_ox(cov: np.ndarray, a: float, k: int, s: float, rng: np.random.Generator) -> np.ndarray:
    """OxCaptcha ``distortionElastic``: small, smooth displacements with rare x5 kicks."""
    return displace(cov, _ox_field(rng, cov.shape, k, s, tails=True) * a)


def electric(cov: np.ndarray, rng: np.random.Generator, a: float = 24.0) -> np.ndarray:
    """OxCaptcha ``distortionElectric2``: a 2x2 kernel, so edges turn furry and jagged."""
    return displace(cov, _ox_field(rng, cov.shape, 2, 2.2, tails=False) * a)


def elastic_simard(cov: np.ndarray, alpha: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Simard et al. (2003): U(-1,1) fields smoothed by a normalised Gaussian, times alpha.

    Per-axis RMS displacement is alpha / (2 sigma sqrt(3 pi)). The smooth field is drawn and
    smoothed on a half-resolution grid (std sigma/2, amplitude halved to keep the RMS) and
    upsampled bilinearly: the same Gaussian random field, at a quarter of the cost.
    """
    h, w = cov.shape
    half = sigma / 2.0
    ksize = 2 * math.ceil(3 * half) + 1
    coarse = _uniform_field(rng, ((h + 1) // 2, (w + 1) // 2))
    coarse = cv2.GaussianBlur(coarse, (ksize, ksize), half, borderType=cv2.BORDER_REFLECT)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return displace(cov, field * (alpha * 0.5))


def blur(cov: np.ndarray, s: float = 0.5) -> np.ndarray:
    """5-tap normalised Gaussian blur."""
    return cv2.GaussianBlur(cov, (5, 5), s)


def recentre(cov: np.ndarray, thresh: float = 1e-3) -> np.ndarray:
    """Move the ink bounding box to the canvas centre (integer shift)."""
    rows = np.flatnonzero(cov.max(axis=1) > thresh)
    cols = np.flatnonzero(cov.max(axis=0) > thresh)
    if rows.size == 0:
        return cov
    h, w = cov.shape
    sy = (h - (rows[-1] - rows[0] + 1)) // 2 - rows[0]
    sx = (w - (cols[-1] - cols[0] + 1)) // 2 - cols[0]
    return shift(cov, sx, sy)


def shift(cov: np.ndarray, sx: int, sy: int) -> np.ndarray:
    """Integer translation; what leaves the canvas is lost."""
    h, w = cov.shape
    out = np.zeros_like(cov)
    ys, yd = (slice(0, h - sy), slice(sy, h)) if sy >= 0 else (slice(-sy, h), slice(0, h + sy))
    xs, xd = (slice(0, w - sx), slice(sx, w)) if sx >= 0 else (slice(-sx, w), slice(0, w + sx))
    out[yd, xd] = cov[ys, xs]
    return out


@functools.cache
def _bernstein(n: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return np.hstack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3])


def _bezier(controls: np.ndarray, n: int = 48) -> np.ndarray:
    """(k, 4, 2) cubic control points -> (k, n, 2) points on the curves, all in one product."""
    return np.einsum("tj,kjd->ktd", _bernstein(n), np.asarray(controls, np.float64))


def polyline_layer(shape: tuple[int, int], curves: list[np.ndarray], width: float) -> np.ndarray:
    """Antialiased polylines as a coverage layer (sub-pixel vertices, OpenCV LINE_AA)."""
    layer = np.zeros(shape, np.uint8)
    pts = [np.round(c * 16).astype(np.int32).reshape(-1, 1, 2) for c in curves]
    cv2.polylines(layer, pts, False, 255, max(1, round(width)), cv2.LINE_AA, shift=4)
    return layer.astype(np.float32) / 255.0


def strokes(cov: np.ndarray, controls: np.ndarray, width: float) -> np.ndarray:
    """Ink cubic Bezier curves; ``controls`` is (n, 4, 2) control points in pixels."""
    layer = polyline_layer(cov.shape, list(_bezier(controls)), width)
    return np.maximum(cov, layer)


def ellipses(cov: np.ndarray, boxes: np.ndarray, width: float) -> np.ndarray:
    """Background-coloured ellipse outlines that cut white gaps through the glyphs.

    ``boxes`` is (n, 4): corner x, corner y, width, height.
    """
    layer = np.zeros(cov.shape, np.uint8)
    for x, y, bw, bh in boxes:
        centre = (int(round((x + bw / 2) * 16)), int(round((y + bh / 2) * 16)))
        axes = (int(round(bw / 2 * 16)), int(round(bh / 2 * 16)))
        cv2.ellipse(layer, centre, axes, 0, 0, 360, 255, max(1, round(width)), cv2.LINE_AA, 4)
    return cov * (1.0 - layer.astype(np.float32) / 255.0)


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
    return np.trunc(img + rng.standard_normal(img.shape, dtype=np.float32) * sigma)


def to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


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


def strike(cov: np.ndarray, controls: np.ndarray, width: float, ss: int = 4) -> np.ndarray:
    """Ink cubic Bezier curves of any fractional ``width``, drawn ``ss`` times finer and averaged.

    ``strokes`` rounds the width to whole pixels (1 px lines look hairline, 2 px ones bold);
    supersampling keeps, say, a 1.5 px line 1.5 px wide. ``controls`` is (n, 4, 2) in pixels.
    """
    h, w = cov.shape
    layer = np.zeros((h * ss, w * ss), np.uint8)
    # pixel centre x is at ss*x + (ss-1)/2 on the fine grid
    fine_pts = np.round((_bezier(controls) * ss + (ss - 1) / 2) * 16).astype(np.int32)  # 4 frac. bits
    cv2.polylines(layer, list(fine_pts), False, 255, max(1, round(width * ss)), cv2.LINE_AA, shift=4)
    fine = cv2.resize(layer, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return np.maximum(cov, fine)
