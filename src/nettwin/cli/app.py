"""The ``nettwin`` application: registers the command groups and turns library errors into one-line messages."""

from __future__ import annotations

import sys

import typer

from nettwin.cli import dataset, simulate, te, twin
from nettwin.cli.output import error_line
from nettwin.errors import NettwinError

__all__ = ["app", "main"]

app = typer.Typer(
    name="nettwin",
    help="Digital twins of communication networks: simulate scenarios, generate datasets, learn twins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
simulate.register(app)
twin.register(app)
app.add_typer(dataset.app, name="dataset")
app.add_typer(te.app, name="te")


def main() -> None:
    """Console entry point: library errors become ``error: ...`` lines and exit status 1."""
    try:
        app()
    except NettwinError as err:
        error_line(str(err))
        sys.exit(1)
    except KeyboardInterrupt:
        error_line("interrupted")
        sys.exit(130)
