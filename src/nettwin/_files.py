"""Atomic file writes: a reader never sees a half-written file, a crash never leaves one behind."""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "png_bytes",
    "atomic_write_png",
    "is_temporary",
    "remove_temporaries",
]

_TEMPORARY = re.compile(r"\..+\.[0-9]+\.[0-9a-f]+\.tmp")
"""Name of the temporary file of an atomic write: ``.<name>.<writer pid>.<random hex>.tmp``."""


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    A symbolic link is followed: the file it points to is replaced, the link is kept. A ``path`` that exists and is
    neither a regular file nor a directory (``/dev/null``, a FIFO) is written in place: renaming over it would
    replace the device itself. An ``OSError`` names ``path``, not the temporary file.
    """
    path = Path(path)
    try:
        _write(path, data)
    except OSError as err:
        if err.errno is None or err.filename == str(path):
            raise
        raise OSError(err.errno, err.strerror, str(path)) from err


def _write(path: Path, data: bytes) -> None:
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file() and not path.is_dir():
        with path.open("wb") as fh:
            fh.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # see _TEMPORARY
    # Mode 0o666 through the process umask: the file gets the permissions a plain open() would give it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def png_bytes(fig: Any, dpi: float | None = None) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed (pyplot keeps every open figure alive)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def atomic_write_png(path: str | Path, fig: Any, dpi: float | None = None) -> Path:
    """Write a matplotlib figure as a PNG file atomically (:func:`png_bytes`); returns the path."""
    path = Path(path)
    atomic_write_bytes(path, png_bytes(fig, dpi))
    return path


def is_temporary(path: str | Path) -> bool:
    """Whether ``path`` is named like the temporary file of an atomic write (one a killed writer left behind).

    Such a file never replaced the file it was meant for, so it holds nothing anyone relies on.
    """
    return _TEMPORARY.fullmatch(Path(path).name) is not None


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files of atomic writes in ``folder`` (not below it); returns what was deleted.

    Only safe while no other process writes into ``folder`` (e.g. under a lock held for it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = sorted(p for p in folder.iterdir() if is_temporary(p) and p.is_file())
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
