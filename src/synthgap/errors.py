"""Errors a user can fix. The CLI turns them into one line on stderr and exit status 2."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input: an unknown name, a bad value, an unreadable file. ``field`` names what was wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
