from __future__ import annotations

import json
import shutil

import pytest
from clitools import synthgap as run
from PIL import Image

from synthgap.generators import create_generator

TINY = ["--style", "wikipedia", "--set", "charset=abc", "--set", "lengths=[2,3]"]
TAG = "wikipedia-plain-charset=abc-lengths=2,3"  # an eval report's name: style, variant, overrides


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "ck"
    r = run("train", *TINY, "--model", "crnn_ctc", "--steps", "3", "--batch-size", "8", "--workers", "0",
            "--val-every", "2", "--seed", "7", "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    return out


def test_train_writes_a_complete_checkpoint(ckpt):
    config = json.loads((ckpt / "config.json").read_text())
    assert (ckpt / "model.safetensors").stat().st_size > 0
    assert config["steps"] == 3 and config["samples_seen"] == 24 and config["seed"] == 7
    assert config["style"] == "wikipedia" and config["variant"] == "plain" and config["charset"] == "abc"
    assert config["input_hw"] == [32, 128] and config["discrete_latents"]["L"] == [2, 3]
    assert "torch" in config["versions"] and config["wall_s"] > 0 and config["precision"] == "fp32"
    assert config["generator_version"] == create_generator("wikipedia").version


def test_eval_prints_and_writes_json_and_csv(ckpt, tmp_path):
    r = run("eval", str(ckpt), *TINY, "-n", "20", "--seed", "1", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "recognition" in r.stdout and "ms/captcha at batch 1" in r.stdout
    report = json.loads((tmp_path / f"{TAG}-n20-seed1.json").read_text())
    assert report["n"] == 20 and 0 <= report["recognition_rate"] <= 1 and report["ms_per_captcha_batch1"] > 0
    assert report["training"]["seed"] == 7 and report["training"]["style"] == "wikipedia"
    version = create_generator("wikipedia").version
    assert report["generator_version"] == report["training"]["generator_version"] == version
    assert "note:" not in r.stderr
    assert len((tmp_path / f"{TAG}-n20-seed1.csv").read_text().splitlines()) == 21


def test_eval_notes_captchas_of_another_generator_version_than_the_training(ckpt, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(ckpt, old)
    config = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**config, "generator_version": 0}))
    r = run("eval", str(old), *TINY, "-n", "4", "--no-timing", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    version = create_generator("wikipedia").version
    assert f"trained on wikipedia version 0; these captchas are version {version}" in r.stderr


def test_eval_of_a_shifted_prior_does_not_overwrite_the_clean_score(ckpt, tmp_path):
    for extra in ([], ["--set", "noise_sigma=5"]):
        r = run("eval", str(ckpt), *TINY, *extra, "-n", "8", "--no-timing", "--out", str(tmp_path))
        assert r.returncode == 0, r.stderr
    clean = json.loads((tmp_path / f"{TAG}-n8-seed0.json").read_text())
    noisy = json.loads((tmp_path / f"{TAG}-noise_sigma=5-n8-seed0.json").read_text())
    assert clean["overrides"] == {"charset": "abc", "lengths": [2, 3]}
    assert noisy["overrides"] == {**clean["overrides"], "noise_sigma": 5}


def test_eval_under_a_perturbation_names_it_and_scores_the_perturbed_captchas(ckpt, tmp_path):
    for extra in ([], ["--perturbation", "gaussian_noise", "--severity", "5"]):
        r = run("eval", str(ckpt), *TINY, *extra, "-n", "8", "--no-timing", "--out", str(tmp_path))
        assert r.returncode == 0, r.stderr
    clean = json.loads((tmp_path / f"{TAG}-n8-seed0.json").read_text())
    noisy = json.loads((tmp_path / f"{TAG}-gaussian_noise5-n8-seed0.json").read_text())
    assert "perturbation" not in clean
    assert (noisy["perturbation"], noisy["severity"], noisy["perturbation_family"]) == (
        "gaussian_noise",
        5,
        "image",
    )
    truths = [[row.split(",")[0] for row in (tmp_path / f"{name}.csv").read_text().splitlines()[1:]]
              for name in (f"{TAG}-n8-seed0", f"{TAG}-gaussian_noise5-n8-seed0")]  # fmt: skip
    assert truths[0] == truths[1]  # the same captchas, perturbed


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--perturbation", "gaussian_noise"], "--severity"),
        (["--perturbation", "gaussian_noise", "--severity", "9"], "severity"),
        (["--perturbation", "no_such", "--severity", "1"], "no_such"),
        (["--perturbation", "transfer", "--severity", "1"], "transfer"),
        (["--perturbation", "kerning", "--severity", "1", "--set", "kerning_shift=2"], "kerning_shift"),
    ],
)
def test_eval_bad_perturbation_exits_2_writing_nothing(ckpt, tmp_path, extra, says):
    r = run("eval", str(ckpt), *TINY, *extra, "-n", "4", "--no-timing", "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_eval_on_a_style_the_checkpoint_cannot_spell_exits_2(ckpt):
    r = run("eval", str(ckpt), "--style", "wikipedia", "-n", "5", "--no-timing")
    assert r.returncode == 2 and "config.json" in r.stderr and "lacks" in r.stderr


def test_eval_on_a_style_longer_than_the_heads_exits_2(tmp_path):
    """A multi-head model reads at most its number of heads: a longer style is refused up front."""
    ck = tmp_path / "mh"
    r = run("train", *TINY, "--model", "multihead_cnn", "--steps", "1", "--batch-size", "4", "--workers", "0",
            "--out", str(ck))  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run("eval", str(ck), "--style", "wikipedia", "--set", "charset=abc", "-n", "5", "--no-timing")
    assert r.returncode == 2 and "reads at most 3 characters" in r.stderr and "up to 10" in r.stderr


def test_eval_truncated_checkpoint_exits_2(ckpt, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((ckpt / "config.json").read_text())
    (bad / "model.safetensors").write_bytes((ckpt / "model.safetensors").read_bytes()[:100])
    r = run("eval", str(bad), *TINY, "-n", "5")
    assert r.returncode == 2 and "model.safetensors" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_eval_real_folder_with_foreign_labels_exits_2(ckpt, tmp_path):
    Image.new("L", (200, 50), 255).save(tmp_path / "abz.png")
    r = run("eval", str(ckpt), "--real", str(tmp_path), "--no-timing")
    assert r.returncode == 2 and "abz.png" in r.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "nope", "--steps", "1"], "unknown model 'nope'"),
        (["--steps", "1", "--minutes", "1"], "exactly one of --steps and --minutes"),
        (["--plateau"], "plateau.max_minutes: a cap is needed"),
        (["--steps", "0"], "must be positive"),
        (["--steps", "1", "--input", "8x160"], "input_hw: height and width must be >= 16, got 8x160"),
        (["--steps", "1", "--input", "40by160"], "expected HEIGHTxWIDTH"),
        (["--steps", "1", "--processes", "0"], "processes: must be >= 1, got 0"),
        (["--steps", "1", "--processes", "2", "--batch-size", "9"], "batch size 9 must split evenly over 2"),
    ],
)
def test_train_bad_input_exits_2_and_writes_nothing(tmp_path, args, needle):
    r = run("train", *TINY, "--workers", "0", *args, "--out", str(tmp_path / "ck"))
    assert r.returncode == 2 and needle in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_train_paper_lstm_on_real_folder_exits_2(tmp_path):
    Image.new("L", (200, 50), 255).save(tmp_path / "ab.png")
    Image.new("L", (200, 50), 255).save(tmp_path / "ba.png")
    r = run("train", "--real", str(tmp_path), "--model", "paper_lstm", "--steps", "1", "--split", "0.5",
            "--out", str(tmp_path / "ck"))  # fmt: skip
    assert r.returncode == 2 and "needs synthetic latents" in r.stderr


def test_real_val_carves_validation_from_the_training_side(tmp_path):
    from synthgap.realdata import split_indices

    for i, label in enumerate(["ab", "ba", "aab", "bba", "abb", "baa", "bab", "aba", "bb", "aa"]):
        Image.new("L", (200, 50), 40 * (i % 6)).save(tmp_path / f"{label}.png")
    out = tmp_path.parent / f"{tmp_path.name}-ck"
    r = run("train", "--real", str(tmp_path), "--split", "0.8", "--real-val", "0.25", "--steps", "1",
            "--batch-size", "2", "--seed", "3", "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    config = json.loads((out / "config.json").read_text())
    assert (config["n_train"], config["n_val"], config["n_heldout"]) == (6, 2, 2)
    # the held-out part is the one `eval --real` uses: the same seeded split as without --real-val
    assert len(split_indices(10, 0.8, 3)[1]) == config["n_heldout"]


def test_eval_skip_look_scores_only_the_images_outside_the_look_set(ckpt, tmp_path):
    from synthgap.realdata import look_split

    real = tmp_path / "real"
    real.mkdir()
    labels = ["ab", "ba", "abc", "cab", "cc", "aa"]
    for label in labels:
        Image.new("L", (200, 50), 255).save(real / f"{label}.png")
    r = run("eval", str(ckpt), "--real", str(real), "--skip-look", "2", "--no-timing", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "real-real-nolook2-seed0.json").read_text())
    scored = [
        row.split(",")[0] for row in (tmp_path / "real-real-nolook2-seed0.csv").read_text().splitlines()[1:]
    ]
    _, rest = look_split(6, 2, 0)
    assert report["n"] == 4 and scored == [sorted(labels)[i] for i in rest]
    bad = run(
        "eval", str(ckpt), "--real", str(real), "--skip-look", "6", "--no-timing", "--out", str(tmp_path)
    )
    assert bad.returncode == 2 and "look" in bad.stderr


def test_training_log_to_a_pipe_has_plain_lines_not_a_bar_per_step(tmp_path):
    r = run("train", *TINY, "--steps", "3", "--batch-size", "8", "--workers", "0", "--val-every", "2",
            "--out", str(tmp_path / "ck"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "train: done at step 3/3 " in r.stderr


def test_train_stops_with_one_line_and_exit_1_when_a_render_worker_dies(tmp_path, monkeypatch):
    from synthgap.errors import WorkerError
    from synthgap.models import training

    def dead(self, step):
        raise WorkerError("a render worker died (killed, or out of memory?) at sample 0: gone")

    monkeypatch.setattr(training.SyntheticBatches, "batch", dead)
    r = run("train", *TINY, "--model", "crnn_ctc", "--steps", "3", "--batch-size", "8", "--workers", "0",
            "--out", str(tmp_path / "ck"))  # fmt: skip
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1].startswith(
        "synthgap: error: a render worker"
    )
    assert "Traceback" not in r.stderr and not (tmp_path / "ck").exists()
