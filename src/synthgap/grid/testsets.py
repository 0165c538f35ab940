"""The test set a cell is scored on, from its coordinates alone (for ``evaluate_cell``), as a
:mod:`synthgap.testsets` spec:

- ``clean``: ``test_size`` samples of the test style's plain variant, seeded by ``cell.test_seed``;
- image perturbations: the clean set of the cell's style, perturbed with ``default_rng(cell.test_seed)``;
- generative perturbations: samples of the shifted prior;
- ``transfer``: the target style's clean set (``cell.test_style`` is the target);
- ``real``: every image in ``cell.real_path`` whose label (file stem, folded by the style's case
  rule) fits the style's charset and length prior (the others are skipped with a warning and
  counted in ``TestSet.skipped``), less the seeded look set where the grid says ``skip_look``;
  ``test_size`` does not apply.
"""

from __future__ import annotations

from synthgap.grid.spec import CLEAN, REAL, TRANSFER, Cell, seed_of_test_set
from synthgap.testsets import Real, Synthetic, TestSet


def spec_of_cell(cell: Cell) -> Synthetic | Real:
    if cell.perturbation == REAL:
        return Real.for_style(cell.real_path, cell.test_style, skip_look=cell.real_skip_look)
    n, style = cell.test_size, cell.test_style
    if cell.perturbation in (CLEAN, TRANSFER):
        return Synthetic(style, n, cell.test_seed)
    clean_seed = seed_of_test_set(cell.base_seed, style, CLEAN, 0)
    return Synthetic(style, n, cell.test_seed, perturbation=cell.perturbation, severity=cell.severity,
                     clean_seed=clean_seed)  # fmt: skip


def make_test_set(cell: Cell) -> TestSet:
    return spec_of_cell(cell).build()
