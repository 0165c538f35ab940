"""Progress that fits where it goes: a tqdm bar on a terminal; in a log file or pipe, a plain line
every few seconds with the same figures (a bar there leaves a carriage-return update per step)."""

from __future__ import annotations

import sys
import time
from typing import Any

from tqdm import tqdm


class ProgressLine:
    """A line ``DESC: UNIT N[/TOTAL] POSTFIX`` on stderr every ``every`` seconds, and one at the end."""

    def __init__(self, desc: str, total: int | None = None, initial: int = 0, unit: str = "step",
                 enabled: bool = True, every: float = 15.0) -> None:  # fmt: skip
        self.desc, self.total, self.unit, self.enabled, self.every = desc, total, unit, enabled, every
        self.n, self.last, self.postfix = initial, time.time(), ""

    def _line(self, prefix: str = "") -> str:
        count = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        return f"{self.desc}: {prefix}{self.unit} {count} {self.postfix}".rstrip()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.enabled and time.time() - self.last >= self.every:
            self.last = time.time()
            print(self._line(), file=sys.stderr, flush=True)

    def set_postfix(self, **kwargs: Any) -> None:
        self.postfix = " ".join(f"{k}={v}" for k, v in kwargs.items())

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        if self.enabled:
            print(self._line("done at "), file=sys.stderr, flush=True)

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(desc: str | None, total: int | None = None, initial: int = 0, unit: str = "step",
             enabled: bool = True, leave: bool = True) -> ProgressLine | tqdm:  # fmt: skip
    """A bar on a terminal, plain lines elsewhere; nothing when not ``enabled``."""
    if enabled and not sys.stderr.isatty():
        return ProgressLine(desc or unit, total, initial, unit)
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, disable=not enabled, dynamic_ncols=True,
                leave=leave)  # fmt: skip
