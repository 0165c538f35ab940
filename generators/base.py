"""The generator interface: a prior over latents and a deterministic renderer.

A style is a :class:`Generator` subclass that sets ``defaults`` (the prior knobs every style has,
see :class:`StyleConfig`), draws its own rendering parameters in ``draw_params`` and turns a latent
into an ink layer in ``render_ink``. The base class does the rest: text, font, size and kerning
draws, the elastic variant, noise, seeding, parallel generation and the provenance manifest.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from synthgap.errors import UsageError
from synthgap.fonts import FontFile, resolve_font
from synthgap.generators import ops
from synthgap.generators.glyphs import Glyph, glyph, paste

WIDTH, HEIGHT = 200, 50  # every style renders 200x50 gray, like the paper and all real sets


def _shown(value: Any) -> str:
    """A value as the user typed it (JSON), for error messages."""
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


@dataclass(frozen=True)
class StyleConfig:
    """Prior knobs shared by all styles; each may be overridden in ``create_generator``.

    ``kerning`` is the range of the glyph-gap parameter k (ink gap = 1 + k px); ``kerning_shift``
    is added to every draw, so ``kerning_shift=1`` makes every gap one pixel wider.
    ``elastic_alpha`` / ``elastic_sigma`` set the Simard field of the elastic variant.
    """

    charset: str
    lengths: tuple[int, int]
    fonts: tuple[str, ...]
    sizes: tuple[int, int]
    kerning: tuple[int, int]
    kerning_shift: int = 0
    noise_sigma: float = 0.0
    elastic_alpha: tuple[float, float] = (20.0, 40.0)
    elastic_sigma: float = 5.0
    char_weights: Mapping[str, float] | None = None

    def validate(self) -> None:
        def need(ok: bool, name: str, why: str) -> None:
            if not ok:
                raise UsageError(f"{name}: {why}", field=name)

        def is_int(v: Any) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return (is_int(v) or isinstance(v, float | np.floating)) and np.isfinite(v)

        # types first, so a wrong one is a one-line error rather than a traceback further down
        pairs = (("lengths", is_int, "integers"), ("sizes", is_int, "integers"),
                 ("kerning", is_int, "integers"), ("elastic_alpha", is_num, "numbers"))  # fmt: skip
        for name, check, what in pairs:
            v = getattr(self, name)
            need(isinstance(v, tuple) and len(v) == 2 and all(map(check, v)), name,
                 f"must be two {what} [low, high], got {_shown(v)}")  # fmt: skip
        need(isinstance(self.fonts, tuple) and all(isinstance(f, str) and f for f in self.fonts), "fonts",
             f"must be a list of font names, got {_shown(self.fonts)}")  # fmt: skip
        need(
            is_int(self.kerning_shift),
            "kerning_shift",
            f"must be an integer, got {_shown(self.kerning_shift)}",
        )
        need(is_num(self.noise_sigma), "noise_sigma", f"must be a number, got {_shown(self.noise_sigma)}")
        need(
            is_num(self.elastic_sigma), "elastic_sigma", f"must be a number, got {_shown(self.elastic_sigma)}"
        )
        need(self.char_weights is None or (isinstance(self.char_weights, Mapping)
             and all(is_num(w) for w in self.char_weights.values())), "char_weights",
             f"must map characters to numbers, got {_shown(self.char_weights)}")  # fmt: skip
        need(isinstance(self.charset, str) and len(self.charset) > 0, "charset", "must be non-empty")
        need(len(set(self.charset)) == len(self.charset), "charset", "has repeated characters")
        for name in ("lengths", "sizes", "kerning", "elastic_alpha"):
            lo, hi = getattr(self, name)
            need(lo <= hi, name, f"empty range {lo}..{hi}")
        need(self.lengths[0] >= 1, "lengths", "the shortest text must have at least 1 character")
        need(self.sizes[0] >= 4, "sizes", "font sizes below 4 px render nothing")
        need(len(self.fonts) > 0, "fonts", "must name at least one font")
        need(self.noise_sigma >= 0, "noise_sigma", "must be >= 0")
        need(self.elastic_sigma > 0, "elastic_sigma", "must be > 0")
        if self.char_weights is not None:
            unknown = set(self.char_weights) - set(self.charset)
            need(not unknown, "char_weights", f"characters outside the charset: {sorted(unknown)}")
            need(all(w >= 0 for w in self.char_weights.values()), "char_weights", "must be >= 0")


@dataclass(frozen=True)
class Latent:
    """Everything drawn for one captcha: enough to re-render it exactly (see ``Generator.render``).

    ``params`` holds the style's own draws (offsets, distortion parameters, clutter geometry);
    ``seed`` seeds every per-pixel field (elastic fields, noise).
    """

    style: str
    elastic: bool
    text: str
    font: str
    size: int
    kerning: int
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def L(self) -> int:  # noqa: N802 - the paper's name for the number of letters
        return len(self.text)

    def value(self, name: str) -> Any:
        """The value of a named latent (``L``, ``font``, ``size``, ``kerning`` or a param)."""
        if name == "L":
            return self.L
        if name in ("font", "size", "kerning", "text"):
            return getattr(self, name)
        return self.params[name]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Latent:
        return cls(**json.loads(text))


_PLAIN = (int, float, str, bool, type(None))


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays -> plain Python, so latents serialise and compare exactly."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    # plain items inline: a call per item was a third of the prior's cost for the per-glyph lists
    if isinstance(value, dict):
        return {k: v if isinstance(v, _PLAIN) else _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if isinstance(v, _PLAIN) else _jsonable(v) for v in value]
    return value


def int_ranges(ranges: Sequence[Sequence[int]]) -> np.ndarray:
    """Inclusive ``(lo, hi)`` ranges as the (n, 2) array ``uniform_ints`` takes (build it once)."""
    return np.asarray(ranges, dtype=np.int64).reshape(-1, 2)


def uniform_ints(rng: np.random.Generator, ranges: Sequence[Sequence[int]] | np.ndarray) -> list[int]:
    """One integer from each inclusive range ``(lo, hi)``, from a single vectorised draw.

    One call instead of one ``rng.integers`` per parameter: per-call overhead dominated the prior.
    Pass ``int_ranges(...)`` built once to skip the conversion.
    """
    lo_hi = int_ranges(ranges)
    span = lo_hi[:, 1] - lo_hi[:, 0] + 1
    return ((rng.random(len(lo_hi)) * span).astype(np.int64) + lo_hi[:, 0]).tolist()  # floor: u*span >= 0


class Generator:
    """Base class of every style. Subclasses set ``defaults`` and implement two methods."""

    name: ClassVar[str]
    defaults: ClassVar[StyleConfig]
    case_sensitive: ClassVar[bool] = False
    #: raised whenever the bytes rendered for a (seed, index) change, so zoo entries trained on the
    #: old samples show as stale; tests/generators/test_generator_versions.py pins a digest per version
    version: ClassVar[int] = 1
    #: True where ``render_ink`` applies the elastic variant's Simard field itself, added to its own
    #: displacement of the text (one resampling instead of two, clutter drawn after it undistorted)
    elastic_in_ink: ClassVar[bool] = False
    #: extra discrete latents a proposal should predict, name -> values (beyond L/font/size/kerning)
    extra_discrete: ClassVar[dict[str, tuple[Any, ...]]] = {}

    def __init__(self, elastic: bool = False, **overrides: Any) -> None:
        known = {f.name for f in dataclasses.fields(StyleConfig)}
        for key in overrides:
            if key not in known:
                raise UsageError(
                    f"unknown override {key!r} for style {self.name!r}; known: {', '.join(sorted(known))}",
                    field=key,
                )
        for key in ("lengths", "sizes", "kerning", "elastic_alpha", "fonts"):
            if isinstance(overrides.get(key), list | tuple):
                overrides[key] = tuple(overrides[key])
        self.elastic = bool(elastic)
        self.config = dataclasses.replace(self.defaults, **overrides)
        self.config.validate()
        self.font_files: dict[str, FontFile] = {k: resolve_font(k) for k in self.config.fonts}
        weights = self.config.char_weights or {}
        p = np.array([float(weights.get(c, 1.0)) for c in self.config.charset])
        if p.sum() <= 0:
            raise UsageError("char_weights: all weights are zero", field="char_weights")
        self._char_cdf = np.cumsum(p[:-1] / p.sum())
        self._chars = np.array(list(self.config.charset))
        c = self.config
        self._prior_ranges = int_ranges([c.lengths, (0, len(c.fonts) - 1), c.sizes, c.kerning])

    # -- what a style implements -------------------------------------------------------------
    def draw_params(self, rng: np.random.Generator, glyphs: list[Glyph]) -> dict[str, Any]:
        """Draw the style's own rendering parameters (offsets, distortions, clutter)."""
        raise NotImplementedError

    def layout(self, latent: Latent, glyphs: list[Glyph]) -> tuple[list[int], list[int]]:
        """Ink-box left edge and baseline of every glyph (before any distortion)."""
        raise NotImplementedError

    def render_ink(self, latent: Latent, rng: np.random.Generator) -> np.ndarray:
        """Latent -> ink coverage (float32 HxW in [0,1]) after the style's whole pipeline."""
        raise NotImplementedError

    def shape_glyphs(self, latent: Latent, glyphs: list[Glyph]) -> list[Glyph]:
        """Per-glyph changes before layout (rotation, shear, hollow); none by default."""
        return glyphs

    def background(self, latent: Latent) -> np.ndarray | float:
        """Background gray level or HxW array (white by default)."""
        return 255.0

    def draw_text(self, rng: np.random.Generator, n: int) -> str:
        """The text of a captcha of ``n`` characters: independent draws from the charset (by
        ``char_weights``). A style with another language model (words) overrides it."""
        return "".join(self._chars[self._char_cdf.searchsorted(rng.random(n), side="right")].tolist())

    def text_prior(self) -> dict[str, Any] | None:
        """What a breaker may use of the text prior when decoding (recorded in its checkpoint):
        None for independent letters; a style of word pairs describes its word list."""
        return None

    def finish(self, cov: np.ndarray, latent: Latent, rng: np.random.Generator) -> np.ndarray:
        """Ink coverage (after the elastic field) -> uint8 image: dark ink on ``background``, plus
        the prior's white noise (``noise_sigma``)."""
        return ops.gray(cov, self.background(latent), latent.params.get("noise_sigma", 0.0), rng)

    # -- the prior --------------------------------------------------------------------------
    @property
    def variant(self) -> str:
        return "elastic" if self.elastic else "plain"

    def discrete_latents(self) -> dict[str, tuple[Any, ...]]:
        """Discrete latents a proposal predicts, with their support, in prediction order."""
        c = self.config
        k0, k1 = c.kerning[0] + c.kerning_shift, c.kerning[1] + c.kerning_shift
        return {
            "L": tuple(range(c.lengths[0], c.lengths[1] + 1)),
            "font": tuple(c.fonts),
            "size": tuple(range(c.sizes[0], c.sizes[1] + 1)),
            "kerning": tuple(range(k0, k1 + 1)),
            **self.extra_discrete,
        }

    def glyphs(self, latent: Latent) -> list[Glyph]:
        """The latent's glyphs as they are laid out (after ``shape_glyphs``)."""
        path = self.font_files[latent.font].path
        return self.shape_glyphs(latent, [glyph(path, latent.size, ch) for ch in latent.text])

    def place_text(self, latent: Latent) -> np.ndarray:
        """The undistorted ink layer: every glyph pasted where ``layout`` puts it."""
        cov = np.zeros((HEIGHT, WIDTH), np.float32)
        glyphs = self.glyphs(latent)
        lefts, baselines = self.layout(latent, glyphs)
        for g, x, b in zip(glyphs, lefts, baselines, strict=True):
            paste(cov, g, x, b)
        return cov

    def sample_latent(
        self,
        rng: np.random.Generator,
        *,
        text: str | None = None,
        font: str | None = None,
        size: int | None = None,
        kerning: int | None = None,
    ) -> Latent:
        """A draw from the prior; any of text/font/size/kerning given are fixed instead of drawn.

        Fixing draws the rest from the prior conditioned on the fixed values: the style's params
        are drawn for the fixed glyphs (some are per glyph, sized by the length). The random
        stream is consumed the same way either way, so fixing nothing gives the usual sample.
        ``kerning`` is the shifted value, as in ``discrete_latents()``.
        """
        c = self.config
        n, font_index, drawn_size, drawn_kerning = uniform_ints(rng, self._prior_ranges)
        drawn_text = self.draw_text(rng, n)
        text = drawn_text if text is None else text
        font = c.fonts[font_index] if font is None else font
        size = drawn_size if size is None else int(size)
        kerning = drawn_kerning + c.kerning_shift if kerning is None else int(kerning)
        if font not in self.font_files:
            self.font_files[font] = resolve_font(font)
        path = self.font_files[font].path
        params = self.draw_params(rng, [glyph(path, size, ch) for ch in text])
        params["noise_sigma"] = float(c.noise_sigma)
        if self.elastic:
            lo, hi = c.elastic_alpha
            params["elastic_alpha"] = lo + (hi - lo) * rng.random()
            params["elastic_sigma"] = float(c.elastic_sigma)
        seed = int(rng.bit_generator.random_raw() >> 1)  # uniform on 0..2**63-1
        return Latent(self.name, self.elastic, text, font, size, kerning, _jsonable(params), seed)

    # -- rendering --------------------------------------------------------------------------
    def render(self, latent: Latent) -> np.ndarray:
        """Latent -> uint8 HxW image. Deterministic: the same latent gives the same bytes."""
        if latent.font not in self.font_files:
            self.font_files[latent.font] = resolve_font(latent.font)
        rng = np.random.default_rng(latent.seed)
        cov = self.render_ink(latent, rng)
        if latent.elastic and not self.elastic_in_ink:
            cov = ops.elastic_simard(cov, latent.params["elastic_alpha"], latent.params["elastic_sigma"], rng)
        return self.finish(cov, latent, rng)

    def sample(self, seed: int, index: int) -> tuple[np.ndarray, Latent]:
        """Sample number ``index`` of the stream ``seed``: its randomness depends on both only."""
        latent = self.sample_latent(np.random.default_rng([seed, index]))
        return self.render(latent), latent

    def _generate_range(self, seed: int, start: int, stop: int):
        images = np.empty((stop - start, HEIGHT, WIDTH), np.uint8)
        latents = []
        for j, i in enumerate(range(start, stop)):
            images[j], latent = self.sample(seed, i)
            latents.append(latent)
        return images, latents

    def generate(
        self, n: int, seed: int, *, start: int = 0, workers: int = 1
    ) -> tuple[np.ndarray, list[Latent]]:
        """Samples ``start .. start+n-1`` of stream ``seed``: identical bytes for any ``workers``."""
        if n < 1:
            raise UsageError(f"n: must be >= 1, got {n}", field="n")
        if workers <= 1 or n < 64:
            return self._generate_range(seed, start, start + n)
        bounds = np.linspace(start, start + n, workers * 4 + 1).astype(int)
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(self._generate_range, [seed] * (len(bounds) - 1), bounds[:-1], bounds[1:]))
        return np.concatenate([p[0] for p in parts]), [lat for p in parts for lat in p[1]]

    def warm_caches(self) -> None:
        """Fill the caches a long run has filled, so a timing sees its steady speed: every (font,
        size, character) of the prior rasterised, then 300 images (the style's own caches). 300
        images alone left most of facebook_look's 1652 glyph rasters to the timed calls."""
        for path, size, char in self.prior_glyphs():
            glyph(path, size, char)
        self.generate(300, seed=0)

    def prior_glyphs(self):
        """(font file, size, character) of every glyph the prior can draw."""
        c = self.config
        for key in c.fonts:
            for size in range(c.sizes[0], c.sizes[1] + 1):
                for char in c.charset:
                    yield self.font_files[key].path, size, char

    def fingerprint(self) -> dict[str, Any]:
        """What a trained model depends on: style, variant, version, the prior, the font files."""
        return {
            "style": self.name,
            "variant": self.variant,
            "version": self.version,
            "config": _jsonable(dataclasses.asdict(self.config)),
            "fonts": {f.key: f.sha256 for f in self.font_files.values()},
        }

    def manifest(self) -> dict[str, Any]:
        """Provenance of a generated set: style, variant, prior, font files with hashes, versions."""
        from synthgap import versions

        return {
            "style": self.name,
            "variant": self.variant,
            "config": _jsonable(dataclasses.asdict(self.config)),
            "discrete_latents": _jsonable(self.discrete_latents()),
            "fonts": [dataclasses.asdict(f) for f in self.font_files.values()],
            "versions": versions(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
        }
