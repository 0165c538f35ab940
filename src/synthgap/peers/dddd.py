"""ddddocr (PyPI): a pretrained general captcha OCR (CTC over ~8200 symbols, ONNX on the CPU).

With a charset, ddddocr's own ``set_ranges`` restricts it: in 1.6 that drops every decoded
symbol outside the range after the arg-max path (it does not re-decode over the allowed
symbols; re-decoding was measured no better on captcha_images_v2). Its input is any size; it
rescales to height 64 itself.
"""

from __future__ import annotations

import importlib.util

import numpy as np
from PIL import Image

from synthgap.peers import register_peer
from synthgap.peers.base import INSTALL_HINT, Peer


@register_peer("ddddocr")
class Ddddocr(Peer):
    def __init__(self, charset: str | None = None) -> None:
        super().__init__(charset)
        import ddddocr

        self.ocr = ddddocr.DdddOcr(show_ad=False)
        if charset is not None:
            self.ocr.set_ranges(charset)

    @classmethod
    def missing(cls) -> str | None:
        return None if importlib.util.find_spec("ddddocr") else f"no module ddddocr: {INSTALL_HINT}"

    def version(self) -> str:
        from importlib.metadata import version

        return version("ddddocr")

    def read(self, image: np.ndarray) -> str:
        return self.ocr.classification(Image.fromarray(image))
