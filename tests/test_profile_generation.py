"""scripts/profile_generation.py: exclusive stage times that add up, wrappers that come off again."""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd
import pytest

from synthgap.generators import create_generator, ops

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(ROOT / "scripts" / "profile_generation.py"), run_name="profile_generation")


@pytest.fixture(scope="module")
def wikipedia_elastic(script):
    return script["profile"]("wikipedia", True, 20, 7, rounds=1).set_index("stage")


def test_stages_add_up_to_the_wrapped_total(wikipedia_elastic):
    t = wikipedia_elastic
    stages = t[~t.index.str.startswith("total")]
    # generate is wrapped too, so every microsecond inside it belongs to exactly one stage
    assert stages["us_per_image"].sum() == pytest.approx(t.at["total (wrapped)", "us_per_image"], rel=0.02)
    assert (stages["us_per_image"] > 0).all()


def test_call_counts_follow_the_pipeline(wikipedia_elastic):
    gen = create_generator("wikipedia", elastic=True)
    mean_letters = sum(len(gen.sample(7, i)[1].text) for i in range(20)) / 20
    calls = wikipedia_elastic["calls_per_image"]
    assert calls["glyphs.paste"] == pytest.approx(mean_letters)  # one paste per letter
    # elastic_ox (wave folded in), electric, then the Simard field of the elastic variant
    assert calls["ops.displace"] == 3 and calls["ops.elastic_simard"] == 1
    assert calls["np.random.default_rng"] == 2  # the sample's stream, then its pixel stream
    assert calls["Wikipedia.generate"] == pytest.approx(1 / 20)


def test_the_wrappers_come_off(script):
    before = ops.displace
    script["profile"]("baidu2011", False, 5, 0, rounds=1)
    gen = create_generator("baidu2011")
    assert ops.displace is before and "generate" not in vars(type(gen))
    assert not hasattr(gen.render_ink, "__wrapped__")


def test_cli_writes_every_stage_and_refuses_unknown_styles(script, tmp_path, capsys):
    out = tmp_path / "stages.csv"
    assert script["main"](["yahoo", "--n", "5", "--top", "3", "--csv", str(out)]) == 0
    table = pd.read_csv(out)
    assert set(table["variant"]) == {"plain", "elastic"} and set(table["style"]) == {"yahoo"}
    assert "yahoo plain:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        script["main"](["yahooo"])
    assert e.value.code == 2 and "unknown style(s) yahooo" in capsys.readouterr().err
