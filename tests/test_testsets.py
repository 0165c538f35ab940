"""Test-set specs (synthgap.testsets): names that tell every setting apart, the images they build."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from synthgap.errors import UsageError
from synthgap.realdata import look_split, split_indices
from synthgap.testsets import Real, Synthetic

TINY = {"charset": "abc", "lengths": [2, 3]}


def test_every_setting_is_part_of_the_name_and_the_record():
    specs = [
        Synthetic("wikipedia", 6, 1),
        Synthetic("wikipedia", 6, 2),
        Synthetic("wikipedia", 7, 1),
        Synthetic("wikipedia", 6, 1, elastic=True),
        Synthetic("wikipedia", 6, 1, overrides={"noise_sigma": 5}),
        Synthetic("wikipedia", 6, 1, perturbation="gaussian_noise", severity=2),
        Synthetic("wikipedia", 6, 1, perturbation="gaussian_noise", severity=3),
        Synthetic("wikipedia", 6, 1, perturbation="gaussian_noise", severity=2, clean_seed=9),
        Synthetic("wikipedia", 6, 1, perturbation="kerning", severity=1),
        Synthetic("captcha_v2", 6, 1),
    ]
    assert len({s.name for s in specs}) == len(specs)
    assert len({str(sorted(s.record().items())) for s in specs}) == len(specs)
    assert specs[0].name == "wikipedia-plain-n6-seed1"
    assert specs[4].name == "wikipedia-plain-noise_sigma=5-n6-seed1"
    assert specs[6].record()["perturbation"] == "gaussian_noise" and specs[6].record()["severity"] == 3


def test_an_image_perturbation_perturbs_the_clean_captchas_of_its_clean_seed():
    clean = Synthetic("wikipedia", 4, 11, overrides=TINY).build()
    noisy = Synthetic("wikipedia", 4, 5, overrides=TINY, perturbation="gaussian_noise", severity=4,
                      clean_seed=11).build()  # fmt: skip
    assert noisy.texts == clean.texts
    diff = np.abs(noisy.images.astype(int) - clean.images.astype(int))
    assert diff.mean() > 5  # sigma 20 on 0..255
    again = Synthetic("wikipedia", 4, 5, overrides=TINY, perturbation="gaussian_noise", severity=4,
                      clean_seed=11).build()  # fmt: skip
    assert again.images.tobytes() == noisy.images.tobytes()


def test_a_generative_perturbation_shifts_the_prior():
    spec = Synthetic("wikipedia", 3, 0, perturbation="kerning", severity=1)
    base = Synthetic("wikipedia", 3, 0).generator().config.kerning_shift
    assert spec.generator().config.kerning_shift == base + 1
    kerned, clean = spec.build(), Synthetic("wikipedia", 3, 0).build()
    assert kerned.texts == clean.texts and kerned.images.tobytes() != clean.images.tobytes()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n": 0}, "n"),
        ({"perturbation": "gaussian_noise", "severity": 6}, "severity"),
        ({"perturbation": "nope", "severity": 1}, "perturbation"),
        ({"perturbation": "transfer", "severity": 1}, "perturbation"),
        ({"perturbation": "kerning", "severity": 1, "overrides": {"kerning_shift": 2}}, "set"),
        ({"overrides": {"noise_sigma": "abc"}}, "noise_sigma"),
    ],
)
def test_bad_synthetic_specs_are_usage_errors(kwargs, field):
    args = {"style": "wikipedia", "n": 4, "seed": 0, **kwargs}
    with pytest.raises(UsageError) as e:
        Synthetic(**args)
    assert field in str(e.value)


@pytest.fixture
def real_folder(tmp_path):
    labels = [f"{a}{b}{c}" for a in "ab" for b in "abc" for c in "ab"]  # 12 labels
    for i, label in enumerate(labels):
        Image.new("L", (200, 50), 10 * i).save(tmp_path / f"{label}.png")
    Image.new("L", (200, 50), 0).save(tmp_path / "zzz.png")  # outside the charset: skipped
    return tmp_path, labels


def test_real_held_out_part_then_look_set_left_out(real_folder):
    folder, labels = real_folder
    spec = Real(folder, charset="abc", heldout=(0.5, 3), skip_look=2, look_seed=1)
    with pytest.warns(UserWarning, match="zzz.png"):
        test = spec.build()
    held = split_indices(12, 0.5, 3)[1]
    rest = look_split(len(held), 2, 1)[1]
    assert test.texts == [labels[held[i]] for i in rest] and test.skipped == 1
    assert spec.name == f"real-{folder.name}-heldout-nolook2-seed1"
    assert spec.record()["look_left_out"] == 2 and spec.record()["split_seed"] == 3


def test_real_for_style_holds_labels_to_the_style(real_folder):
    folder, labels = real_folder
    spec = Real.for_style(folder, "captcha_v2", strict=True)
    assert spec.lengths == (5, 5)
    with pytest.raises(UsageError, match="aaa.png"):  # three letters, outside captcha_v2's 5
        spec.build()
