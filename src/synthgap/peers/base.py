"""What every peer adapter shares: the ``predict`` loop, a CPU ``device`` and its config."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

PREFIX = "peer:"  # grid model rows naming a peer
INSTALL_HINT = "pip install 'synthgap[peers]'"


class Peer:
    """A pretrained solver: one image at a time through :meth:`read`."""

    name: ClassVar[str]
    device = torch.device("cpu")  # for evaluate(): these solvers run on the CPU here

    def __init__(self, charset: str | None = None) -> None:
        if charset is not None and (not charset or len(set(charset)) != len(charset)):
            raise ValueError(f"charset must be non-empty without repeats, got {charset!r}")
        self.charset = charset

    @classmethod
    def missing(cls) -> str | None:
        """None when usable here, else what is missing and how to install it."""
        raise NotImplementedError

    def read(self, image: np.ndarray) -> str:
        """One uint8 gray image (H, W) -> the solver's string."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def predict(self, images: np.ndarray, batch_size: int = 256) -> list[str]:
        """uint8 gray images (n, H, W) -> strings (``batch_size`` is ignored: one at a time)."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        return [self.read(img) for img in images]

    def config(self) -> dict[str, Any]:
        return {"peer": self.name, "charset": self.charset, "version": self.version()}
