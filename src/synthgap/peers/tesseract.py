"""Tesseract (the ``tesseract-ocr`` system package, through pytesseract): a general document OCR.

Read as one text line (``--psm 7``) by the LSTM engine (``--oem 1``); a charset becomes
``tessedit_char_whitelist``. Tesseract's OpenMP threads are limited to one
(``OMP_THREAD_LIMIT``, unless already set): on a few shared cores more threads only slow it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import numpy as np
from PIL import Image

from synthgap.peers import register_peer
from synthgap.peers.base import INSTALL_HINT, Peer


@register_peer("tesseract")
class Tesseract(Peer):
    def __init__(self, charset: str | None = None) -> None:
        super().__init__(charset)
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self.options = "--psm 7 --oem 1"
        if charset is not None:
            self.options += f" -c tessedit_char_whitelist={charset}"

    @classmethod
    def missing(cls) -> str | None:
        if importlib.util.find_spec("pytesseract") is None:
            return f"no module pytesseract: {INSTALL_HINT}"
        if shutil.which("tesseract") is None:
            return "no tesseract program: apt-get install tesseract-ocr"
        return None

    def version(self) -> str:
        import pytesseract

        return str(pytesseract.get_tesseract_version())

    def read(self, image: np.ndarray) -> str:
        import pytesseract

        text = pytesseract.image_to_string(Image.fromarray(image), config=self.options)
        return "".join(text.split())
