"""Versioned torch checkpoints: one tagged file, written atomically, read without running code.

Twins and learned TE solvers store different payloads but share this envelope, so they share what can go
wrong on reading it and how that is said.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import nettwin
from nettwin._files import atomic_write_bytes
from nettwin.errors import NettwinError

__all__ = ["write_tagged", "read_tagged"]


def write_tagged(path: str | Path, fmt: str, version: int, payload: dict[str, Any]) -> None:
    """Write ``payload`` tagged with its format, format version and the nettwin version, atomically."""
    import torch

    data = {"format": fmt, "format_version": version, "nettwin_version": nettwin.__version__, **payload}
    buf = io.BytesIO()
    torch.save(data, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_tagged(path: str | Path, fmt: str, version: int, what: str, error: type[NettwinError]) -> dict[str, Any]:
    """Read a file written by :func:`write_tagged` with format ``fmt`` and format version ≤ ``version``.

    Loads with ``weights_only=True`` onto the CPU. Raises ``error`` naming the file and why: missing, unreadable,
    not a nettwin ``what`` checkpoint, or written by a newer nettwin.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise error(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for foreign or corrupt files
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise error(f"{path} is not a nettwin {what} checkpoint (cannot be read: {first})") from err
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"{path} is not a nettwin {what} checkpoint (no '{fmt}' format tag)")
    found = data.get("format_version")
    if not isinstance(found, int) or found > version:
        raise error(
            f"{path} uses checkpoint format {found!r}, written by nettwin {data.get('nettwin_version')}; this "
            f"nettwin {nettwin.__version__} reads format ≤ {version}: upgrade nettwin to load it"
        )
    return data
