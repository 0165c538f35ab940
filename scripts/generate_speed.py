"""ms per image of ``generate(N)`` as a new process meets it: the first N (glyph rasters and other
caches made as they are met), the next N, and the faster of two N after ``Generator.warm_caches``
(a long run's steady state, what ``make bench-ci`` measures). One OpenCV thread, wall clock, a fresh
Python process per style-variant so no cache carries over. Run from the repository root:

    .venv/bin/python scripts/generate_speed.py [STYLE ...] [--n 300]

Prints one line per style-variant (every registered style when none is named).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time


def measure(style: str, elastic: bool, n: int) -> dict[str, float]:
    """The three figures for one style-variant, in this process (call it in a fresh one)."""
    import cv2

    from synthgap.generators import create_generator

    cv2.setNumThreads(1)
    gen = create_generator(style, elastic=elastic)

    def ms(seed: int) -> float:
        t = time.perf_counter()
        gen.generate(n, seed=seed)
        return (time.perf_counter() - t) * 1000 / n

    first, second = ms(0), ms(1)
    gen.warm_caches()
    return {"first": first, "next": second, "warm": min(ms(2), ms(3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("styles", nargs="*")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--one", nargs=2, metavar=("STYLE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.n < 1:
        parser.error(f"--n: must be >= 1, got {args.n}")
    if args.one:  # the child process: one style-variant
        r = measure(args.one[0], args.one[1] == "elastic", args.n)
        name = "-".join(args.one)
        line = "  ".join(f"{k} {r[k]:.3f}" for k in ("first", "next", "warm"))
        print(f"{name:36s} {line} ms/image", flush=True)
        return
    from synthgap.generators import list_generators

    unknown = sorted(set(args.styles) - set(list_generators()))
    if unknown:
        parser.error(f"unknown style {', '.join(unknown)}; known: {', '.join(list_generators())}")
    for style in args.styles or list_generators():
        for variant in ("plain", "elastic"):
            cmd = [sys.executable, __file__, "--one", style, variant, "--n", str(args.n)]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
