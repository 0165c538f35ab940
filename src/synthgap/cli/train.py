"""``synthgap train | eval``: train a recognizer into a checkpoint folder, score a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import click

from synthgap.cli import cli
from synthgap.cli.generate import elastic_option, parse_overrides, set_option
from synthgap.errors import UsageError

real_option = click.option(
    "--real", type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of real labelled captchas (label = file name) instead of a style.",
)  # fmt: skip
# what an eval report repeats from the checkpoint's config, so it can be tabulated on its own
TRAINING_KEYS = ("style", "variant", "generator_version", "size", "input_hw", "seed", "steps", "wall_s",
                 "samples_seen", "samples_per_s", "batch_size", "lr", "precision", "real", "split",
                 "cache")  # fmt: skip
skip_look_option = click.option(
    "--skip-look", type=int, default=0, show_default=True,
    help="With --real: leave out the seeded look set of this many images (synthgap.realdata.look_split) "
    "and score the rest.",
)  # fmt: skip
look_seed_option = click.option(
    "--look-seed", type=int, default=0, show_default=True, help="Seed of the look set."
)
strict_option = click.option(
    "--strict", is_flag=True,
    help="With --real: an unreadable file or a label the model cannot spell is an error, not skipped.",
)  # fmt: skip


def parse_hw(ctx, param, value: str | None) -> tuple[int, int] | None:
    """'40x160' -> (40, 160); the model checks the sizes themselves."""
    if value is None:
        return None
    try:
        h, w = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected HEIGHTxWIDTH such as 40x160, got {value!r}") from None
    return h, w


@cli.command()
@click.option("--style", help="A style from `synthgap styles` (fresh synthetic samples every step).")
@elastic_option
@set_option
@real_option
@strict_option
@click.option("--split", type=float, default=0.9, show_default=True, help="With --real: training fraction.")
@click.option(
    "--real-val", type=float, default=0.0, show_default=True,
    help="With --real: validate on this seeded fraction of the training side (not trained on) "
    "instead of the held-out part, to make choices without looking at the held-out images.",
)  # fmt: skip
@click.option(
    "--model", "model_name", default="crnn_ctc", show_default=True, help="A model from `synthgap models`."
)
@click.option("--size", type=click.Choice(["cpu", "paper"]), default="cpu", show_default=True)
@click.option(
    "--input", "input_hw", callback=parse_hw, metavar="HxW",
    help="Input resolution, e.g. 40x160 (default: the size's, 32x128 for cpu, 50x200 for paper).",
)  # fmt: skip
@click.option("--steps", type=int, help="Training steps (batches).")
@click.option("--minutes", type=float, help="Train for this wall time instead of a step count.")
@click.option(
    "--plateau", is_flag=True,
    help="Train until validation stops improving (synthgap.models.training.Plateau); --steps and/or "
    "--minutes are then its cap.",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=int, help="Batch size (default: the model's, per size).")
@click.option("--lr", type=float, help="Adam learning rate (default: the model's, per size).")
@click.option(
    "--workers", type=int,
    help="Render processes (default on CPU: the split of the cores between render processes and torch "
    "threads that a short measurement finds fastest, recorded in the checkpoint; on GPU: all cores).",
)  # fmt: skip
@click.option(
    "--processes", type=int, default=1, show_default=True,
    help="Data-parallel CPU processes, each rendering its part of every batch and training on one "
    "thread, gradients averaged (on 2 cores at batch 256, 2 trained crnn_ctc 5-10 % faster than 1 render "
    "process + 1 torch thread; a run is then fixed by its seed and the process count).",
)  # fmt: skip
@click.option(
    "--cache", type=int, default=0, show_default=True,
    help="Bounded pool of N rendered samples, reused while workers refresh it (0: every sample fresh).",
)  # fmt: skip
@click.option(
    "--bf16", is_flag=True,
    help="Forward pass under bfloat16 autocast (weights stay float32): ~2x faster on CPUs with AMX.",
)  # fmt: skip
@click.option("--val-every", type=int, default=200, show_default=True, help="Validate every N steps.")
@click.option("--device", help="torch device (default: cuda when present, else cpu).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New checkpoint folder.")
def train(style, elastic, overrides, real, strict, split, real_val, model_name, size, input_hw, steps,
          minutes, plateau, seed, batch_size, lr, workers, processes, cache, bf16, val_every, device,
          out) -> None:  # fmt: skip
    """Train MODEL on STYLE (or a real folder) and write a checkpoint folder to OUT."""
    from synthgap.models.training import train as run_training

    if (batch_size is not None and batch_size < 1) or cache < 0 or (cache and cache < (batch_size or 1)):
        raise UsageError("batch-size must be >= 1 and cache 0 or >= batch-size", field="cache")
    budget = {"steps": steps, "minutes": minutes}
    if plateau:
        from synthgap.models.training import Plateau

        budget = {"plateau": Plateau(max_steps=steps, max_minutes=minutes)}
    elif (steps is None) == (minutes is None):
        raise UsageError(
            "give exactly one of --steps and --minutes (with --plateau: at least one)", field="steps"
        )
    path = run_training(
        out, model=model_name, size=size, input_hw=input_hw, style=style, elastic=elastic,
        overrides=parse_overrides(overrides), real=real, split=split, strict=strict, real_val=real_val,
        seed=seed, **budget, batch_size=batch_size, lr=lr, workers=workers, processes=processes, cache=cache,
        bf16=bf16, val_every=val_every, device=device,
    )  # fmt: skip
    config = json.loads((path / "config.json").read_text())
    click.echo(
        f"wrote {path}: {config['steps']} steps, {config['samples_seen']} samples in {config['wall_s']} s "
        f"({config['samples_per_s']} samples/s, stopped by {config['stop']}); validation "
        f"{json.dumps(config['val'])}"
    )


@cli.command()
def models() -> None:
    """List the model families."""
    from synthgap.models import list_models

    for name in list_models():
        click.echo(name)


def _check_style_fits(model, gen, ckpt: Path) -> None:
    """A checkpoint scores a style only if it can spell every text of it."""
    fold = (lambda s: s) if gen.case_sensitive else str.lower
    missing = set(fold(gen.config.charset)) - set(fold(model.charset))
    if missing:
        raise UsageError(
            f"checkpoint: {ckpt / 'config.json'} has charset {model.charset!r}, which lacks "
            f"{''.join(sorted(missing))!r} of style {gen.name!r}",
            field="checkpoint",
        )
    if gen.config.lengths[1] > model.max_len:
        raise UsageError(
            f"checkpoint: {ckpt / 'config.json'} reads at most {model.max_len} characters; "
            f"style {gen.name!r} has up to {gen.config.lengths[1]}",
            field="checkpoint",
        )


@cli.command(name="eval")
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--style", help="Score on N fresh samples of this style (same images as `generate --seed`).")
@elastic_option
@set_option
@click.option("-n", "n", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@real_option
@strict_option
@click.option(
    "--all", "use_all", is_flag=True,
    help="With --real on the checkpoint's own training folder: score all images, not just the held-out part.",
)  # fmt: skip
@skip_look_option
@look_seed_option
@click.option("--beam", type=int, default=0, show_default=True, help="crnn_ctc: beam width (0 = greedy).")
@click.option(
    "--prior", "prior_of", default="own", show_default=True,
    help="crnn_ctc: decode under a word-pair text prior: 'own' (the training style's, if it has one), "
    "'none', or a style's (e.g. wikipedia_confirmedit).",
)  # fmt: skip
@click.option(
    "--perturbation", help="With --style: an image or generative perturbation (synthgap perturbations)."
)
@click.option("--severity", type=int, help="The perturbation's severity, 1..5.")
@click.option("--no-timing", is_flag=True, help="Skip the breaking-time measurement.")
@click.option("--workers", type=int, default=1, show_default=True, help="Render processes.")
@click.option(
    "--threads", type=int, default=1, show_default=True,
    help="torch CPU threads (1: on 2 shared cores a second thread slowed batch-1 LSTM steps ~10x).",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(path_type=Path), help="Folder for the JSON/CSV (default CHECKPOINT/eval)."
)
def evaluate_cmd(
    checkpoint,
    style,
    elastic,
    overrides,
    n,
    seed,
    real,
    strict,
    use_all,
    skip_look,
    look_seed,
    beam,
    prior_of,
    perturbation,
    severity,
    no_timing,
    workers,
    threads,
    out,
):
    """Score CHECKPOINT: recognition rate, character accuracy, breaking time; writes JSON + CSV."""
    from synthgap.models.checkpoint import load_checkpoint
    from synthgap.models.evaluation import evaluate, write_report
    from synthgap.models.export import is_export, load_onnx
    from synthgap.models.lexicon import apply_prior
    from synthgap.testsets import Real, Synthetic

    if (style is None) == (real is None):
        raise UsageError("give exactly one of --style and --real", field="style")
    if (perturbation is None) != (severity is None):
        raise UsageError(
            "perturbation: give --perturbation NAME and --severity 1..5 together", field="perturbation"
        )
    import torch

    torch.set_num_threads(max(1, threads))
    model = load_onnx(checkpoint, max(1, threads)) if is_export(checkpoint) else load_checkpoint(checkpoint)
    meta = model.meta
    if beam:
        if not hasattr(model, "beam"):
            raise UsageError(f"beam: model {model.name} has no beam search", field="beam")
        model.beam = beam
    decoder = apply_prior(model, prior_of)
    if style is not None:
        if skip_look:
            raise UsageError("skip-look: only with --real", field="skip-look")
        spec = Synthetic(style, n, seed, elastic=elastic, overrides=parse_overrides(overrides),
                         perturbation=perturbation, severity=severity or 0)  # fmt: skip
        gen = spec.generator()
        _check_style_fits(model, gen, checkpoint)
        trained_on = meta.get("generator_version")
        if meta.get("style") == style and trained_on not in (None, gen.version):
            click.echo(f"note: {checkpoint} was trained on {style} version {trained_on}; these captchas are "
                       f"version {gen.version}", err=True)  # fmt: skip
    else:
        if perturbation is not None:
            raise UsageError("perturbation: only with --style", field="perturbation")
        own = meta.get("real") == str(real.resolve()) and not use_all  # its held-out part only
        heldout = (meta["split"], meta["seed"]) if own else None
        spec = Real.for_model(real, model, strict=strict, heldout=heldout, skip_look=skip_look,
                              look_seed=look_seed)  # fmt: skip
    test = spec.build(workers)
    result = evaluate(model, test.images, test.texts, test.case_sensitive, timing=not no_timing,
                      progress=True)  # fmt: skip
    rows = result.pop("predictions")
    tag = spec.name + (f"-prior={prior_of}" if prior_of != "own" else "")
    report = {
        "checkpoint": str(Path(checkpoint).resolve()),
        "model": model.name,
        "runtime": getattr(model, "runtime", "torch"),
        "beam": beam,
        "decoder": decoder,
        "training": {k: meta.get(k) for k in TRAINING_KEYS},
        **spec.record(),
        **result,
    }
    out = Path(out) if out else Path(checkpoint) / "eval"
    write_report(out, tag, report, rows)
    line = f"{tag}: recognition {result['recognition_rate']:.4f}, char accuracy {result['char_accuracy']:.4f}"
    if not no_timing:
        b256 = result["ms_per_captcha_batch256"]
        line += f", {result['ms_per_captcha_batch1']:.2f} ms/captcha at batch 1, " + (
            f"{b256:.3f} ms/captcha at batch 256" if b256 is not None else "batch 256 not timed (too slow)"
        )
    click.echo(line)
    click.echo(f"wrote {out / (tag + '.json')} and .csv")
