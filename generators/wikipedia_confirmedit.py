"""Wikipedia as the site made it: MediaWiki's ConfirmEdit FancyCaptcha (``captcha.py``, 2014-2023).

The paper's ``wikipedia`` style is a model of these captchas (uniform letters, a Courier face, its
own distortions); this style follows the real generator's recipe instead (facts from issue 14):

- text: two words drawn at random from a word list, lower-cased and concatenated, kept if a-z
  only; here words of 4-5 letters from Debian's ``wamerican`` list (the samples are 8-10 letters,
  two short words, proper names included). The site's list and its blocked words are not public:
  this list stands in for it, and no word is blocked.
- rendering: white text (FreeMonoBoldOblique, GNU FreeFont, size 40) centred on a black square
  of side max(w, h) + 2 min(w, h); k = 2 rounds of three "wobbly copies" with base angles 45, 90,
  135 (+30 each round). A copy: rotate by base + U(-10, 10) degrees (bilinear), shift every scan
  line of the ink by trunc(sin(p + i f / H) wob) + trunc(U(-wob/2, wob/2)) pixels (f = U(4s, 5s)
  with s = 2i+3, 2i+1, 2i+2; p = U(0, 2 pi); wob = 0.09 h), rotate back, sharpen (factor 2).
  Here the three geometric steps are one bilinear resampling of the ink's neighbourhood
  (``wobbly_copy``); the site resamples twice, so its copies are a little blurrier.
- crop to the ink's bounding box plus a border of min(w, h) / 4; resized here to 200x50, the
  size of the real sets; inverted to dark text on white.
- noise (``wikipedia_confirmedit_noise`` only): a grid 4x coarser than the image, each cell
  U(0, 65) plus a left-to-right gradient 0..70, resized bilinearly; the image becomes text/3 +
  noise, inverted. None of the 20 samples of 2016 shows it: 73-81 % of their pixels are >= 250
  and their ink reaches 0, where with the noise stage under 1 % reach 250 and no ink goes below
  35 (without it: 69-77 % and 0, seed 0). So the default style leaves it out and the other keeps
  it, and the grid can say which fits real data better.

Latents: the words, and per copy (f, p, angle) in ``params["wobble"]``; the per-line jitters come
from the per-pixel stream (``Latent.seed``), as other styles' fields do, one per canvas row and copy
(the site draws them for the rows with ink only; the rows without are never read).
Elastic variant: Simard field on the ink before the noise, alpha U[20, 40), sigma 5.
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthgap.errors import UsageError
from synthgap.generators import ops, register_generator
from synthgap.generators.base import HEIGHT, WIDTH, Generator, Latent, StyleConfig
from synthgap.generators.glyphs import _font, paste

WORDLIST = Path("/usr/share/dict/american-english")  # Debian package wamerican
WORD_LENGTHS = (4, 5)
ROUNDS = 2
COPIES = ((3, 0.0), (1, 45.0), (2, 90.0))  # per round i: scale s = 2i + this, angle = base + this
BASE_ANGLE, ROUND_TURN = 45.0, 30.0
# PIL's Sharpness(2) is 2 image - SMOOTH(image), SMOOTH = [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13: one filter
SHARPEN = np.array([[-1, -1, -1], [-1, 21, -1], [-1, -1, -1]], np.float32) / 13.0
NOISE_BLOCK, NOISE_CELL, NOISE_GRADIENT = 4, 65.0, 70.0


@functools.cache
def _metrics(path: str, size: int, char: str) -> tuple[int, int]:
    """(advance, ink-box left edge relative to the pen) of a character, in whole pixels."""
    font = _font(path, size)
    return round(font.getlength(char)), font.getbbox(char, anchor="ls")[0] - 1


@functools.cache
def load_words(path: Path, charset: str, lo: int, hi: int) -> tuple[str, ...]:
    """Lower-cased words of ``lo``..``hi`` letters, all in ``charset``, sorted and unique."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise UsageError(
            f"words: cannot read the word list {path} ({e.strerror}); install it: apt-get install wamerican",
            field="words",
        ) from None
    allowed = set(charset)
    words = {w.lower() for w in text.split()}
    return tuple(sorted(w for w in words if lo <= len(w) <= hi and set(w) <= allowed))


@register_generator("wikipedia_confirmedit")
class WikipediaConfirmEdit(Generator):
    # 2: each wobbly copy is one remap of the ink's neighbourhood (3x faster, one resampling);
    # 3: the scan-line jitters of all six copies drawn at once, over every canvas row; sharpen as one filter
    version = 3
    defaults = StyleConfig(
        charset="abcdefghijklmnopqrstuvwxyz",
        lengths=(8, 10),
        fonts=("free-mono-bold-oblique",),
        sizes=(40, 40),
        kerning=(0, 0),
        elastic_alpha=(20.0, 40.0),
        elastic_sigma=5.0,
    )

    def __init__(self, elastic: bool = False, **overrides: Any) -> None:
        super().__init__(elastic, **overrides)
        lo, hi = self.config.lengths
        self.words = load_words(WORDLIST, self.config.charset, *WORD_LENGTHS)
        by_len = {
            n: [w for w in self.words if len(w) == n] for n in range(WORD_LENGTHS[0], WORD_LENGTHS[1] + 1)
        }
        if not any(by_len[a] and by_len[b] and lo <= a + b <= hi for a in by_len for b in by_len):
            raise UsageError(
                f"words: {WORDLIST} has no two words of {WORD_LENGTHS[0]}-{WORD_LENGTHS[1]} letters in "
                f"charset {self.config.charset!r} with {lo}-{hi} letters together",
                field="words",
            )

    def fingerprint(self) -> dict[str, Any]:
        """The word list is part of the prior: its file and hash join the fingerprint."""
        return {**super().fingerprint(), "words": self.text_prior()}

    def text_prior(self) -> dict[str, Any]:
        return {
            "kind": "word_pairs",
            "path": str(WORDLIST),
            "sha256": hashlib.sha256(WORDLIST.read_bytes()).hexdigest(),
            "word_lengths": list(WORD_LENGTHS),
            "lengths": list(self.config.lengths),
            "charset": self.config.charset,
        }

    def draw_text(self, rng: np.random.Generator, n: int) -> str:
        """Two words; pairs whose length falls outside ``lengths`` are drawn again, as the site did."""
        lo, hi = self.config.lengths
        while True:
            a, b = rng.integers(len(self.words), size=2)
            text = self.words[a] + self.words[b]
            if lo <= len(text) <= hi:
                return text

    def draw_params(self, rng, glyphs):
        """Per copy (f, p, angle): one ``uniform`` call over all copies, with the draws in the order
        (the angle's, then f's and p's) and the arithmetic of one call per draw."""
        low, high, base = [], [], []
        for i in range(ROUNDS):
            for s0, turn in COPIES:
                s = 2 * i + s0
                low += [-10, 4 * s, 0]
                high += [10, 5 * s, 2 * math.pi]
                base.append(BASE_ANGLE + ROUND_TURN * i + turn)
        u = rng.uniform(low, high).reshape(-1, 3).tolist()
        return {"wobble": [[f, p, b + d] for (d, f, p), b in zip(u, base, strict=True)]}

    def layout(self, latent, glyphs):
        """Pen positions as PIL draws the string (each glyph's advance), plus ``kerning`` px per gap;
        baselines at the font's ascent (text drawn from its top-left corner)."""
        path = self.font_files[latent.font].path
        lefts, pen = [], 0
        for ch in latent.text:
            advance, bearing = _metrics(path, latent.size, ch)
            lefts.append(pen + bearing)
            pen += advance + latent.kerning
        return lefts, [_font(path, latent.size).getmetrics()[0]] * len(glyphs)

    def render_ink(self, latent: Latent, rng: np.random.Generator) -> np.ndarray:
        path = self.font_files[latent.font].path
        ascent, descent = _font(path, latent.size).getmetrics()
        glyphs = self.glyphs(latent)
        lefts, baselines = self.layout(latent, glyphs)
        w = sum(_metrics(path, latent.size, ch)[0] for ch in latent.text) + latent.kerning * (latent.L - 1)
        h = ascent + descent
        side = max(w, h) + 2 * min(w, h)
        x0, y0 = (side - w) // 2, (side - h) // 2
        # only the part of the side x side canvas that the glyphs' ink boxes cover is ever drawn on
        tops = [y0 + b + g.top for g, b in zip(glyphs, baselines, strict=True)]
        top, left = max(0, min(tops)), max(0, x0 + min(lefts))
        bottom = min(side, max(t + g.height for g, t in zip(glyphs, tops, strict=True)))
        right = min(side, max(x0 + x + g.width for g, x in zip(glyphs, lefts, strict=True)))
        cov = np.zeros((max(1, bottom - top), max(1, right - left)), np.float32)
        for g, x, b in zip(glyphs, lefts, baselines, strict=True):
            paste(cov, g, x0 + x - left, y0 + b - top)
        wob = 0.09 * h
        ink, origin = _crop(cov, (top, left))
        tables = shift_tables(latent.params["wobble"], side, wob, rng)
        for (_, _, angle), shift in zip(latent.params["wobble"], tables, strict=True):
            ink, origin = wobbly_copy(ink, origin, side, angle, shift)
        border = min(w, h) // 4
        (y0, x0), (ih, iw) = origin, ink.shape
        box = np.zeros((ih + 2 * border, iw + 2 * border), np.float32)  # the crop may reach past the canvas
        box[border : border + ih, border : border + iw] = ink
        top, left = max(0, border - y0), max(0, border - x0)  # PIL's crop pads with black: clip to the canvas
        bottom, right = (
            box.shape[0] - max(0, y0 + ih + border - side),
            box.shape[1] - max(0, x0 + iw + border - side),
        )
        return cv2.resize(box[top:bottom, left:right], (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def _crop(cov: np.ndarray, origin: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The ink's bounding box (value > 0.002) and its origin in canvas coordinates."""
    x, y, w, h = ops.ink_box(cov, 0.002)
    if w == 0:
        return cov[:1, :1] * 0, origin
    return cov[y : y + h, x : x + w], (origin[0] + y, origin[1] + x)


def shift_tables(wobble: list[list[float]], side: int, wob: float, rng: np.random.Generator) -> np.ndarray:
    """Every copy's scan-line shifts, trunc(sin(p + i f / side) wob) + trunc(U(-wob/2, wob/2)) for
    the canvas rows i, drawn at once (rows without ink are never read); a zero past the last row."""
    f, p, _ = np.asarray(wobble).T
    wave = np.multiply.outer(f / side, np.arange(side, dtype=np.float64))
    wave += p[:, None]
    np.sin(wave, out=wave)
    wave *= wob
    jitter = rng.uniform(-wob / 2, wob / 2, wave.shape)
    tables = np.zeros((len(f), side + 1), np.float32)
    np.add(np.trunc(wave, out=wave), np.trunc(jitter, out=jitter), out=tables[:, :side], casting="same_kind")
    return tables


def wobbly_copy(ink, origin, side, angle, shift):
    """Rotate by ``angle`` about the canvas centre, shift each scan line of the rotated ink by
    ``shift[row]``, rotate back, sharpen: one bilinear remap of the ink's neighbourhood per copy.

    A rotation about the centre (cv2.getRotationMatrix2D) sends canvas point q to row
    v = -sin(a) (qx - c) + cos(a) (qy - c) + c of the rotated frame, and shifting that row by s
    before rotating back moves q's source by s (cos a, sin a); computing the copy that way samples
    the ink once where the site's code samples it twice (rotate, rotate back: a little less blur).
    ``ink`` is the ink's bounding box at ``origin`` (row, column) of the ``side`` x ``side`` canvas.
    """
    (oy, ox), (h, w) = origin, ink.shape
    a = math.radians(angle)
    cos, sin, c = math.cos(a), math.sin(a), side / 2.0
    # the copy's ink lies within the farthest shift (along the row: |s cos| across, |s sin| down), plus
    # a pixel for the bilinear footprint and one for the sharpen, of the ink's box
    far = float(np.abs(shift).max())
    mx, my = math.ceil(far * abs(cos)) + 2, math.ceil(far * abs(sin)) + 2
    qx = np.arange(ox - mx, ox + w + mx, dtype=np.float32)
    qy = np.arange(oy - my, oy + h + my, dtype=np.float32)
    # the rotated row of every pixel of the neighbourhood, rounded (floor of v + 1/2; negative rows
    # clip to row 0, as they would rounded); then its shift along the row, as the maps qx - s cos - ox
    # and qy - s sin - oy
    row = np.add(((qy - c) * cos)[:, None], (qx - c) * -sin + (c + 0.5)).astype(np.intp)
    map_x = np.take(shift * -cos, row, mode="clip")
    map_x += qx - ox
    map_y = np.take(shift * -sin, row, mode="clip")
    map_y += (qy - oy)[:, None]
    out = cv2.remap(ink, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    out = cv2.filter2D(out, -1, SHARPEN, borderType=cv2.BORDER_CONSTANT)
    np.clip(out, 0.0, 1.0, out=out)
    return _crop(out, (oy - my, ox - mx))


@register_generator("wikipedia_confirmedit_noise")
class WikipediaConfirmEditNoise(WikipediaConfirmEdit):
    def finish(self, cov: np.ndarray, latent: Latent, rng: np.random.Generator) -> np.ndarray:
        """text / 3 + coarse noise with a gradient, inverted; then the prior's white noise."""
        gh, gw = -(-HEIGHT // NOISE_BLOCK), -(-WIDTH // NOISE_BLOCK)
        coarse = rng.uniform(0, NOISE_CELL, (gh, gw)) + np.linspace(0, NOISE_GRADIENT, gw)[None, :]
        noise = cv2.resize(coarse.astype(np.float32), (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR)
        img = cv2.addWeighted(cov, -255.0 / 3.0, noise, -1.0, 255.0)
        return ops.to_uint8(ops.gauss_noise(img, latent.params.get("noise_sigma", 0.0), rng))
