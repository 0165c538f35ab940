"""``synthgap styles | generate | sheet``: look at and export the synthetic data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
from PIL import Image

from synthgap.cli import cli
from synthgap.errors import UsageError
from synthgap.generators import create_generator, list_generators
from synthgap.io import atomic_dir, atomic_write_bytes


def parse_overrides(pairs: tuple[str, ...]) -> dict:
    """``key=value`` pairs, values as JSON where they parse (``kerning_shift=1``, ``lengths=[5,5]``)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set: expected key=value, got {pair!r}", field="set")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


style_option = click.option("--style", required=True, help="A style from `synthgap styles`.")
elastic_option = click.option("--elastic", is_flag=True, help="The elastic (Simard) variant.")
set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Prior override, e.g. --set kerning_shift=1 --set noise_sigma=5 (repeatable).",
)  # fmt: skip


@cli.command()
def styles() -> None:
    """List the styles: charset, length range, font sizes, variants."""
    click.echo(f"{'style':<10} {'L':>6} {'size':>6} {'|charset|':>9}  variants        charset")
    for name in list_generators():
        c = create_generator(name).config
        click.echo(
            f"{name:<10} {c.lengths[0]:>3}-{c.lengths[1]:<2} {c.sizes[0]:>3}-{c.sizes[1]:<2} "
            f"{len(c.charset):>9}  plain, elastic  {c.charset}"
        )


@cli.command()
@style_option
@elastic_option
@click.option("-n", "n", type=int, required=True, help="Number of images.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="New folder.")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@set_option
def generate(style, elastic, n, seed, out, workers, overrides) -> None:
    """Write N PNGs, labels.csv (file, text, latent JSON) and manifest.json to OUT."""
    gen = create_generator(style, elastic=elastic, **parse_overrides(overrides))
    if n < 1:
        raise UsageError(f"n: must be >= 1, got {n}", field="n")
    with atomic_dir(out) as tmp:
        images, latents = gen.generate(n, seed, workers=workers)
        with open(tmp / "labels.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "text", "latent"])
            for i, (img, lat) in enumerate(zip(images, latents, strict=True)):
                name = f"{i:06d}.png"
                Image.fromarray(img).save(tmp / name)
                w.writerow([name, lat.text, lat.to_json()])
        manifest = {"n": n, "seed": seed, **gen.manifest()}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    click.echo(f"wrote {n} images of {style} ({gen.variant}) to {out}")


@cli.command()
@style_option
@elastic_option
@click.option(
    "--real",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of real captchas (label = file name) drawn beside the synthetic ones.",
)
@click.option(
    "--look",
    type=int,
    default=0,
    show_default=True,
    help="Draw the real tiles from the seeded look set of this many images (0: the first files).",
)
@click.option("-n", "n", type=int, default=8, show_default=True, help="Rows.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG file to write.")
@set_option
def sheet(style, elastic, real, look, n, seed, out, overrides) -> None:
    """Contact sheet: synthetic samples, with real ones beside them when --real is given."""
    from synthgap.sheets import contact_sheet, real_tiles

    gen = create_generator(style, elastic=elastic, **parse_overrides(overrides))
    images, latents = gen.generate(n, seed)
    columns = [
        (
            f"synthetic {style} ({gen.variant}), seed {seed}",
            [(img, lat.text) for img, lat in zip(images, latents, strict=True)],
        )
    ]
    if real is not None:
        columns.append((f"real: {real.name}", real_tiles(real, n, look)))
    atomic_write_bytes(out, contact_sheet(columns))
    click.echo(f"wrote {out}")
