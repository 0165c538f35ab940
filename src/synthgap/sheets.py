"""Contact sheets: labelled captcha tiles in titled columns, synthetic beside real, to compare looks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def real_tiles(folder: Path, n: int, look: int = 0) -> list[tuple[np.ndarray, str]]:
    """``n`` images of a folder whose file names are labels, as 8-bit gray 200x50: the first ones,
    or with ``look`` the first of the seeded look set of that many (``realdata.look_split``)."""
    from synthgap.realdata import load_real, look_split

    real = load_real(folder, case_sensitive=True)
    idx = look_split(len(real.labels), look)[0] if look else np.arange(len(real.labels))
    return [(real.images[i], real.labels[i]) for i in idx[:n]]


def _wrap(title: str, width: int) -> list[str]:
    """``title`` in lines of at most ``width`` pixels of PIL's default font, broken between words."""
    font = ImageFont.load_default()
    lines = [""]
    for word in title.split():
        line = f"{lines[-1]} {word}".strip()
        if lines[-1] and font.getlength(line) > width:
            lines.append(word)
        else:
            lines[-1] = line
    return lines


def contact_sheet(columns: list[tuple[str, list[tuple[np.ndarray, str]]]]) -> bytes:
    """Columns of labelled 200x50 tiles under a title (wrapped to the column); returns PNG bytes."""
    tile_w, tile_h, label_h, line_h, pad = 200, 50, 12, 12, 6
    titles = [_wrap(title, tile_w) for title, _ in columns]
    title_h = 4 + line_h * max(len(t) for t in titles)
    rows = max(len(items) for _, items in columns)
    width = len(columns) * (tile_w + pad) + pad
    height = title_h + rows * (tile_h + label_h + pad) + pad
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    for c, (lines, (_, items)) in enumerate(zip(titles, columns, strict=True)):
        x = pad + c * (tile_w + pad)
        for i, line in enumerate(lines):
            draw.text((x, 2 + i * line_h), line, fill=0)
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
