from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from synthgap.errors import UsageError
from synthgap.realdata import RealDataWarning, for_style, load_real, read_image, split_indices


def write(folder, name, size=(200, 50)):
    Image.new("RGB", size, (255, 0, 0)).save(folder / name)


def test_loads_gray_200x50_with_labels_from_file_names(tmp_path):
    write(tmp_path, "ab1.png")
    write(tmp_path, "zz9.png", size=(100, 25))
    (tmp_path / "notes.txt").write_text("not an image: ignored")
    real = load_real(tmp_path, charset="abz19")
    assert real.images.shape == (2, 50, 200) and real.images.dtype == np.uint8
    assert real.labels == ["ab1", "zz9"] and [f.name for f in real.files] == ["ab1.png", "zz9.png"]
    assert real.images[0, 0, 0] == 76  # ITU-R 601 gray of pure red
    assert real.skipped == []


def test_case_folding(tmp_path):
    write(tmp_path, "aQ.png")
    assert load_real(tmp_path).labels == ["aq"]
    assert load_real(tmp_path, case_sensitive=True, charset="aQ").labels == ["aQ"]
    with pytest.raises(UsageError, match=r"aQ\.png.*'q'"):  # folded label against a folded charset
        load_real(tmp_path, charset="aZ", strict=True)


def test_labels_outside_the_prior_are_listed_and_skipped(tmp_path):
    for name in ("ab1.png", "aQ.png", "abbbbb.png"):
        write(tmp_path, name)
    (tmp_path / "ba.png").write_bytes(b"not a png")
    with pytest.warns(RealDataWarning) as caught:
        real = load_real(tmp_path, charset="ab1", lengths=(2, 4))
    assert real.labels == ["ab1"]
    assert sorted(p.name for p, _ in real.skipped) == ["aQ.png", "abbbbb.png", "ba.png"]
    message = str(caught[0].message)
    assert "skipped 3 of 4" in message and "'q' outside the charset" in message
    assert "length 6, outside 2..4" in message and "ba.png: unreadable" in message


@pytest.mark.parametrize(
    ("name", "kw", "needle"),
    [
        ("ba.png", {}, r"ba\.png: unreadable"),
        ("aQ.png", {"charset": "ab"}, r"aQ\.png: label 'aq' has characters 'q'"),
        ("abc.png", {"lengths": (1, 2)}, r"abc\.png: label 'abc' has length 3"),
    ],
)
def test_strict_names_the_file(tmp_path, name, kw, needle):
    write(tmp_path, "ab.png")
    (tmp_path / name).write_bytes(b"not a png") if name == "ba.png" else write(tmp_path, name)
    with pytest.raises(UsageError, match=needle):
        load_real(tmp_path, strict=True, **kw)


def test_nothing_usable_is_an_error(tmp_path):
    write(tmp_path, "xyz.png")
    with pytest.raises(UsageError, match=r"no usable image.*xyz\.png"):
        load_real(tmp_path, charset="ab")
    with pytest.raises(UsageError, match="not a folder"):
        load_real(tmp_path / "nope")


def test_for_style_carries_the_case_rule():
    assert for_style("facebook")["case_sensitive"] is True
    assert for_style("wikipedia") == {
        "charset": "abcdefghijklmnopqrstuvwxyz", "lengths": (8, 10), "case_sensitive": False,
    }  # fmt: skip


def test_cli_strict_exits_2_and_warns_otherwise(tmp_path):
    write(tmp_path, "ab.png")
    (tmp_path / "ba.png").write_bytes(b"not a png")
    cmd = [sys.executable, "-c", "from synthgap.cli import main; main()"]
    r = subprocess.run([*cmd, "train", "--real", str(tmp_path), "--strict", "--steps", "1",
                        "--out", str(tmp_path / "ck")], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "ba.png: unreadable" in r.stderr and not (tmp_path / "ck").exists()
    r = subprocess.run([*cmd, "sheet", "--style", "wikipedia", "--real", str(tmp_path), "-n", "1",
                        "--out", str(tmp_path / "s.png")], capture_output=True, text=True)  # fmt: skip
    assert (
        r.returncode == 0 and "synthgap: warning: real: skipped 1 of 2" in r.stderr and "ba.png" in r.stderr
    )


def test_split_is_seeded_disjoint_and_complete():
    tr, ho = split_indices(100, 0.9, seed=4)
    assert len(tr) == 90 and len(ho) == 10 and not set(tr) & set(ho)
    assert np.array_equal(split_indices(100, 0.9, seed=4)[1], ho)
    assert not np.array_equal(split_indices(100, 0.9, seed=5)[1], ho)
    with pytest.raises(UsageError, match="split"):
        split_indices(100, 1.0, seed=0)


def test_real_captcha_v2_folder_fits_its_style(shared_data):
    real = load_real(shared_data / "captcha_images_v2", **for_style("captcha_v2"), strict=True)
    assert len(real.labels) == 1040 and all(len(t) == 5 for t in real.labels)


def test_real_facebook_sample_keeps_case(shared_data):
    real = load_real(shared_data / "facebook-sample", **for_style("facebook"), strict=True)
    assert len(real.labels) == 10 and any(t != t.lower() for t in real.labels)


def test_look_split_is_seeded_disjoint_and_complete():
    from synthgap.realdata import look_split

    look, rest = look_split(1040, 100, seed=0)
    assert len(look) == 100 and len(rest) == 940
    assert sorted(np.concatenate([look, rest]).tolist()) == list(range(1040))
    assert np.array_equal(look, look_split(1040, 100, seed=0)[0])
    assert not np.array_equal(look, look_split(1040, 100, seed=1)[0])
    with pytest.raises(UsageError, match="look"):
        look_split(10, 10)


def test_read_image_names_a_file_that_is_not_a_readable_image(tmp_path):
    Image.new("L", (100, 30), 0).save(tmp_path / "small.png")
    assert read_image(tmp_path / "small.png").shape == (50, 200)  # brought to the size every style renders
    (tmp_path / "notes.png").write_text("not an image")
    for path, says in ((tmp_path / "notes.png", "unreadable"), (tmp_path / "missing.png", "not a file")):
        with pytest.raises(UsageError, match=says) as e:
            read_image(path)
        assert path.name in str(e.value)
