"""Glyph bitmaps, rasterised once per (font file, size, character) and then only copied.

Rasterising with FreeType costs far more than a 200x50 composite, so caching glyphs is what
makes sub-millisecond rendering possible.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synthgap.errors import UsageError


@dataclass(frozen=True)
class Glyph:
    """Antialiased coverage of one character, cropped to its ink box.

    ``top`` is the ink box's top relative to the baseline (negative above it).
    """

    char: str
    cov: np.ndarray
    top: int

    @property
    def width(self) -> int:
        return self.cov.shape[1]

    @property
    def height(self) -> int:
        return self.cov.shape[0]


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=8192)
def glyph(path: str, size: int, char: str) -> Glyph:
    font = _font(path, size)
    left, top, right, bottom = font.getbbox(char, anchor="ls")
    w, h = max(1, right - left + 2), max(1, bottom - top + 2)
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).text((1 - left, 1 - top), char, font=font, fill=255, anchor="ls")
    cov = np.asarray(im, dtype=np.float32) / 255.0
    rows = np.flatnonzero(cov.max(axis=1) > 0)
    cols = np.flatnonzero(cov.max(axis=0) > 0)
    if rows.size == 0:
        raise UsageError(f"font {path} has no visible glyph for {char!r}", field="charset")
    cov = np.ascontiguousarray(cov[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    cov.setflags(write=False)
    return Glyph(char, cov, int(top - 1 + rows[0]))


def transform(
    g: Glyph, rot_deg: float = 0.0, scale: float = 1.0, shear: float = 0.0, stretch: float = 1.0
) -> Glyph:
    """Stretch horizontally (x *= stretch), shear (x += shear * y), then rotate (degrees,
    counter-clockwise) and scale, all about the ink centre; the result is re-cropped. Area
    scales by ``stretch * scale**2`` only.
    """
    if rot_deg == 0.0 and scale == 1.0 and shear == 0.0 and stretch == 1.0:
        return g
    h, w = g.cov.shape
    cos, sin = scale * math.cos(math.radians(rot_deg)), scale * math.sin(math.radians(rot_deg))
    # [[cos, sin], [-sin, cos]] @ [[1, shear], [0, 1]] @ [[stretch, 0], [0, 1]]
    a, b, d, e = cos * stretch, cos * shear + sin, -sin * stretch, cos - sin * shear
    cx, cy = w / 2.0, h / 2.0
    c, f = cx - a * cx - b * cy, cy - d * cx - e * cy
    # output canvas: the mapped ink box plus a 2 px margin for bilinear spread, so nothing is cut
    x0 = math.floor(c + min(0.0, a * w) + min(0.0, b * h)) - 2
    x1 = math.ceil(c + max(0.0, a * w) + max(0.0, b * h)) + 2
    y0 = math.floor(f + min(0.0, d * w) + min(0.0, e * h)) - 2
    y1 = math.ceil(f + max(0.0, d * w) + max(0.0, e * h)) + 2
    m = np.array([[a, b, c - x0], [d, e, f - y0]])
    out = cv2.warpAffine(g.cov, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)  # fmt: skip
    x, y, cw, ch = cv2.boundingRect((out > 1e-3).view(np.uint8))
    cov = out[y : y + ch, x : x + cw]
    # keep the ink centre at the same height relative to the baseline
    centre_before = g.top + h / 2.0
    top = int(round(centre_before - cov.shape[0] / 2.0))
    return Glyph(g.char, cov, top)


@functools.lru_cache(maxsize=32768)
def turned(path: str, size: int, char: str, degrees: int) -> Glyph:
    """``glyph`` rotated by whole ``degrees`` (``transform``), cached as the rasters are: a style that
    turns its glyphs by a continuous angle renders it rounded to the degree, which moves ink 20 px
    from the centre by at most 0.2 px, for a lookup instead of a resampling per glyph."""
    return transform(glyph(path, size, char), rot_deg=degrees)


def paste(cov: np.ndarray, g: Glyph, x: int, baseline: int) -> None:
    """Draw ``g`` with its ink box's left edge at column ``x`` (max blend), clipped to the canvas."""
    (h, w), (gh, gw) = cov.shape, g.cov.shape
    y = baseline + g.top
    if y >= 0 and x >= 0 and y + gh <= h and x + gw <= w:  # the usual case: inside, nothing to clip
        region = cov[y : y + gh, x : x + gw]
        np.maximum(region, g.cov, out=region)
        return
    y0, x0 = max(y, 0), max(x, 0)
    y1, x1 = min(y + gh, h), min(x + gw, w)
    if y1 <= y0 or x1 <= x0:
        return
    region = cov[y0:y1, x0:x1]
    np.maximum(region, g.cov[y0 - y : y1 - y, x0 - x : x1 - x], out=region)


def layout_rel(glyphs: list[Glyph], x0: int, k: int) -> list[int]:
    """Ink-box left edges: each glyph starts ``1 + k`` px after the previous one's ink ends."""
    lefts, x = [], x0
    for g in glyphs:
        lefts.append(x)
        x += g.width + 1 + k
    return lefts


def layout_centred(glyphs: list[Glyph], k: int, width: int, height: int) -> tuple[list[int], int]:
    """``layout_rel`` centred on the canvas; baseline puts the tallest glyph mid-height."""
    total = sum(g.width + 1 + k for g in glyphs) - (1 + k)
    h_max = max(g.height for g in glyphs)
    baseline = h_max + (height - h_max) // 2
    return layout_rel(glyphs, (width - total) // 2, k), baseline
