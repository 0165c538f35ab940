"""The work of a grid cell, done by the models layer: train a run, score a cell's test set.

Module-level functions so that every executor (process pool, dask) can pickle them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthgap.grid.spec import CLEAN, REAL, Cell, Run


def train_run(run: Run, out_dir: Path) -> Path:
    """Train ``run`` on fresh samples of its style and variant; the checkpoint goes in out_dir."""
    from synthgap.models.training import train

    return train(
        Path(out_dir) / "checkpoint", style=run.style, elastic=run.elastic, model=run.model, size=run.size,
        steps=run.budget.steps, minutes=run.budget.minutes, seed=run.train_seed, progress=False,
    )  # fmt: skip


def case_rule(cell: Cell) -> bool:
    """Case-sensitive scoring only when both the training and the test style are case-sensitive."""
    from synthgap.generators import create_generator

    return (
        create_generator(cell.run.style).case_sensitive and create_generator(cell.test_style).case_sensitive
    )


def evaluate_cell(cell: Cell, checkpoint: Path) -> dict[str, Any]:
    """Recognition and character accuracy on the cell's test set; breaking time on clean cells only
    (it is a property of the model, and timing every cell would triple the grid's cost)."""
    from synthgap.grid.testsets import make_test_set
    from synthgap.models.checkpoint import load_checkpoint
    from synthgap.models.evaluation import evaluate

    model = load_checkpoint(checkpoint)
    test = make_test_set(cell)
    scores = evaluate(model, test.images, test.texts, case_rule(cell), timing=cell.perturbation == CLEAN)
    keep = ("n", "recognition_rate", "char_accuracy", "ms_per_captcha_batch1", "ms_per_captcha_batch256")
    metrics = {k: scores[k] for k in keep if k in scores}
    if cell.perturbation == REAL:
        metrics["real_path"] = str(cell.real_path)
    return metrics
