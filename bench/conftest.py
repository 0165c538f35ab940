"""Prints the same-run ratios of bench_ratio.py after the benchmark tables."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    from bench_ratio import LIMIT, LIMITS, RATIOS

    if not RATIOS:
        return
    terminalreporter.section("generation: ms per image, ratio to ImageCaptcha in the same run, limit")
    for name, (ms, ratio) in sorted(RATIOS.items()):
        limit = LIMITS.get(name.rsplit("-", 1)[0], LIMIT)
        terminalreporter.write_line(f"{name:38s} {ms:7.3f} ms  {ratio:5.2f}  <= {limit}")
