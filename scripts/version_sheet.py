"""Before/after contact sheet of a generator version change: the same (seed, index) samples rendered
by a style's module as it was at a git revision and as it is now, side by side.

A version bump changes the bytes of every sample (the random draws may be consumed differently), so
the sheet shows whether the look, not the pixels, stayed the same; ``--time`` also times both
versions' ``generate`` (100 images, best of 7 rounds taken in turn, one core). Run from the
repository root:

    .venv/bin/python scripts/version_sheet.py wikipedia_confirmedit 14a6810 \\
        --out results/sheets/wikipedia_confirmedit-v2-v3.png [--elastic] [-n 8] [--seed 0] [--stats 300] \\
        [--time]

Only the style's own file is taken from the revision; the shared modules (ops, glyphs, base) are
today's, so the sheet isolates a change made in that file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

import synthgap.generators as generators
from synthgap.generators import create_generator
from synthgap.io import atomic_write_bytes
from synthgap.sheets import contact_sheet


def generator_at(style: str, rev: str, elastic: bool = False) -> generators.Generator:
    """The style as its module was at git revision ``rev`` (not registered, so today's stays)."""
    module = type(create_generator(style)).__module__
    path = Path(*module.split(".")[1:]).with_suffix(".py")  # synthgap.generators.x -> generators/x.py
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=True
        ).stdout
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"version_sheet: git show {rev}:{path}: {e.stderr.strip()}") from None
    classes: dict[str, type] = {}

    def register(name, **_tags):
        def keep(cls):
            cls.name = name
            classes[name] = cls
            return cls

        return keep

    old = types.ModuleType(f"{module}@{rev}")
    old.__file__ = str(path)
    try:
        with mock.patch.object(generators, "register_generator", register):
            exec(compile(source, f"{path}@{rev}", "exec"), old.__dict__)
    except Exception as e:  # the old file against today's shared modules: say which and why
        raise SystemExit(
            f"version_sheet: {path} at {rev} does not load beside today's modules: {e!r}"
        ) from None
    if style not in classes:
        raise SystemExit(f"version_sheet: {path} at {rev} registers no style {style!r}")
    return classes[style](elastic=elastic)


def ms_per_image(gens: list[generators.Generator], rounds: int = 7, n: int = 100) -> list[float]:
    """Best ms per image of ``generate(n)`` for each generator, rounds taken in turn (a slow spell of
    the machine hits both), after a warm-up that fills the glyph caches."""
    cv2.setNumThreads(1)
    best = [float("inf")] * len(gens)
    for gen in gens:
        gen.generate(300, seed=0)
    for r in range(rounds):
        for i, gen in enumerate(gens):
            t = time.perf_counter()
            gen.generate(n, seed=1, start=n * r)
            best[i] = min(best[i], (time.perf_counter() - t) * 1000 / n)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("style")
    ap.add_argument("rev", help="git revision of the 'before' column (e.g. the commit before the bump)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--elastic", action="store_true")
    ap.add_argument("-n", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stats", type=int, default=300, help="samples behind the printed pixel statistics")
    ap.add_argument("--time", action="store_true", help="also time both versions' generate")
    args = ap.parse_args(argv)
    before = generator_at(args.style, args.rev, args.elastic)
    after = create_generator(args.style, elastic=args.elastic)
    columns = []
    for gen, where in ((before, args.rev), (after, "now")):
        try:
            images, latents = gen.generate(max(args.n, args.stats), seed=args.seed)
        except Exception as e:  # an old file may call what today's shared modules no longer have
            raise SystemExit(f"version_sheet: {args.style} at {where} fails to render: {e!r}") from None
        title = f"{args.style} ({gen.variant}) version {gen.version}, {where}, seed {args.seed}"
        columns.append(
            (title, [(img, lat.text) for img, lat in zip(images[: args.n], latents, strict=False)])
        )
        ink, white = np.mean(images < 128), np.mean(images >= 250)
        print(f"{title}; over {len(images)} samples: ink (gray < 128) {ink:.4f} of the pixels, "
              f"white (>= 250) {white:.4f}, mean gray {images.mean():.2f}")  # fmt: skip
    atomic_write_bytes(args.out, contact_sheet(columns))
    print(f"wrote {args.out}")
    if args.time:
        old_ms, new_ms = ms_per_image([before, after])
        print(f"generate: {old_ms:.3f} ms per image at {args.rev} (version {before.version}), "
              f"{new_ms:.3f} now (version {after.version}): {new_ms / old_ms:.2f} x")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
