"""The images a cell is scored on, made from its coordinates alone (for ``evaluate_cell``).

- ``clean``: ``test_size`` samples of the test style's plain variant, seeded by ``cell.test_seed``;
- image perturbations: that same clean set, perturbed with ``default_rng(cell.test_seed)``;
- generative perturbations: samples of the shifted prior (``perturbation.generator``);
- ``transfer``: the target style's clean set (``cell.test_style`` is the target);
- ``real``: every image in ``cell.real_path`` whose label (file stem, folded by the style's case
  rule) fits the style's charset and length prior (``synthgap.realdata.load_real``; the others are
  skipped with a warning and counted in ``TestSet.skipped``), less the seeded look set where the
  grid says ``skip_look``; ``test_size`` does not apply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthgap.generators import Latent, create_generator
from synthgap.grid.spec import CLEAN, REAL, TRANSFER, Cell, seed_of_test_set


@dataclass(frozen=True)
class TestSet:
    __test__ = False  # not a pytest class

    images: np.ndarray  # uint8 (N, 50, 200)
    texts: list[str]
    latents: list[Latent] | None  # None for real images
    skipped: int = 0  # real files left out (unreadable, or label outside the style's prior)


def make_test_set(cell: Cell) -> TestSet:
    from synthgap.perturbations import create_perturbation, perturbation_family

    if cell.perturbation == REAL:
        from synthgap.realdata import for_style, load_real, look_split

        real = load_real(cell.real_path, **for_style(cell.test_style))
        images, labels = real.images, real.labels
        if cell.real_skip_look:  # only the images outside the seeded look set are scored
            _, rest = look_split(len(labels), cell.real_skip_look)
            images, labels = images[rest], [labels[i] for i in rest]
        return TestSet(images, labels, None, len(real.skipped))
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
