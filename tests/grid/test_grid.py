from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grid_standins as standins
import numpy as np
import pandas as pd
import pytest

from synthgap.errors import UsageError
from synthgap.generators import GENERATORS, create_generator
from synthgap.generators.wikipedia import Wikipedia
from synthgap.grid import (
    InlineExecutor,
    load_grid,
    make_executor,
    make_test_set,
    parse_grid,
    run_grid,
    validate_grid,
)
from synthgap.grid.store import open_store
from synthgap.registry import Entry

ROOT = Path(__file__).resolve().parents[2]
WORK = (standins.train_run, standins.evaluate_cell)
TINY = """
name = "tiny"
styles = ["wikipedia"]
variants = ["plain", "elastic"]
models = ["tiny_a", "tiny_b"]
sizes = ["cpu"]
seeds = [0]
test_size = 4
[budget]
steps = 1
[perturbations]
gaussian_noise = [2, 5]
kerning = [1]
"""


def tiny(text: str = TINY, **kw):
    grid = parse_grid(text, source="tiny.toml", **kw)
    validate_grid(grid, models=standins.MODELS)
    return grid


def register_style(monkeypatch, name, **defaults):
    """Register a wikipedia-like style with other defaults, for one test only."""
    cls = type(
        name, (Wikipedia,), {"name": name, "defaults": dataclasses.replace(Wikipedia.defaults, **defaults)}
    )
    monkeypatch.setitem(GENERATORS._entries, name, Entry(name, cls, {}))


def test_expansion():
    grid = tiny()
    runs, cells = grid.runs(), grid.cells()
    assert len(runs) == 4 and len(cells) == 16  # 2 variants x 2 models; clean + 2 noise + 1 kerning
    assert len({c.id for c in cells}) == 16 and len({r.id for r in runs}) == 4
    noise = [c for c in cells if c.perturbation == "gaussian_noise" and c.severity == 2]
    assert {c.params_json for c in noise} == {'{"sigma": 5.0}'}
    assert len({c.test_seed for c in noise}) == 1  # every breaker scored on the same test set
    kerning = next(c for c in cells if c.perturbation == "kerning")
    assert kerning.params == {"kerning_shift": 1}
    assert len({c.test_seed for c in cells}) == 4 and len({r.train_seed for r in runs}) == 4


def test_adding_cells_changes_no_other_cell():
    small = tiny()
    bigger = TINY.replace('"tiny_b"]', '"tiny_b", "broken"]').replace("kerning = [1]", "kerning = [1, 2]")
    bigger = bigger.replace("seeds = [0]", "seeds = [0, 1]") + "jpeg = [3]\n"
    big = {c.id: c for c in tiny(bigger).cells()}
    assert len(big) > len(small.cells())
    for c in small.cells():
        assert big[c.id] == c
        assert (big[c.id].test_seed, big[c.id].run.train_seed) == (c.test_seed, c.run.train_seed)


def test_transfer_cells(monkeypatch):
    register_style(monkeypatch, "digits", charset="0123456789")
    register_style(monkeypatch, "upper", charset="ABCDEFGHIJ")
    both = TINY.replace('styles = ["wikipedia"]', 'styles = ["wikipedia", "upper"]')
    grid = tiny(both + '[transfer]\nwikipedia = ["upper"]\nupper = ["wikipedia"]\n')
    transfer = {c.run.style: c for c in grid.cells() if c.perturbation == "transfer"}
    clean = {c.test_style: c for c in grid.cells() if c.perturbation == "clean"}
    assert transfer["wikipedia"].test_style == "upper"
    assert transfer["wikipedia"].test_seed == clean["upper"].test_seed  # the target's own clean set
    # case-folded overlap: all 10 of upper's letters for a wikipedia breaker, 10 of 26 the other way
    assert transfer["wikipedia"].params["charset_overlap_fraction"] == 1.0
    assert transfer["upper"].params["charset_overlap"] == "abcdefghij"
    assert transfer["upper"].params["charset_overlap_fraction"] == pytest.approx(10 / 26)
    with pytest.raises(UsageError) as e:
        tiny(TINY + '[transfer]\nwikipedia = ["digits"]\n')
    assert e.value.field == "transfer.wikipedia" and "disjoint" in str(e.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t + "styles = [", "grid"),
        (lambda t: t.replace('"wikipedia"]', '"nope"]'), "styles"),
        (lambda t: t.replace('"plain",', '"wobbly",'), "variants"),
        (lambda t: t.replace('"tiny_b"', '"tiny_c"'), "models"),
        (lambda t: t.replace("kerning = [1]", "kerning = [0]"), "perturbations.kerning"),
        (lambda t: t.replace("kerning = [1]", "kerning = [6]"), "perturbations.kerning"),
        (lambda t: t.replace("kerning = [1]", "kerning = [1, 1]"), "perturbations.kerning"),
        (lambda t: t + "warp = [1]\n", "perturbations.warp"),
        (lambda t: t + "transfer = [1]\n", "perturbations.transfer"),
        (lambda t: t.replace("steps = 1", "steps = 1\nminutes = 2"), "budget"),
        (lambda t: t.replace("steps = 1", "steps = 0"), "budget.steps"),
        (lambda t: t.replace("test_size = 4", "test_size = 0"), "test_size"),
        (lambda t: t.replace("seeds = [0]", "seeds = [0, 0]"), "seeds"),
        (lambda t: t.replace("seeds = [0]", "seeds = [0]\nseed = 3"), "seed"),
        (lambda t: t.replace('models = ["tiny_a", "tiny_b"]\n', ""), "models"),
        (lambda t: t + '[transfer]\nwikipedia = ["nope"]\n', "transfer.wikipedia"),
        (lambda t: t + '[transfer]\nwikipedia = ["wikipedia"]\n', "transfer.wikipedia"),
        (lambda t: t + '[real]\nwikipedia = "no/such/folder"\n', "real.wikipedia"),
        (lambda t: t + '[real]\nwikipedia = { path = ".", look = 5 }\n', "real.wikipedia.look"),
        (lambda t: t + '[real]\nwikipedia = { path = ".", skip_look = -1 }\n', "real.wikipedia.skip_look"),
        (lambda t: "zoo = 3\n" + t, "zoo"),
        (lambda t: t + "fonts = [5]\n", None),  # valid for wikipedia (its fonts are not in row 5)
    ],
)
def test_bad_grids_name_the_field(change, field, tmp_path):
    path = tmp_path / "g.toml"
    path.write_text(change(TINY))
    if field is None:
        load_grid(path, models=standins.MODELS)
        return
    with pytest.raises(UsageError) as e:
        load_grid(path, models=standins.MODELS)
    assert e.value.field == field, str(e.value)
    assert str(path) in str(e.value)


def test_fonts_that_are_the_styles_own_are_refused(monkeypatch):
    register_style(monkeypatch, "comic", fonts=("cmtt10", "free-mono"))
    with pytest.raises(UsageError) as e:
        tiny(TINY.replace('"wikipedia"]', '"comic"]') + "fonts = [5]\n")
    assert e.value.field == "perturbations.fonts" and "comic" in str(e.value)


def test_cli_check_grid(tmp_path):
    def check(text):
        (tmp_path / "g.toml").write_text(text)
        cmd = ["check-grid", str(tmp_path / "g.toml"), "--models", "tiny_a,tiny_b"]
        code = "from synthgap.cli import main; main()"
        return subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)

    ok = check(TINY)
    assert ok.returncode == 0, ok.stderr
    assert "4 runs, 16 cells" in ok.stdout
    bad = check(TINY.replace("kerning = [1]", "kerning = [9]"))
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "perturbations.kerning" in bad.stderr


def expected_table(grid) -> dict:
    out = {}
    for c in grid.cells():
        out[c.id] = None if c.severity == 5 or c.run.model == "broken" else standins.expected_metrics(c)
    return out


def check_table(df: pd.DataFrame, grid) -> None:
    expected = expected_table(grid)
    assert sorted(df["cell_id"]) == sorted(expected)  # every cell once
    for row in df.itertuples():
        want = expected[row.cell_id]
        if want is None:
            assert isinstance(row.error, str) and row.error
        else:
            assert pd.isna(row.error), row.error
            assert row.accuracy == want["accuracy"] and row.trained == want["trained"]


def test_run_collect_and_rerun_inline(tmp_path, monkeypatch):
    log = tmp_path / "evals.log"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    grid = tiny(TINY.replace('"tiny_b"]', '"tiny_b", "broken"]'))
    df = run_grid(grid, tmp_path / "out", *WORK, executor=InlineExecutor(), progress=False)
    check_table(df, grid)
    assert len(df) == 24 and df["error"].notna().sum() == 8 + 4  # broken model's 8 cells, 4 at severity 5
    broken = df[df.model == "broken"]
    assert broken["error"].str.startswith("training failed: RuntimeError").all()
    assert set(df.columns[:4]) == {"cell_id", "run_id", "grid", "style"}
    for table in (pd.read_parquet(tmp_path / "out/cells.parquet"), pd.read_csv(tmp_path / "out/cells.csv")):
        assert len(table) == 24 and list(table.columns) == list(df.columns)
    assert len(log.read_text().split()) == 16  # the broken model's cells were never evaluated
    # rerun: only failed cells are tried again; finished cells and trained runs are kept
    log.write_text("")
    again = run_grid(grid, tmp_path / "out", *WORK, executor=InlineExecutor(), progress=False)
    retried = set(log.read_text().split())
    assert retried == {c.id for c in grid.cells() if c.severity == 5 and c.run.model != "broken"}
    pd.testing.assert_frame_equal(
        again.drop(columns=["finished_at", "eval_seconds", "train_seconds"]),
        df.drop(columns=["finished_at", "eval_seconds", "train_seconds"]),
    )


def test_store_refuses_other_settings_and_a_second_runner(tmp_path):
    grid = tiny()
    with (
        open_store(tmp_path, grid.settings()),
        pytest.raises(UsageError, match="in use"),
        open_store(tmp_path, grid.settings()),
    ):
        pass
    other = tiny(TINY.replace("test_size = 4", "test_size = 5"))
    with pytest.raises(UsageError, match="other settings"), open_store(tmp_path, other.settings()):
        pass


def test_kill_mid_run_loses_and_duplicates_nothing(tmp_path):
    """SIGKILL the runner and its workers mid-grid; the rerun evaluates exactly the missing cells."""
    grid_file = tmp_path / "tiny.toml"
    grid_file.write_text(TINY)
    grid = load_grid(grid_file, models=standins.MODELS)
    out, log = tmp_path / "out", tmp_path / "evals.log"
    path = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "STANDIN_DELAY": "0.25", "STANDIN_LOG": str(log), "PYTHONPATH": path}
    code = f"import grid_standins; grid_standins.run_killable({str(grid_file)!r}, {str(out)!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "cells").glob("*.json"))) < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "the grid ended before it was killed"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {p.name: p.read_bytes() for p in (out / "cells").glob("[!.]*.json")}
    assert 4 <= len(before) < 16
    log.write_text("")
    os.environ["STANDIN_LOG"] = str(log)
    try:
        df = run_grid(grid, out, *WORK, executor=InlineExecutor(), progress=False)
    finally:
        del os.environ["STANDIN_LOG"]
    check_table(df, grid)
    evaluated = log.read_text().split()
    finished_before = {name[:-5] for name, data in before.items() if b'"error": null' in data}
    assert len(evaluated) == len(set(evaluated)) and not set(evaluated) & finished_before
    assert set(evaluated) | finished_before == {c.id for c in grid.cells()}
    for name, data in before.items():  # finished cells are kept byte for byte
        if name[:-5] in finished_before:
            assert (out / "cells" / name).read_bytes() == data
    assert not list((out / "cells").glob(".*")) and not list((out / "runs").glob(".*"))


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = tiny(TINY.replace('variants = ["plain", "elastic"]', 'variants = ["plain"]'))
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as c,
        make_executor("dask", scheduler=c.scheduler_address) as ex,
    ):
        df = run_grid(grid, tmp_path / "out", *WORK, executor=ex, progress=False)
    check_table(df, grid)
    assert len(df) == 8


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def test_local_workers_share_the_cores_among_their_torch_threads():
    from synthgap.grid.runner import task_threads

    cores = len(os.sched_getaffinity(0))
    assert task_threads(1) == cores and task_threads(2 * cores) == 1
    with make_executor("local", workers=2) as ex:
        assert ex.submit(_torch_threads).result() == max(1, cores // 2)
    with make_executor("local", workers=1, threads=3) as ex:
        assert ex.submit(_torch_threads).result() == 3


def test_make_executor_rejects_unknown_kinds():
    with pytest.raises(UsageError, match="executor"), make_executor("slurm"):
        pass
    with pytest.raises(UsageError, match="scheduler"), make_executor("dask"):
        pass


def test_test_sets_follow_the_cells():
    grid = tiny()
    cells = {(c.perturbation, c.severity): c for c in grid.cells() if c.run.model == "tiny_a"}
    clean = make_test_set(cells[("clean", 0)])
    assert clean.images.shape == (4, 50, 200)
    assert make_test_set(cells[("clean", 0)]).images.tobytes() == clean.images.tobytes()
    noisy = make_test_set(cells[("gaussian_noise", 2)])
    assert noisy.texts == clean.texts  # the clean set, perturbed
    diff = noisy.images.astype(float) - clean.images
    inside = (clean.images > 30) & (clean.images < 225)
    assert abs(diff[inside].std() - 5) < 0.5  # sigma 5 where clipping at 0/255 cannot bite
    kerned = make_test_set(cells[("kerning", 1)])
    lo, hi = create_generator("wikipedia").config.kerning
    assert {lat.kerning for lat in kerned.latents} <= {lo + 1, hi + 1}


def test_real_test_set(shared_data, tmp_path):
    grid = tiny(TINY + f'[real]\nwikipedia = "{shared_data / "wikipedia-sample"}"\n')
    cell = next(c for c in grid.cells() if c.perturbation == "real")
    real = make_test_set(cell)
    assert real.images.shape == (20, 50, 200) and real.latents is None
    assert all(t.isalpha() and t.islower() for t in real.texts)
    assert np.median(real.images) == 255  # white paper, dark ink


def test_real_cells_leave_out_the_look_set(shared_data):
    from synthgap.realdata import look_split

    folder = shared_data / "wikipedia-sample"
    grid = tiny(TINY + f'[real]\nwikipedia = {{ path = "{folder}", skip_look = 5 }}\n')
    cell = next(c for c in grid.cells() if c.perturbation == "real")
    assert cell.real_skip_look == 5 and grid.settings()["real_skip_look"] == {"wikipedia": 5}
    everything = sorted(p.stem for p in folder.iterdir())
    _, rest = look_split(20, 5)
    assert make_test_set(cell).texts == [everything[i] for i in rest]


def test_real_cells_follow_the_style(shared_data, tmp_path):
    """facebook is scored case-sensitively (labels keep their case); relative folders are relative
    to the grid file, as in the shipped grids (../../shared/data from grids/)."""
    grids = tmp_path / "checkout" / "grids"
    grids.mkdir(parents=True)
    (tmp_path / "shared").symlink_to(shared_data.parent)
    text = TINY.replace('["wikipedia"]', '["facebook", "captcha_v2"]').replace("[perturbations]", "[p]")
    text = text.split("[p]")[0] + '[real]\nfacebook = "../../shared/data/facebook-sample"\n'
    text += 'captcha_v2 = "../../shared/data/captcha_images_v2"\n'
    (grids / "g.toml").write_text(text)
    grid = load_grid(grids / "g.toml", models=standins.MODELS)
    cells = {c.run.style: c for c in grid.cells() if c.perturbation == "real"}
    fb = make_test_set(cells["facebook"])
    assert len(fb.texts) == 10 and any(t != t.lower() for t in fb.texts) and fb.skipped == 0
    v2 = make_test_set(cells["captcha_v2"])
    assert len(v2.texts) == 1040 and set("".join(v2.texts)) <= set("2345678bcdefgmnpwxy")


def test_real_cells_skip_labels_outside_the_style(tmp_path):
    from PIL import Image

    for name in ("abcdefgh.png", "abcdefghij.png", "ab.png", "abcdefgh1.png"):
        Image.new("L", (200, 50), 255).save(tmp_path / name)
    grid = tiny(TINY + f'[real]\nwikipedia = "{tmp_path}"\n')
    cell = next(c for c in grid.cells() if c.perturbation == "real")
    with pytest.warns(UserWarning, match="skipped 2 of 4"):
        real = make_test_set(cell)
    assert real.texts == ["abcdefgh", "abcdefghij"] and real.skipped == 2


@pytest.mark.parametrize("name", ["quick", "fragility", "paper"])
def test_shipped_grids(name):
    from synthgap.generators import list_generators

    path = ROOT / "grids" / f"{name}.toml"
    grid = parse_grid(path.read_text(), source=str(path), base_dir=path.parent)
    assert grid.name == name and set(grid.models) <= {"paper_lstm", "crnn_ctc", "multihead_cnn"}
    missing = set(grid.styles) - set(list_generators())
    if missing:
        pytest.skip(f"styles not registered in this checkout yet: {sorted(missing)}")
    if any(not Path(p).is_dir() for _, p in grid.real):
        pytest.skip("real data folders not present")
    validate_grid(grid)
    assert len(grid.cells()) > 0


def test_quick_grid_only_evaluates_current_zoo_entries():
    """`make quick` trains nothing: every run of grids/quick.toml is a current entry of results/zoo."""
    from synthgap.zoo import load_zoo, status

    path = ROOT / "grids" / "quick.toml"
    grid = parse_grid(path.read_text(), source=str(path), base_dir=path.parent)
    zoo = load_zoo(grid.zoo)
    states = {run.id: status(zoo, zoo.find(run)).state for run in grid.runs()}
    assert len(states) == len(grid.runs()) and set(states.values()) == {"current"}, states
