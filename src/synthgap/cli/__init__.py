"""The ``synthgap`` command. Each sub-command lives in its own module of this package."""

from __future__ import annotations

import sys
import warnings

import click

from synthgap.errors import UsageError, WorkerError
from synthgap.realdata import RealDataWarning


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synthgap")
def cli() -> None:
    """Robustness and misspecification benchmark for Captcha breakers trained on synthetic data."""


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 2."""
    shown = warnings.showwarning

    def show(message, category, *args, **kwargs):  # data warnings are for the user: one plain line
        if issubclass(category, RealDataWarning):
            click.echo(f"synthgap: warning: {message}", err=True)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        cli.main(prog_name="synthgap")
    except UsageError as e:
        click.echo(f"synthgap: error: {e}", err=True)
        sys.exit(2)
    except WorkerError as e:
        click.echo(f"synthgap: error: {e}", err=True)
        sys.exit(1)


from synthgap.cli import (  # noqa: E402,F401  (they register their commands)
    export,
    gap,
    gaussian,
    generate,
    grid,
    peers,
    posterior,
    train,
    zoo,
)
