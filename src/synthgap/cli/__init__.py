"""The ``synthgap`` command. Each sub-command lives in its own module of this package."""

from __future__ import annotations

import sys

import click

from synthgap.errors import UsageError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synthgap")
def cli() -> None:
    """Robustness and misspecification benchmark for Captcha breakers trained on synthetic data."""


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 2."""
    try:
        cli.main(prog_name="synthgap")
    except UsageError as e:
        click.echo(f"synthgap: error: {e}", err=True)
        sys.exit(2)


from synthgap.cli import gaussian, generate, grid, posterior, train  # noqa: E402,F401  (they register their commands)
