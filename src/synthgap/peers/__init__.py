"""Off-the-shelf captcha solvers ("peers") behind the recognizers' ``predict`` interface.

>>> from synthgap.peers import create_peer, list_peers
>>> peer = create_peer("ddddocr", charset="2345678bcdefgmnpwxy")
>>> peer.predict(images)  # uint8 gray (n, H, W) -> list[str]

A peer is pretrained elsewhere and never trained here; ``charset`` (None: zero-shot) restricts
what it may output where the solver allows. Each has ``device`` (cpu), so
``synthgap.models.evaluation.evaluate`` scores and times it like a trained model, and ``config()``
(a small JSON-able dict, what a grid run stores instead of a checkpoint). In a grid a peer is a
model row named ``peer:NAME``: it reads with the run's style charset, and as nothing is trained
its rows for the plain and elastic variants (and every size and seed) are the same numbers.
A user's own recognizer joins the same way (synthgap.peers.user): ``peer:package.module:factory``.
Peers need the optional
extra: ``pip install 'synthgap[peers]'`` (tesseract also the ``tesseract-ocr`` system package).
"""

from __future__ import annotations

from synthgap.peers.base import PREFIX, Peer
from synthgap.registry import Registry

PEERS: Registry[Peer] = Registry("peer")


def register_peer(name: str):
    """Class decorator: register a :class:`Peer` subclass under ``name``."""

    def decorator(cls: type[Peer]) -> type[Peer]:
        cls.name = name
        return PEERS.register(name)(cls)

    return decorator


def create_peer(name: str, charset: str | None = None) -> Peer:
    """A ready peer, or a user's breaker (``module:factory`` or a ``synthgap.breakers`` entry
    point, synthgap.peers.user); UsageError naming what to install when packages are missing."""
    if name.startswith(PREFIX):
        name = name[len(PREFIX) :]
    if name not in PEERS:
        user = resolve(name)
        if user is not None:
            return UserBreaker(*user, charset=charset)
    cls = PEERS.entry(name).factory
    missing = cls.missing()
    if missing:
        raise UsageError(f"peer {name!r} is not installed ({missing})", field="peer")
    return cls(charset=charset)


def list_peers(pattern: str = "*") -> list[str]:
    return PEERS.names(pattern)


def peer_name(model: str) -> str | None:
    """``"peer:ddddocr"`` -> ``"ddddocr"``; None for a model that is not a peer row."""
    return model[len(PREFIX) :] if model.startswith(PREFIX) else None


from synthgap.errors import UsageError  # noqa: E402
from synthgap.peers import dddd, tesseract  # noqa: E402,F401  (each registers itself)
from synthgap.peers.user import UserBreaker, resolve  # noqa: E402

__all__ = ["PEERS", "Peer", "create_peer", "list_peers", "peer_name", "register_peer"]
