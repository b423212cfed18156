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
    """Console entry point: bad input becomes ``error: ...`` lines, never a traceback.

    Library errors exit with status 1, command-line usage errors (a missing argument, an option out of range)
    with status 2, as click does, but on one line.
    """
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as err:
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError":
            # A command group called without a command: building this error already printed its help.
            code = 0
        else:
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            error_line(f"{err.format_message()}{hint}")
            code = getattr(err, "exit_code", 2)
    except NettwinError as err:
        error_line(str(err))
        code = 1
    except (KeyboardInterrupt, typer.Abort):
        error_line("interrupted")
        code = 130
    sys.exit(code or 0)
