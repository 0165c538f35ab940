"""Contact sheets: labelled captcha tiles in titled columns, synthetic beside real, to compare looks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def real_tiles(folder: Path, n: int, look: int = 0) -> list[tuple[np.ndarray, str]]:
    """``n`` images of a folder whose file names are labels, as 8-bit gray 200x50: the first ones,
    or with ``look`` the first of the seeded look set of that many (``realdata.look_split``)."""
    from synthgap.realdata import load_real, look_split

    real = load_real(folder, case_sensitive=True)
    idx = look_split(len(real.labels), look)[0] if look else np.arange(len(real.labels))
    return [(real.images[i], real.labels[i]) for i in idx[:n]]


def contact_sheet(columns: list[tuple[str, list[tuple[np.ndarray, str]]]]) -> bytes:
    """Columns of labelled 200x50 tiles under a title; returns PNG bytes."""
    tile_w, tile_h, label_h, title_h, pad = 200, 50, 12, 16, 6
    rows = max(len(items) for _, items in columns)
    width = len(columns) * (tile_w + pad) + pad
    height = title_h + rows * (tile_h + label_h + pad) + pad
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    for c, (title, items) in enumerate(columns):
        x = pad + c * (tile_w + pad)
        draw.text((x, 2), title, fill=0)
        for r, (img, label) in enumerate(items):
            y = title_h + r * (tile_h + label_h + pad)
            tile = Image.fromarray(img).convert("L")
            if tile.size != (tile_w, tile_h):
                tile = tile.resize((tile_w, tile_h))
            canvas.paste(tile, (x, y))
            draw.text((x, y + tile_h), label, fill=90)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()
