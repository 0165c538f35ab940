"""Where the time of ``generate`` goes, stage by stage, for each style and variant (one core).

Every function of the generator modules (``ops``, ``glyphs``, ``base`` and the styles' own
helpers, wherever a module imported them), numpy's ``default_rng`` and the generator's own steps
(the prior, glyph shaping and placement, the style's ``render_ink``, ``finish``, the generate loop)
are wrapped by a timer that subtracts the time of the wrapped calls inside it, so each stage's
figure is its own code only and the stages add up to the wrapped total. The wrappers cost some
microseconds an image: the table shows the plain total beside the wrapped one. Run from the repository root:

    .venv/bin/python scripts/profile_generation.py [STYLE ...] [--n 300] [--seed 7] [--top 8] \\
        [--csv OUT.csv]

Prints, per style-variant, the plain and wrapped ms per image and the costliest stages (us per
image, calls per image, share of the wrapped total); ``--csv`` writes the tidy table of every stage.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import inspect
import sys
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from synthgap.generators import Generator, create_generator, list_generators
from synthgap.io import atomic_write_bytes

# the generator's steps, timed on the style's class (their code beyond the wrapped calls inside)
STEPS = ("generate", "sample", "sample_latent", "draw_text", "draw_params", "render", "glyphs",
         "shape_glyphs", "layout", "place_text", "render_ink", "finish")  # fmt: skip


class StageTimer:
    """Exclusive seconds and calls per wrapped function: a call's time less its wrapped callees'."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._inner: list[float] = []  # per open call: time spent in wrapped callees so far

    def wrap(self, name: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            self._inner.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - t0
                self.seconds[name] += took - self._inner.pop()
                self.calls[name] += 1
                if self._inner:
                    self._inner[-1] += took

        return timed


def _functions(module) -> dict[str, object]:
    """The plain functions a module defines (caches and imports left out)."""
    return {
        n: f for n, f in inspect.getmembers(module, inspect.isfunction) if f.__module__ == module.__name__
    }


@contextlib.contextmanager
def instrumented(gen: Generator, timer: StageTimer):
    """``gen``'s class, the generator modules' functions and ``np.random.default_rng`` wrapped by
    ``timer``, restored after."""
    modules = [m for n, m in list(sys.modules.items()) if n.startswith("synthgap.generators.")]
    wrapped = {}
    for module in modules:
        for name, fn in _functions(module).items():
            wrapped[fn] = timer.wrap(f"{module.__name__.rsplit('.', 1)[1]}.{name}", fn)
    with contextlib.ExitStack() as stack:
        # wherever a module holds one of those functions (``from synthgap.generators.glyphs import paste``)
        for module in modules:
            for name, value in list(vars(module).items()):
                if inspect.isfunction(value) and value in wrapped:
                    stack.enter_context(mock.patch.object(module, name, wrapped[value]))
        cls = type(gen)
        for step in STEPS:
            stack.enter_context(
                mock.patch.object(cls, step, timer.wrap(f"{cls.__name__}.{step}", getattr(cls, step)))
            )
        rng = np.random.default_rng
        stack.enter_context(
            mock.patch.object(np.random, "default_rng", timer.wrap("np.random.default_rng", rng))
        )
        yield


def profile(style: str, elastic: bool, n: int, seed: int, rounds: int = 3) -> pd.DataFrame:
    """One style-variant: a row per stage (us and calls per image) plus the plain and wrapped totals."""
    gen = create_generator(style, elastic=elastic)
    gen.warm_caches()
    timer = StageTimer()
    # the objects alive now (pandas, earlier tables) leave the collector's view: a full collection
    # of them, 40 ms here, would be charged to whichever stage it interrupted
    gc.collect()
    gc.freeze()
    try:
        plain = min(_seconds(gen.generate, n, seed) for _ in range(rounds))
        with instrumented(gen, timer):
            wrapped = _seconds(gen.generate, n, seed)
    finally:
        gc.unfreeze()
    rows = [
        {"stage": k, "us_per_image": 1e6 * v / n, "calls_per_image": timer.calls[k] / n}
        for k, v in timer.seconds.items()
    ]
    rows += [{"stage": f"total ({kind})", "us_per_image": 1e6 * t / n, "calls_per_image": 1.0}
             for kind, t in (("plain", plain), ("wrapped", wrapped))]  # fmt: skip
    table = pd.DataFrame(rows).assign(style=style, variant=gen.variant, n=n, seed=seed)
    table["share"] = table["us_per_image"] / (1e6 * wrapped / n)
    return table[["style", "variant", "stage", "us_per_image", "calls_per_image", "share", "n", "seed"]]


def _seconds(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("styles", nargs="*", help="styles to profile (default: all)")
    ap.add_argument("--n", type=int, default=300, help="images per timed generate (default 300)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--top", type=int, default=8, help="stages printed per style-variant")
    ap.add_argument("--csv", help="write every stage of every style-variant here")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.styles) - set(list_generators()))
    if unknown:
        ap.error(f"unknown style(s) {', '.join(unknown)}; known: {', '.join(list_generators())}")
    if args.n < 1:
        ap.error(f"--n: must be >= 1, got {args.n}")
    tables = []
    for style in args.styles or list_generators():
        for elastic in (False, True):
            t = profile(style, elastic, args.n, args.seed)
            tables.append(t)
            total = t.set_index("stage")["us_per_image"]
            stages = t[~t["stage"].str.startswith("total")].nlargest(args.top, "us_per_image")
            print(f"\n{style} {t['variant'].iat[0]}: {total['total (plain)'] / 1000:.3f} ms per image "
                  f"({total['total (wrapped)'] / 1000:.3f} wrapped), costliest stages:")  # fmt: skip
            print(stages[["stage", "us_per_image", "calls_per_image", "share"]].to_string(
                index=False, float_format=lambda v: f"{v:.2f}"))  # fmt: skip
    if args.csv:
        table = pd.concat(tables).to_csv(index=False, float_format="%.3f")
        atomic_write_bytes(Path(args.csv), table.encode(), field="csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
