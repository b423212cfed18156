"""How a command fails: output paths checked before any work, OS errors and interrupts as one line each.

A command that writes files declares its ``--out`` with :data:`OutFile` or :data:`OutDir`, so a directory given
where a file is expected (or the reverse), or a place that cannot be written, is refused before a simulation or a
training run spends minutes. Missing parent directories are created, as the writers do. What can only fail while
writing (a full disk, a file system turned read-only) reaches :func:`nettwin.cli.app.main` as an ``OSError``, which
:func:`describe_os_error` turns into one line naming the file and the system's reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

__all__ = [
    "out_option",
    "output_file",
    "output_dir",
    "default_output",
    "describe_os_error",
    "resumable",
    "interrupt_message",
]


def _writable_ancestor(path: Path) -> None:
    """Refuse ``path`` when the directory that would hold it (or its nearest existing ancestor) cannot be written."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise typer.BadParameter(f"'{path}': '{parent}' is a file, not a directory")
    _check_writable(parent)


def _check_writable(folder: Path) -> None:
    """Refuse a directory this process cannot create files in, saying whether the file system is read-only."""
    if not os.access(folder, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(folder) else "permission denied"
        raise typer.BadParameter(f"cannot write in '{folder}': {reason}")


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # statvfs is POSIX-only
        return False


def output_file(path: Path | None) -> Path | None:
    """Typer callback for an option naming a file to write: not a directory, in a writable place."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"'{path}' is a directory; give a file name")
    if path.exists() and path.is_file() and not os.access(path, os.W_OK):
        raise typer.BadParameter(f"cannot write '{path}': permission denied")
    _writable_ancestor(path)
    return path


def output_dir(path: Path | None) -> Path | None:
    """Typer callback for an option naming a directory to write into: not a file, in a writable place."""
    if path is None:
        return None
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"'{path}' is a file; give a directory")
    if path.is_dir():
        _check_writable(path)
    else:
        _writable_ancestor(path)
    return path


def default_output(path: Path, *, directory: bool = False, option: str = "--out") -> Path:
    """Check a command's default for an omitted ``option`` as the option's callback would check a given value."""
    try:
        return output_dir(path) if directory else output_file(path)
    except typer.BadParameter as err:
        err.param_hint = f"'{option}' (default '{path}')"
        raise


def out_option(help: str, *names: str, directory: bool = False) -> typer.models.OptionInfo:
    """A typer option naming a file (or, with ``directory``, a directory) the command writes, checked on parsing."""
    return typer.Option(*names, help=help, callback=output_dir if directory else output_file)


def describe_os_error(err: OSError) -> str:
    """One line for an error from the operating system: the file (when known) and the reason, without errno noise."""
    reason = err.strerror or str(err) or type(err).__name__
    if err.filename is None:
        return reason
    names = f"'{os.fsdecode(err.filename)}'"
    if err.filename2 is not None:
        names += f" → '{os.fsdecode(err.filename2)}'"
    return f"{names}: {reason}"


_resume_hint: str | None = None


def resumable(hint: str | None = "rerun the same command to resume") -> None:
    """Mark the running command as one an interruption does not lose: ``hint`` is said if it is interrupted.

    ``None`` clears the mark (the entry point does, before each command).
    """
    global _resume_hint
    _resume_hint = hint


def interrupt_message() -> str:
    """The line printed when the user interrupts the command (Ctrl-C)."""
    return f"interrupted; {_resume_hint}" if _resume_hint else "interrupted"
