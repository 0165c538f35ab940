"""A grid on a real dask cluster: a scheduler and a worker started as separate processes, the worker
with its nanny (training then runs in a daemonic process, which may not start render processes)
and without."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from clitools import grid_text, synthgap

pytestmark = pytest.mark.slow

DASK = shutil.which("dask", path=str(Path(sys.executable).parent))
GRID = grid_text(name="dask", models='"crnn_ctc", "multihead_cnn"', tables="[posterior]\nsize = 0\n")


def _wait_for(path: Path, procs, seconds: float = 60) -> None:
    end = time.time() + seconds
    while not path.exists():
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args[:3]} exited with {p.returncode}")
        if time.time() > end:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.2)


@pytest.mark.skipif(DASK is None, reason="the dask command is not installed beside this interpreter")
@pytest.mark.parametrize("nanny", [True, False], ids=["nanny", "no-nanny"])
def test_grid_trains_and_scores_on_real_scheduler_and_worker(tmp_path, nanny):
    sched_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(sched_file)], **quiet)  # fmt: skip
    procs = [scheduler]
    try:
        _wait_for(sched_file, procs)
        args = [DASK, "worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-dashboard",
                "--host", "127.0.0.1"]  # fmt: skip
        procs.append(subprocess.Popen([*args, "--nanny" if nanny else "--no-nanny"], **quiet))
        from distributed import Client

        address = json.loads(sched_file.read_text())["address"]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        grid = tmp_path / "grid.toml"
        grid.write_text(GRID)
        out = tmp_path / "out"
        r = synthgap("run", grid, "--out", out, "--executor", "dask", "--scheduler", address, fresh=True)
        assert r.returncode == 0, r.stderr
        df = pd.read_parquet(out / "cells.parquet")
        assert len(df) == 2 and df["error"].isna().all(), df["error"].tolist()
        assert (df["n"] == 8).all() and df["recognition_rate"].between(0, 1).all()
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
