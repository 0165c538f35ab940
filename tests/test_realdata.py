from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from synthgap.errors import UsageError
from synthgap.realdata import load_real_folder, split_indices


def write(folder, name, size=(200, 50)):
    Image.new("RGB", size, (255, 0, 0)).save(folder / name)


def test_loads_gray_200x50_with_labels_from_file_names(tmp_path):
    write(tmp_path, "ab1.png")
    write(tmp_path, "zz9.png", size=(100, 25))
    images, labels, files = load_real_folder(tmp_path, charset="abz19")
    assert images.shape == (2, 50, 200) and images.dtype == np.uint8
    assert labels == ["ab1", "zz9"] and [f.name for f in files] == ["ab1.png", "zz9.png"]
    assert images[0, 0, 0] == 76  # ITU-R 601 gray of pure red


def test_label_outside_charset_names_the_file(tmp_path):
    write(tmp_path, "ab1.png")
    write(tmp_path, "aQ.png")
    with pytest.raises(UsageError, match=r"aQ\.png.*'q'"):
        load_real_folder(tmp_path, charset="ab1")


def test_unreadable_image_names_the_file(tmp_path):
    write(tmp_path, "ab.png")
    (tmp_path / "ba.png").write_bytes(b"not a png")
    with pytest.raises(UsageError, match=r"ba\.png: unreadable"):
        load_real_folder(tmp_path)


def test_split_is_seeded_disjoint_and_complete():
    tr, ho = split_indices(100, 0.9, seed=4)
    assert len(tr) == 90 and len(ho) == 10 and not set(tr) & set(ho)
    assert np.array_equal(split_indices(100, 0.9, seed=4)[1], ho)
    assert not np.array_equal(split_indices(100, 0.9, seed=5)[1], ho)
    with pytest.raises(UsageError, match="split"):
        split_indices(100, 1.0, seed=0)


def test_real_captcha_v2_folder_loads(shared_data):
    images, labels, _ = load_real_folder(shared_data / "captcha_images_v2", charset="2345678bcdefgmnpwxy")
    assert len(labels) == 1040 and all(len(t) == 5 for t in labels)
