"""Contact sheets: tiles in titled columns; a long title wraps inside its column."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFont

from synthgap.sheets import _wrap, contact_sheet

LONG = "synthetic wikipedia_confirmedit (elastic), seed 0"


def test_long_titles_wrap_inside_their_column_and_push_the_tiles_down():
    font = ImageFont.load_default()
    lines = _wrap(LONG, 200)
    assert lines == ["synthetic wikipedia_confirmedit (elastic),", "seed 0"]
    assert all(font.getlength(line) <= 200 for line in lines)
    black = np.zeros((50, 200), np.uint8)
    short = np.array(Image.open(io.BytesIO(contact_sheet([("real: x", [(black, "ab")])]))))
    long = np.array(
        Image.open(io.BytesIO(contact_sheet([(LONG, [(black, "ab")]), ("real: x", [(black, "cd")])])))
    )
    assert long.shape[0] == short.shape[0] + 12  # one more title line
    for sheet, top in ((short, 16), (long, 28)):  # the first tile starts under the title, in both columns
        assert (sheet[top : top + 50, 6:206] == 0).all() and (sheet[top - 1, 6:206] == 255).all()
    assert (long[28:78, 212:412] == 0).all()
