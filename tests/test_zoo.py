"""The model zoo: build an entry, index it, tell current from stale and broken, reuse it in a grid."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from clitools import grid_text, synthgap
from safetensors import safe_open

from synthgap.errors import UsageError
from synthgap.generators import create_generator
from synthgap.models.checkpoint import load_checkpoint
from synthgap.zoo import INDEX, INDEX_COLUMNS, build_entry, load_zoo, status

SPEC = """
styles = ["wikipedia"]
variants = ["plain"]
models = ["crnn_ctc"]
sizes = ["cpu"]
seeds = [0]
test_size = 16
[train]
val_n = 16
val_every = 2
patience = 1
drops = 1
max_steps = 6
"""

GRID = grid_text(name="zoo-grid", head='zoo = "zoo"\n', budget="",
                 tables="[perturbations]\ngaussian_noise = [2]\n[posterior]\nsize = 0\n")  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A one-entry zoo, trained a few steps (in this process, rendering inline)."""
    root = tmp_path_factory.mktemp("zoo") / "zoo"
    root.mkdir()
    (root / "zoo.toml").write_text(SPEC)
    zoo = load_zoo(root)
    record = build_entry(zoo, zoo.entries[0], workers=0, progress=False)
    return root, record


@pytest.fixture
def zoo_copy(built, tmp_path):
    root = tmp_path / "zoo"
    shutil.copytree(built[0], root)
    return root


def test_build_writes_entry_record_curve_and_index(built):
    root, record = built
    folder = root / "wikipedia-plain-crnn_ctc-cpu-s0"
    assert record["stop"] in ("plateau", "cap") and 1 <= record["steps"] <= 6
    assert record["command"] == f"synthgap zoo build {root} --only wikipedia-plain-crnn_ctc-cpu-s0 --retrain"
    curve = pd.read_csv(folder / "curve.csv")
    assert list(curve["step"]) == list(range(2, record["steps"] + 1, 2))
    with safe_open(str(folder / "model.safetensors"), "pt") as f:  # stored compactly
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} <= {"torch.float16", "torch.int64"}  # noqa: SIM118 - safe_open is not iterable
    index = pd.read_csv(root / INDEX)
    assert list(index.columns) == INDEX_COLUMNS and len(index) == 1
    row = index.iloc[0]
    assert row["clean_recognition"] == record["test"]["recognition_rate"] and row["test_n"] == 16
    assert row["converged"] == (row["clean_recognition"] >= 0.5)
    # the index's path is what `synthgap eval` takes; its test seed is none training used
    model = load_checkpoint(row["path"])
    assert model.meta["stop"] == record["stop"] and model.meta["plateau"]["max_steps"] == 6
    assert row["test_seed"] != model.meta["seed"]
    # the recorded test score is reproducible from the stored weights
    gen = create_generator("wikipedia")
    images, latents = gen.generate(16, int(row["test_seed"]))
    pred = model.predict(images)
    rate = sum(p == lat.text for p, lat in zip(pred, latents, strict=True)) / 16
    assert rate == pytest.approx(row["clean_recognition"])


def test_status_current_then_stale_when_settings_or_generator_change(zoo_copy, monkeypatch):
    zoo = load_zoo(zoo_copy)
    assert status(zoo, zoo.entries[0]).state == "current"
    (zoo_copy / "zoo.toml").write_text(SPEC.replace("max_steps = 6", "max_steps = 7"))
    zoo = load_zoo(zoo_copy)
    st = status(zoo, zoo.entries[0])
    assert st.state == "stale" and st.why == "training changed since it was trained"
    (zoo_copy / "zoo.toml").write_text(SPEC)
    from synthgap.generators.wikipedia import Wikipedia

    monkeypatch.setattr(Wikipedia, "version", Wikipedia.version + 1)
    st = status(load_zoo(zoo_copy), zoo.entries[0])
    assert st.state == "stale" and st.why.startswith("generator")


def test_edited_weights_make_the_entry_broken_naming_the_file(zoo_copy):
    weights = zoo_copy / "wikipedia-plain-crnn_ctc-cpu-s0" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    zoo = load_zoo(zoo_copy)
    st = status(zoo, zoo.entries[0])
    assert st.state == "broken" and str(weights) in st.why and "changed or truncated" in st.why


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (SPEC.replace('models = ["crnn_ctc"]', 'models = ["nope"]'), "models"),
        (SPEC.replace("val_n = 16", "val_n = 'x'"), "train.val_n"),
        (SPEC.replace("val_n = 16", "colour = 1"), "train.colour"),
        (SPEC.replace("max_steps = 6", "max_steps = 0"), "plateau.max_steps"),
        (SPEC + "\n[[override]]\nmodel = 'crnn_ctc'\nbf16 = 1\n", "override[0].bf16"),
        ("styles = [", "zoo"),
        (SPEC + "\n[[more]]\nstyles = ['nope']\n", "more[0].styles"),
        (SPEC + "\n[[more]]\nseeds = [1]\n", "more[0].seeds"),
        (SPEC.replace("[train]", "more = 1\n[train]"), "more"),
    ],
)
def test_bad_spec_is_an_error_naming_file_and_field(tmp_path, text, field):
    (tmp_path / "zoo.toml").write_text(text)
    with pytest.raises(UsageError) as e:
        load_zoo(tmp_path)
    assert str(tmp_path / "zoo.toml") in str(e.value) and e.value.field == field


def test_more_tables_add_products_with_the_top_level_axes(tmp_path):
    more = '\n[[more]]\nstyles = ["wikipedia_confirmedit", "wikipedia"]\nvariants = ["plain", "elastic"]\n'
    (tmp_path / "zoo.toml").write_text(SPEC + more + "\n[[override]]\nvariant = 'elastic'\nval_n = 8\n")
    zoo = load_zoo(tmp_path)
    names = [e.name for e in zoo.entries]
    assert names == [
        "wikipedia-plain-crnn_ctc-cpu-s0",  # the top level's product first
        "wikipedia_confirmedit-plain-crnn_ctc-cpu-s0",
        "wikipedia_confirmedit-elastic-crnn_ctc-cpu-s0",
        "wikipedia-elastic-crnn_ctc-cpu-s0",  # wikipedia plain is named twice, listed once
    ]
    settings = {e.name: dict(e.settings) for e in zoo.entries}
    assert settings["wikipedia_confirmedit-elastic-crnn_ctc-cpu-s0"]["val_n"] == 8  # overrides apply
    assert settings["wikipedia_confirmedit-plain-crnn_ctc-cpu-s0"]["val_n"] == 16


def test_cli_list_and_missing_zoo(zoo_copy, tmp_path):
    r = synthgap("zoo", "list", zoo_copy)
    assert r.returncode == 0 and "wikipedia-plain-crnn_ctc-cpu-s0 | current" in r.stdout
    r = synthgap("zoo", "list", tmp_path / "nowhere")
    assert r.returncode == 2 and "nowhere/zoo.toml" in r.stderr


def _grid(tmp_path, text=GRID):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


def test_grid_evaluates_current_entry_without_training(zoo_copy, tmp_path):
    out = tmp_path / "out"
    r = synthgap("run", _grid(tmp_path), "--out", out, "--executor", "inline")
    assert r.returncode == 0, r.stderr
    assert "wikipedia-plain-crnn_ctc-cpu-s0: current: evaluated" in r.stderr
    df = pd.read_parquet(out / "cells.parquet")
    assert len(df) == 2 and df["error"].isna().all() and df["train_seconds"].isna().all()
    assert not (out / "runs").exists() or not any((out / "runs").iterdir())  # nothing trained


def test_grid_refuses_stale_entry_and_exits_2_with_failed_cells(zoo_copy, tmp_path):
    (zoo_copy / "zoo.toml").write_text(SPEC.replace("max_steps = 6", "max_steps = 5"))
    out = tmp_path / "out"
    r = synthgap("run", _grid(tmp_path), "--out", out, "--executor", "inline", "--stale", "refuse")
    assert r.returncode == 2 and "2 of 2 cells failed" in r.stderr
    df = pd.read_parquet(out / "cells.parquet")
    assert df["error"].str.contains("wikipedia-plain-crnn_ctc-cpu-s0: stale").all()


def test_grid_with_broken_entry_fails_its_cells_naming_the_file(zoo_copy, tmp_path):
    cfg = zoo_copy / "wikipedia-plain-crnn_ctc-cpu-s0" / "config.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "steps": 1}))
    out = tmp_path / "out"
    r = synthgap("run", _grid(tmp_path), "--out", out, "--executor", "inline")
    assert r.returncode == 2
    df = pd.read_parquet(out / "cells.parquet")
    assert df["error"].str.contains(str(cfg)).all()


def test_grid_without_budget_needs_every_run_in_the_zoo(zoo_copy, tmp_path):
    r = synthgap(
        "check-grid", _grid(tmp_path, GRID.replace('models = ["crnn_ctc"]', 'models = ["paper_lstm"]'))
    )
    assert r.returncode == 2 and "budget" in r.stderr and "not an entry of" in r.stderr
