"""The work of a grid cell, done by the models layer: train a run, score a cell's test set.

Clean and real cells also store ``correct_bits``: one character per test captcha, "1" where the
whole string was right, in test-set order (real: sorted file names), so ``synthgap gap`` can
bootstrap intervals from the cells table alone; real cells store ``real_skipped``, the files the
real loader left out.

Module-level functions so that every executor (process pool, dask) can pickle them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthgap.grid.spec import CLEAN, REAL, Cell, Run


def train_run(run: Run, out_dir: Path) -> Path:
    """Train ``run`` on fresh samples of its style and variant; the checkpoint goes in out_dir.

    A peer row (``peer:NAME``) is not trained: its "checkpoint" is peer.json, the peer's config
    with the style's charset it reads with."""
    from synthgap.models.training import train
    from synthgap.peers import create_peer, peer_name

    if peer_name(run.model) is not None:
        from synthgap.generators import create_generator
        from synthgap.io import atomic_write_bytes

        peer = create_peer(peer_name(run.model), charset=create_generator(run.style).config.charset)
        path = Path(out_dir) / "peer.json"
        atomic_write_bytes(path, (json.dumps(peer.config(), indent=1) + "\n").encode())
        return path

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


def load_model(checkpoint: Path):
    """A trained checkpoint folder, or a peer from the peer.json a peer row's train_run wrote."""
    from synthgap.models.checkpoint import load_checkpoint
    from synthgap.peers import create_peer

    checkpoint = Path(checkpoint)
    if checkpoint.name == "peer.json":
        config = json.loads(checkpoint.read_text())
        return create_peer(config["peer"], charset=config["charset"])
    return load_checkpoint(checkpoint)


def evaluate_cell(cell: Cell, checkpoint: Path) -> dict[str, Any]:
    """Recognition and character accuracy on the cell's test set; breaking time on clean cells only
    (it is a property of the model, and timing every cell would triple the grid's cost)."""
    from synthgap.grid.testsets import make_test_set
    from synthgap.models.evaluation import evaluate

    model = load_model(checkpoint)
    test = make_test_set(cell)
    scores = evaluate(model, test.images, test.texts, case_rule(cell), timing=cell.perturbation == CLEAN)
    keep = ("n", "recognition_rate", "char_accuracy", "ms_per_captcha_batch1", "ms_per_captcha_batch256")
    metrics = {k: scores[k] for k in keep if k in scores}
    if cell.perturbation == REAL:
        metrics["real_path"] = str(cell.real_path)
        metrics["real_skipped"] = test.skipped
    if cell.perturbation in (CLEAN, REAL):  # per-captcha outcomes, for `synthgap gap` intervals
        metrics["correct_bits"] = "".join("1" if r["correct"] else "0" for r in scores["predictions"])
    return metrics
