from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from clitools import synthgap as run
from PIL import Image

from synthgap.generators import Latent, create_generator


def test_generate_writes_images_labels_and_manifest(tmp_path):
    out = tmp_path / "set"
    r = run("generate", "--style", "wikipedia", "--elastic", "-n", "4", "--seed", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    with open(out / "labels.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["file"] for row in rows] == [f"{i:06d}.png" for i in range(4)]
    gen = create_generator("wikipedia", elastic=True)
    images, latents = gen.generate(4, seed=3)
    for row, img, lat in zip(rows, images, latents, strict=True):
        assert row["text"] == lat.text
        assert Latent.from_json(row["latent"]) == lat
        assert np.array_equal(np.asarray(Image.open(out / row["file"])), img)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["variant"] == "elastic"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--style", "nope", "-n", "2"], "unknown style 'nope'"),
        (["--style", "wikipedia", "-n", "0"], "n: must be >= 1"),
        (["--style", "wikipedia", "-n", "2", "--set", "lengths=[5,3]"], "lengths: empty range"),
        (["--style", "wikipedia", "-n", "2", "--set", "charset="], "charset"),
        (["--style", "wikipedia", "-n", "2", "--set", "wobble=1"], "unknown override 'wobble'"),
        (
            ["--style", "wikipedia", "-n", "2", "--set", "noise_sigma=abc"],
            'noise_sigma: must be a number, got "abc"',
        ),
        (
            ["--style", "wikipedia", "-n", "2", "--set", "noise_sigma=true"],
            "noise_sigma: must be a number, got true",
        ),
        (
            ["--style", "wikipedia", "-n", "2", "--set", "kerning_shift=1.5"],
            "kerning_shift: must be an integer",
        ),
        (["--style", "wikipedia", "-n", "2", "--set", "lengths=abc"], "lengths: must be two integers"),
        (["--style", "wikipedia", "-n", "2", "--set", "sizes=[26]"], "sizes: must be two integers"),
        (["--style", "wikipedia", "-n", "2", "--set", "fonts=[1]"], "fonts: must be a list of font names"),
    ],
)
def test_generate_bad_input_exits_2_and_writes_nothing(tmp_path, args, needle):
    out = tmp_path / "set"
    r = run("generate", *args, "--out", str(out))
    assert r.returncode == 2
    assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_generate_unwritable_out_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("generate", "--style", "wikipedia", "-n", "2", "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "out: cannot write" in r.stderr


def test_styles_lists_every_style():
    r = run("styles")
    assert r.returncode == 0
    from synthgap.generators import list_generators

    for s in list_generators():
        assert s in r.stdout


def test_sheet_with_real_samples(tmp_path, shared_data):
    out = tmp_path / "sheet.png"
    r = run("sheet", "--style", "wikipedia", "--real", str(shared_data / "wikipedia-sample"), "-n", "3",
            "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    im = np.asarray(Image.open(out))
    assert im.shape[1] > 400  # two columns of 200 px tiles
