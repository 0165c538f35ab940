"""Real labelled captcha folders: one image per file, the label is the file name without suffix.

The one loader behind ``synthgap train/eval --real``, ``sheet --real``, ``eval-peer`` and the grid's
``[real]`` cells. Images are read as 8-bit gray and brought to 200x50 (the size every style
renders), so they stack into one array. Labels are lower-cased unless ``case_sensitive``; with a
``charset`` and/or ``lengths`` (the prior of a style: ``load_real(dir, **for_style("facebook"))``)
labels outside them are skipped like unreadable files: listed in one :class:`RealDataWarning`, or,
with ``strict=True``, a :class:`UsageError` naming the first such file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from synthgap.errors import UsageError
from synthgap.generators import HEIGHT, WIDTH

SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp"}


class RealDataWarning(UserWarning):
    """Some files of a real folder were skipped (unreadable, or label outside the prior)."""


@dataclass(frozen=True)
class RealSet:
    images: np.ndarray  # uint8 (n, 50, 200)
    labels: list[str]  # folded by the case rule
    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why)


def for_style(style: str) -> dict[str, Any]:
    """The keyword arguments of :func:`load_real` that hold a real set to a style's prior."""
    from synthgap.generators import create_generator

    gen = create_generator(style)
    return {"charset": gen.config.charset, "lengths": tuple(gen.config.lengths),
            "case_sensitive": gen.case_sensitive}  # fmt: skip


def _label_problem(label: str, allowed: set[str] | None, lengths: tuple[int, int] | None) -> str | None:
    if allowed is not None and not set(label) <= allowed:
        return f"label {label!r} has characters {''.join(sorted(set(label) - allowed))!r} outside the charset"
    if lengths is not None and not lengths[0] <= len(label) <= lengths[1]:
        return f"label {label!r} has length {len(label)}, outside {lengths[0]}..{lengths[1]}"
    return None


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("L")
        if im.size != (WIDTH, HEIGHT):
            im = im.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
        return np.asarray(im)


def read_image(path: str | Path) -> np.ndarray:
    """One image file as uint8 gray 50x200; a UsageError naming the file if it is not a readable image."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"image: {path} is not a file", field="image")
    try:
        return _read(path)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise UsageError(f"image: {path}: unreadable image ({e})", field="image") from None


def load_real(
    folder: str | Path,
    *,
    charset: str | None = None,
    lengths: tuple[int, int] | None = None,
    case_sensitive: bool = False,
    strict: bool = False,
) -> RealSet:
    """All usable images of ``folder`` (sorted by file name) and their labels.

    Files with an image suffix that cannot be read, or whose label breaks ``charset`` / ``lengths``
    (both compared after case folding), are skipped with one warning listing them; ``strict``
    makes the first of them a UsageError. No usable image at all is always a UsageError.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"real: {folder} is not a folder", field="real")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
    if not files:
        raise UsageError(f"real: no images ({', '.join(sorted(SUFFIXES))}) in {folder}", field="real")
    fold = (lambda s: s) if case_sensitive else str.lower
    allowed = None if charset is None else set(fold(charset))
    images, labels, kept, skipped = [], [], [], []
    for path in files:
        label = fold(path.stem)
        why = _label_problem(label, allowed, lengths)
        if why is None:
            try:
                images.append(_read(path))
            except (OSError, UnidentifiedImageError, ValueError) as e:
                why = f"unreadable image ({e})"
        if why is not None:
            if strict:
                raise UsageError(f"real: {path}: {why}", field="real")
            skipped.append((path, why))
            continue
        labels.append(label)
        kept.append(path)
    if not kept:
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        first, why = skipped[0]
        raise UsageError(f"real: no usable image in {folder}: {first}: {why}{more}", field="real")
    if skipped:
        listing = "; ".join(f"{p.name}: {why}" for p, why in skipped)
        warnings.warn(f"real: skipped {len(skipped)} of {len(files)} files in {folder}: {listing}",
                      RealDataWarning, stacklevel=2)  # fmt: skip
    return RealSet(np.stack(images), labels, kept, skipped)


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle cut into (train, held-out) index arrays; both sorted."""
    if not 0.0 < train_fraction < 1.0:
        raise UsageError(f"split: must be between 0 and 1, got {train_fraction}", field="split")
    order = np.random.default_rng([seed, 2]).permutation(n)
    cut = int(round(n * train_fraction))
    if cut in (0, n):
        raise UsageError(f"split: {train_fraction} of {n} images leaves one side empty", field="split")
    return np.sort(order[:cut]), np.sort(order[cut:])


def look_split(n: int, n_look: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(look, report) index arrays: a seeded ``n_look`` images that may be looked at while tuning a
    generator by eye, and the rest, on which the synthetic-to-real number is reported. A stream of
    its own (``[seed, 7]``), so it never coincides with a training split."""
    if not 0 < n_look < n:
        raise UsageError(f"look: must be between 1 and {n - 1} for {n} images, got {n_look}", field="look")
    order = np.random.default_rng([seed, 7]).permutation(n)
    return np.sort(order[:n_look]), np.sort(order[n_look:])
