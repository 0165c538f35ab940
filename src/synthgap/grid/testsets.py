"""The images a cell is scored on, made from its coordinates alone (for ``evaluate_cell``).

- ``clean``: ``test_size`` samples of the test style's plain variant, seeded by ``cell.test_seed``;
- image perturbations: that same clean set, perturbed with ``default_rng(cell.test_seed)``;
- generative perturbations: samples of the shifted prior (``perturbation.generator``);
- ``transfer``: the target style's clean set (``cell.test_style`` is the target);
- ``real``: every image in ``cell.real_path``, label = file stem (``test_size`` does not apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from synthgap.errors import UsageError
from synthgap.generators import HEIGHT, WIDTH, Latent, create_generator
from synthgap.grid.spec import CLEAN, REAL, TRANSFER, Cell, seed_of_test_set

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp"}


@dataclass(frozen=True)
class TestSet:
    __test__ = False  # not a pytest class

    images: np.ndarray  # uint8 (N, 50, 200)
    texts: list[str]
    latents: list[Latent] | None  # None for real images


def load_real(folder: str | Path) -> TestSet:
    """Real captchas: gray 200x50 (resized if needed), labelled by file name."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"real: no images in {folder}", field="real")
    images = np.empty((len(files), HEIGHT, WIDTH), np.uint8)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            im = im.convert("L")
            if im.size != (WIDTH, HEIGHT):
                im = im.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
            images[i] = np.asarray(im)
    return TestSet(images, [f.stem for f in files], None)


def make_test_set(cell: Cell) -> TestSet:
    from synthgap.perturbations import create_perturbation, perturbation_family

    if cell.perturbation == REAL:
        return load_real(cell.real_path)
    n, style = cell.test_size, cell.test_style
    if cell.perturbation in (CLEAN, TRANSFER):
        images, latents = create_generator(style).generate(n, cell.test_seed)
    else:
        p = create_perturbation(cell.perturbation, cell.severity)
        if perturbation_family(cell.perturbation) == "generative":
            images, latents = p.generator(style).generate(n, cell.test_seed)
        else:
            clean_seed = seed_of_test_set(cell.base_seed, style, CLEAN, 0)
            images, latents = create_generator(style).generate(n, clean_seed)
            images = p.apply(images, np.random.default_rng(cell.test_seed))
    return TestSet(images, [lat.text for lat in latents], latents)
