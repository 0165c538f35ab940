"""A small name -> factory registry shared by generators, perturbations and models.

Entries register with a decorator keyed by name (a duplicate name raises), users go through
``create`` and ``names`` (exposed as ``create_*`` / ``list_*`` by each package), and every entry
may carry tags such as a perturbation's family, so categories never depend on list position.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from synthgap.errors import UsageError

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    name: str
    factory: Callable[..., T]
    tags: dict[str, Any] = field(default_factory=dict)


class Registry(Generic[T]):
    """Maps names to factories for one kind of thing (``kind`` is used in error messages)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, **tags: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = Entry(name, factory, dict(tags))
            return factory

        return decorator

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise UsageError(f"unknown {self.kind} {name!r}; known: {known}", field=self.kind) from None

    def create(self, name: str, **kwargs: Any) -> T:
        return self.entry(name).factory(**kwargs)

    def names(self, pattern: str = "*", **tags: Any) -> list[str]:
        """Sorted names matching a shell-style ``pattern`` and carrying every given tag value."""
        return sorted(
            name
            for name, e in self._entries.items()
            if fnmatch.fnmatch(name, pattern) and all(e.tags.get(k) == v for k, v in tags.items())
        )

    def __contains__(self, name: object) -> bool:
        return name in self._entries
