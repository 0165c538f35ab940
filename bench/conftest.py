"""Prints the same-run ratios of bench_ratio.py and the training rates of bench_training.py after
the benchmark tables."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter):
    ratio = sys.modules.get("bench_ratio")
    if ratio is not None and ratio.RATIOS:
        terminalreporter.section("generation: ms per image, ratio to ImageCaptcha in the same run, limit")
        for name, (ms, r) in sorted(ratio.RATIOS.items()):
            limit = ratio.LIMITS.get(name.rsplit("-", 1)[0], ratio.LIMIT)
            terminalreporter.write_line(f"{name:38s} {ms:7.3f} ms  {r:5.2f}  <= {limit}")
    training = sys.modules.get("bench_training")
    if training is not None and training.RATES:
        terminalreporter.section("training: samples/s, rendering included (80 steps of 128, wikipedia)")
        for name, rate in training.RATES.items():
            terminalreporter.write_line(f"{name:44s} {rate:8.1f}")
