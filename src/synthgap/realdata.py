"""Real labelled captcha folders: one image per file, the label is the file name without suffix.

Images are read as 8-bit gray and brought to 200x50 (the size every style renders), so they stack
into one array. Anything unusable stops the run with a :class:`UsageError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from synthgap.errors import UsageError
from synthgap.generators import HEIGHT, WIDTH

SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp"}


def load_real_folder(
    folder: Path, charset: str | None = None, case_sensitive: bool = False
) -> tuple[np.ndarray, list[str], list[Path]]:
    """All images of ``folder`` (sorted by name) -> uint8 (n, 50, 200), labels, files.

    With ``charset``, every label character must be in it (compared lower-cased unless
    ``case_sensitive``); labels are returned as written in the file name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"real: {folder} is not a folder", field="real")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    if not files:
        raise UsageError(f"real: no images ({', '.join(sorted(SUFFIXES))}) in {folder}", field="real")
    allowed = None
    if charset is not None:
        allowed = set(charset) if case_sensitive else set(charset.lower())
    images = np.empty((len(files), HEIGHT, WIDTH), np.uint8)
    for i, path in enumerate(files):
        label = path.stem if case_sensitive else path.stem.lower()
        if allowed is not None and not set(label) <= allowed:
            bad = "".join(sorted(set(label) - allowed))
            raise UsageError(f"real: {path}: label {path.stem!r} has characters {bad!r} outside the charset")
        try:
            with Image.open(path) as im:
                im = im.convert("L")
                if im.size != (WIDTH, HEIGHT):
                    im = im.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
                images[i] = np.asarray(im)
        except (OSError, UnidentifiedImageError, ValueError) as e:
            raise UsageError(f"real: {path}: unreadable image ({e})", field="real") from None
    return images, [p.stem for p in files], files


def split_indices(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle cut into (train, held-out) index arrays; both sorted."""
    if not 0.0 < train_fraction < 1.0:
        raise UsageError(f"split: must be between 0 and 1, got {train_fraction}", field="split")
    order = np.random.default_rng([seed, 2]).permutation(n)
    cut = int(round(n * train_fraction))
    if cut in (0, n):
        raise UsageError(f"split: {train_fraction} of {n} images leaves one side empty", field="split")
    return np.sort(order[:cut]), np.sort(order[cut:])
