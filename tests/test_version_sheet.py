"""scripts/version_sheet.py: a style's module as it was at a git revision renders beside today's."""

from __future__ import annotations

import re
import runpy
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgap.generators import create_generator

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


pytestmark = pytest.mark.skipif(_git("rev-parse", "HEAD").returncode != 0, reason="not a git checkout")


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(ROOT / "scripts" / "version_sheet.py"), run_name="version_sheet")


def test_the_style_at_head_renders_todays_bytes_without_replacing_the_registered_one(script, monkeypatch):
    if _git("diff", "--quiet", "HEAD", "--", "generators/wikipedia.py").returncode != 0:
        pytest.skip("generators/wikipedia.py differs from HEAD in this checkout")
    monkeypatch.chdir(ROOT)
    old = script["generator_at"]("wikipedia", "HEAD", elastic=True)
    now = create_generator("wikipedia", elastic=True)
    assert type(old) is not type(now) and type(create_generator("wikipedia")) is type(now)
    a, lat_a = old.generate(3, seed=7)
    b, lat_b = now.generate(3, seed=7)
    assert np.array_equal(a, b) and [x.text for x in lat_a] == [x.text for x in lat_b]


def test_the_sheet_has_a_column_per_version(script, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "sheet.png"
    script["main"](["wikipedia", "HEAD", "--out", str(out), "-n", "2", "--stats", "4", "--time"])
    assert Image.open(out).size == (2 * 206 + 6, Image.open(out).size[1])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wikipedia (plain) version 1, HEAD, seed 0; over 4 samples: ink")
    assert lines[1].startswith("wikipedia (plain) version 1, now, seed 0; over 4 samples: ink")
    timing = (
        r"generate: \d\.\d{3} ms per image at HEAD \(version 1\), \d\.\d{3} now \(version 1\): \d\.\d\d x"
    )
    assert re.fullmatch(timing, lines[-1])


def test_a_revision_git_cannot_show_is_a_clear_error(script, monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match=r"git show no-such-rev:generators/wikipedia\.py"):
        script["generator_at"]("wikipedia", "no-such-rev")


def test_an_old_file_that_no_longer_renders_is_a_clear_error_and_writes_nothing(
    script, monkeypatch, tmp_path
):
    """captcha_v2.py as first committed (ec2abbe) calls ops.strike, which today's ops no longer has."""
    if _git("cat-file", "-e", "ec2abbe^{commit}").returncode != 0:
        pytest.skip("commit ec2abbe is not in this checkout (a shallow clone)")
    monkeypatch.chdir(ROOT)
    out = tmp_path / "sheet.png"
    with pytest.raises(SystemExit, match=r"captcha_v2 at ec2abbe fails to render: AttributeError\(.*strike"):
        script["main"](["captcha_v2", "ec2abbe", "--out", str(out), "-n", "1", "--stats", "1"])
    assert not out.exists()
