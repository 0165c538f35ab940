"""Errors the CLI turns into one line on stderr: bad input (exit status 2) and a helper process
that died (exit status 1)."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input: an unknown name, a bad value, an unreadable file. ``field`` names what was wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WorkerError(RuntimeError):
    """A helper process (a render worker) died: the run stops with what it was doing, not a hang."""
