"""Run a grid: train each run once, evaluate each of its cells, store every cell as it finishes.

The work is pluggable (the models layer provides it)::

    train_run(run: Run, out_dir: Path) -> Path          # writes a checkpoint under out_dir
    evaluate_cell(cell: Cell, checkpoint: Path) -> dict  # metric name -> number

Both must be picklable (module-level functions) and deterministic given ``run.train_seed`` and
``cell.test_seed``. Every executor goes through one ``concurrent.futures`` code path: a local
process pool (default), a dask.distributed cluster (``make_executor("dask", scheduler=ADDR)``;
the store folder must then be on a file system the workers share), or inline for debugging.

Rerunning on the same folder skips finished cells and finished runs; failed cells are retried.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import multiprocessing
import os
import platform
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd

from synthgap import __version__, versions
from synthgap.errors import UsageError
from synthgap.grid.spec import CLEAN, REAL, TRANSFER, Cell, Grid, Run
from synthgap.grid.store import (
    cell_record,
    collect,
    finished_checkpoint,
    finished_ids,
    open_store,
    run_dir,
    write_cell,
    write_tables,
)
from synthgap.io import atomic_dir, atomic_write_bytes
from synthgap.progress import progress as progress_bar

TrainRun = Callable[[Run, Path], Path]
EvaluateCell = Callable[[Cell, Path], dict[str, Any]]
EXECUTORS = ("local", "dask", "inline")


class InlineExecutor(Executor):
    """Runs each task at submission, in this process: the same code path, no parallelism."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(e)
        return future


def task_threads(workers: int) -> int:
    """Torch threads per local worker: the cores shared out, at least one each."""
    return max(1, len(os.sched_getaffinity(0)) // max(1, workers))


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


@contextlib.contextmanager
def make_executor(
    kind: str = "local", *, workers: int = 1, scheduler: Any = None, threads: int | None = None
) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor``: ``local`` process pool, ``dask`` client or ``inline``.

    ``scheduler`` (dask only) is a scheduler address or a ``distributed.LocalCluster``.
    Local workers start by ``spawn``: no state (torch threads, open files) leaks from this process.
    Each runs torch on ``threads`` threads (default ``task_threads(workers)``): more threads than
    cores make evaluation many times slower, as torch's threads spin between the small forward
    passes and the renders of a posterior (measured: 100 ms per captcha at 1 thread, 2 s at 2
    threads beside a busy core). Training sets its own split of render processes and threads.
    """
    if kind == "local":
        ex = ProcessPoolExecutor(
            max(1, workers),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_set_threads,
            initargs=(threads or task_threads(workers),),
        )
        try:
            yield ex
        except BaseException:  # Ctrl-C or an error: drop queued work instead of finishing the grid
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()
    elif kind == "dask":
        if scheduler is None:
            raise UsageError("scheduler: --executor dask needs a scheduler address", field="scheduler")
        from distributed import Client

        with Client(scheduler) as client:
            yield client.get_executor(pure=False)
    elif kind == "inline":
        yield InlineExecutor()
    else:
        raise UsageError(f"executor: must be one of {', '.join(EXECUTORS)}, got {kind!r}", field="executor")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _error(e: BaseException) -> str:
    """One line for the table: the exception and where it happened."""
    where = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
    at = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
    return f"{type(e).__name__}: {e}{at}"


def train_task(root: Path, run: Run, train_run: TrainRun) -> tuple[str | None, float, str | None]:
    """Train one run into runs/<id>/ (appears only when complete); (checkpoint, seconds, error)."""
    t0 = time.perf_counter()
    try:
        with atomic_dir(run_dir(root, run), field="out") as tmp:
            checkpoint = Path(train_run(run, tmp)).resolve()
            rel = checkpoint.relative_to(tmp.resolve()) if checkpoint.is_relative_to(tmp.resolve()) else None
            if rel is None or not checkpoint.exists():
                raise ValueError(
                    f"train_run must return a file or folder it wrote under {tmp}, got {checkpoint}"
                )
            info = {"checkpoint": str(rel), "run": run.coordinates, "train_seed": run.train_seed,
                    "seconds": time.perf_counter() - t0, "finished_at": _now()}  # fmt: skip
            atomic_write_bytes(tmp / "run.json", (json.dumps(info, indent=1) + "\n").encode())
        return str(finished_checkpoint(root, run)), time.perf_counter() - t0, None
    except Exception as e:
        return None, time.perf_counter() - t0, _error(e)


def eval_task(root: Path, record: dict[str, Any], cell: Cell, checkpoint: str, evaluate_cell: EvaluateCell):
    """Evaluate one cell and store it (atomically); returns the stored record."""
    t0 = time.perf_counter()
    try:
        metrics = dict(evaluate_cell(cell, Path(checkpoint)))
        clash = set(metrics) & set(record)
        if clash:
            raise ValueError(f"metric names clash with table columns: {sorted(clash)}")
        error = None
    except Exception as e:
        metrics, error = {}, _error(e)
    return store_cell(root, record, metrics, error, time.perf_counter() - t0)


def store_cell(root: Path, record: dict, metrics: dict, error: str | None, seconds: float | None) -> dict:
    record = {**record, "metrics": metrics, "error": error, "eval_seconds": seconds, "host": platform.node(),
              "synthgap_version": __version__, "versions": json.dumps(versions(), sort_keys=True),
              "finished_at": _now()}  # fmt: skip
    write_cell(root, record)
    return record


def _family(cell: Cell) -> str:
    if cell.perturbation in (CLEAN, REAL, TRANSFER):
        return cell.perturbation
    from synthgap.perturbations import perturbation_family

    return perturbation_family(cell.perturbation)


def run_grid(
    grid: Grid,
    out: Path,
    train_run: TrainRun,
    evaluate_cell: EvaluateCell,
    *,
    executor: Executor | None = None,
    workers: int = 1,
    progress: bool = True,
    prepared: dict[str, tuple[str | None, str | None]] | None = None,
) -> pd.DataFrame:
    """Train and evaluate every unfinished cell of a (validated) grid into ``out``; return the table.

    ``executor`` defaults to a local process pool of ``workers``. ``prepared`` maps a run id to a
    checkpoint trained elsewhere (a zoo entry: evaluated, not trained) or to an error that fails the
    run's cells. The tidy table is written to out/cells.parquet and out/cells.csv at the end
    (``collect(out)`` reads it at any time).
    """
    prepared = prepared or {}
    out = Path(out)
    cells = grid.cells()
    with open_store(out, grid.settings()), contextlib.ExitStack() as stack:
        done = finished_ids(out)
        todo: dict[Run, list[Cell]] = defaultdict(list)
        for cell in cells:
            if cell.id not in done:
                todo[cell.run].append(cell)
        bar = stack.enter_context(
            progress_bar(grid.name, total=len(cells), initial=len(cells) - sum(map(len, todo.values())),
                         unit="cell", enabled=progress)
        )  # fmt: skip
        if executor is None:
            executor = stack.enter_context(make_executor("local", workers=workers))
        futures: dict[Future, tuple[str, Any]] = {}

        def submit_evals(run: Run, checkpoint: str, train_seconds: float | None) -> None:
            for cell in todo[run]:
                record = {**cell_record(cell, _family(cell), grid.name), "train_seconds": train_seconds}
                futures[executor.submit(eval_task, out, record, cell, checkpoint, evaluate_cell)] = (
                    "cell",
                    cell,
                )

        def fail_cells(run: Run, error: str, seconds: float | None) -> None:
            for cell in todo[run]:
                record = {**cell_record(cell, _family(cell), grid.name), "train_seconds": seconds}
                store_cell(out, record, {}, error, None)
                bar.update(1)

        for run in todo:
            ready, refused = prepared.get(run.id, (None, None))
            checkpoint = ready or finished_checkpoint(out, run)
            if refused is not None:
                fail_cells(run, refused, None)
            elif checkpoint is not None:
                submit_evals(run, str(checkpoint), None)
            else:
                futures[executor.submit(train_task, out, run, train_run)] = ("run", run)
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                kind, item = futures.pop(future)
                if kind == "cell":
                    future.result()
                    bar.set_postfix_str(
                        f"{item.run.model} {item.test_style} {item.perturbation} {item.severity}"
                    )
                    bar.update(1)
                    continue
                checkpoint, seconds, error = future.result()
                if error is None:
                    submit_evals(item, checkpoint, seconds)
                else:  # a failed training fails its cells, as rows with an error
                    fail_cells(item, f"training failed: {error}", seconds)
        return write_tables(out, collect(out))
