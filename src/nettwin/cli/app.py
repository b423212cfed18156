"""The ``nettwin`` application: registers the command groups and turns every failure into one-line messages.

The command modules import only typer and rich at module level; each command imports the library parts it uses
when it runs, so ``nettwin --help``, shell completion and usage errors do not load numba, torch or pyarrow.
"""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer

from nettwin.cli import dataset, guard, manage, serve, simulate, te, twin
from nettwin.cli.output import error_line, warning_line
from nettwin.errors import NettwinError, NettwinWarning

__all__ = ["app", "main"]

app = typer.Typer(
    name="nettwin",
    help="Digital twins of communication networks: simulate scenarios, generate datasets, learn twins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
simulate.register(app)
twin.register(app)
app.add_typer(dataset.app, name="dataset")
app.add_typer(te.app, name="te")
app.add_typer(manage.app, name="manage")
app.add_typer(serve.app, name="serve")

# typer turns Ctrl-C inside a command into this exit status, the shell convention for death by SIGINT.
_INTERRUPTED = 130


def _show_version(value: bool) -> None:
    if value:
        import nettwin

        print(f"nettwin {nettwin.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_show_version, help="Show the version and exit.")
    ] = False,
) -> None:
    # Options of nettwin itself, before any command; --version acts in its callback.
    pass


def main() -> None:
    """Console entry point: bad input becomes ``error: ...`` lines, never a traceback.

    Library errors and failed reads or writes exit with status 1, command-line usage errors (a missing argument,
    an option out of range, an ``--out`` that cannot be written) with status 2, as click does, but on one line.
    Ctrl-C exits with status 130 after one line saying so (and, for commands that resume, how to resume).
    """
    guard.resumable(None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", NettwinWarning)
            warnings.showwarning = _show_warning
            code = app(prog_name="nettwin", standalone_mode=False)
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
    except OSError as err:
        error_line(guard.describe_os_error(err))
        code = 1
    except (KeyboardInterrupt, typer.Abort):
        code = _INTERRUPTED
    if code == _INTERRUPTED:
        error_line(guard.interrupt_message())
    sys.exit(code or 0)


_python_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """nettwin's own warnings (an old checkpoint, a network outside a twin's training ranges) as ``warning:`` lines;
    others as Python shows them."""
    if issubclass(category, NettwinWarning):
        warning_line(str(message))
    else:
        _python_showwarning(message, category, filename, lineno, file, line)
