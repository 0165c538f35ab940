"""Output helpers: nothing half-written. Files and folders appear complete or not at all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthgap.errors import UsageError


def check_writable_dir(path: Path, field: str = "out") -> None:
    """Fail early, before any work, if ``path`` (or the folder it would be made in) is unwritable."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{field}: cannot write to {path} ({probe} is not a writable folder)", field=field)


@contextlib.contextmanager
def atomic_dir(out: Path, field: str = "out") -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; it becomes ``out`` only if the block succeeds."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{field}: {out} already exists and is not empty", field=field)
    check_writable_dir(out, field)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as e:
        raise UsageError(f"{field}: cannot write to {out} ({e.strerror})", field=field) from e
    try:
        yield tmp
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, field: str = "out") -> None:
    path = Path(path)
    check_writable_dir(path.parent, field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise UsageError(f"{field}: cannot write to {path} ({e.strerror})", field=field) from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_format_json(path: Path, fmt: str, field: str) -> dict[str, Any]:
    """A JSON object tagged ``"format": fmt``; UsageError naming the file if missing, corrupt or other."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{field}: {path} is missing", field=field) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{field}: {path} is unreadable or corrupt ({e})", field=field) from None
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise UsageError(f"{field}: {path} is not a {fmt} file", field=field)
    return doc
