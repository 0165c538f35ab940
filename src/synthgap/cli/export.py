"""``synthgap export``: a checkpoint as an ONNX model (synthgap.models.export)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.errors import UsageError


@cli.command("export")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="New folder (default CHECKPOINT/onnx).")
@click.option("--style", help="Style of the check captchas (default: the checkpoint's training style).")
@click.option("-n", "--check-n", type=int, default=1000, show_default=True,
              help="Fresh captchas decoded by torch and onnxruntime to check the export.")  # fmt: skip
@click.option("--seed", type=int, default=100, show_default=True, help="Seed of the check captchas.")
def export_cmd(checkpoint: Path, out: Path | None, style: str | None, check_n: int, seed: int) -> None:
    """Write CHECKPOINT as model.onnx + config.json + export.json; `synthgap eval` takes the folder."""
    import torch

    from synthgap.generators import create_generator
    from synthgap.models.checkpoint import read_config
    from synthgap.models.export import export_onnx

    if check_n < 2:
        raise UsageError(f"check-n: must be >= 2, got {check_n}", field="check-n")
    config = read_config(checkpoint)
    style = style or config.get("style")
    if style is None:
        raise UsageError(f"style: {checkpoint} was not trained on a style; give --style", field="style")
    overrides = config.get("overrides", {}) if style == config.get("style") else {}
    gen = create_generator(style, elastic=config.get("variant") == "elastic", **overrides)
    torch.set_num_threads(1)
    images, _ = gen.generate(check_n, seed)
    record = export_onnx(checkpoint, out or Path(checkpoint) / "onnx", images)
    click.echo(json.dumps({"out": str(out or Path(checkpoint) / "onnx"), "check": record["check"]}))
