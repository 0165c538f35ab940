"""Run the ``synthgap`` command as a user would and get its exit status, stdout and stderr.

In this interpreter by default (torch and the registries load once per test session instead of
once per call), through the same ``main()`` as the installed command, with argv, the working
folder, torch's thread count and warning filters restored afterwards. ``fresh=True`` starts a new
interpreter, for what needs a process of its own (a real dask worker, a signal).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
import warnings


def synthgap(*args, cwd=None, fresh: bool = False) -> subprocess.CompletedProcess:
    argv = [str(a) for a in args]
    if fresh:
        return subprocess.run(
            [sys.executable, "-c", "from synthgap.cli import main; main()", *argv],
            capture_output=True, text=True, cwd=cwd,
        )  # fmt: skip
    import torch

    from synthgap.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, os.getcwd(), torch.get_num_threads(), warnings.showwarning
    code = 0
    try:
        sys.argv = ["synthgap", *argv]
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("default")  # as a fresh interpreter: each warning shown once per call
            try:
                main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
            except Exception:  # an uncaught error: a traceback and exit status 1, as the command gives
                traceback.print_exc()
                code = 1
    finally:
        sys.argv, cwd_before, threads, warnings.showwarning = saved
        os.chdir(cwd_before)
        torch.set_num_threads(threads)
    return subprocess.CompletedProcess(["synthgap", *argv], code, out.getvalue(), err.getvalue())


def grid_text(*, name: str = "tiny", style: str = "wikipedia", models: str = '"crnn_ctc"', test_size: int = 8,
              head: str = "", budget: str = "[budget]\nsteps = 2\n", tables: str = "") -> str:  # fmt: skip
    """A one-style, plain-variant, cpu-size, seed-0 grid file: what the end-to-end tests run.

    ``head`` goes before the tables (top-level keys such as ``zoo = ...``), ``tables`` after.
    """
    return (
        f'name = "{name}"\nstyles = ["{style}"]\nvariants = ["plain"]\nmodels = [{models}]\n'
        f'sizes = ["cpu"]\nseeds = [0]\ntest_size = {test_size}\n{head}{budget}{tables}'
    )
