"""scripts/zoo_real_gap.py: the README's old-vs-new-style table from the committed zoo, letters vs words."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_table_scores_each_current_entry_letters_and_words(shared_data, tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- zoo-real-gap:begin -->\nSTALE\n<!-- zoo-real-gap:end -->\nafter\n")
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    out = tmp_path / "out"
    argv = [
        str(shared_data),
        "--zoo",
        str(ROOT / "results" / "zoo"),
        "--out",
        str(out),
        "--readme",
        str(readme),
    ]
    monkeypatch.setattr(sys, "argv", ["zoo_real_gap.py", *argv])
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(ROOT / "scripts" / "zoo_real_gap.py"), run_name="__main__")
    assert e.value.code == 0
    df = pd.read_csv(out / "real_gap.csv")
    wiki = df[(df["style"] == "wikipedia") & (df["variant"] == "plain")].set_index("decoding")
    # the committed entry on the 20 samples, as results/word_prior recorded it: 11 as letters, 18 as words
    assert wiki.loc["letters", "correct"] == 11 and wiki.loc["words", "correct"] == 18
    assert set(wiki["n"]) == {20} and (wiki["ci_lo"] < wiki["recognition"]).all()
    assert (df[df["real_set"] == "facebook-sample"]["decoding"] == "letters").all()
    text = readme.read_text()
    assert "STALE" not in text and text.startswith("before\n") and text.endswith("after\n")
    assert "| wikipedia_confirmedit |" in text and "#### wikipedia-sample (n = 20)" in text


def test_a_missing_real_folder_is_one_error_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["zoo_real_gap.py", str(tmp_path), "--out", str(tmp_path / "out")])
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(ROOT / "scripts" / "zoo_real_gap.py"), run_name="__main__")
    assert e.value.code == 2 and "wikipedia-sample is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
