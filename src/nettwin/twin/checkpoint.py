"""Twin checkpoints: one file with weights, model configs, normalisation statistics, parameters and version.

Written with :func:`torch.save` (atomically) and read with ``weights_only=True``: a checkpoint holds tensors and
plain data only, never pickled code. The layout (``format_version`` 1)::

    {"format": "nettwin-twin", "format_version": 1, "nettwin_version": "0.1.0", "twin": "glance",
     "params": {...estimator parameters...}, "normalisation": {...} | None,
     "models": {"mtl": {"config": {...}, "state": {name: tensor}}}, "history": [...], "meta": {...}}
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

import nettwin
from nettwin._files import atomic_write_bytes
from nettwin.errors import TwinError

__all__ = ["FORMAT", "FORMAT_VERSION", "write_checkpoint", "read_checkpoint"]

FORMAT = "nettwin-twin"
FORMAT_VERSION = 1


def write_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tagged with the format and nettwin version) to ``path`` atomically."""
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "nettwin_version": nettwin.__version__, **payload}
    buf = io.BytesIO()
    torch.save(data, buf)
    atomic_write_bytes(path, buf.getvalue())


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint, saying why when the file is missing, is not a twin checkpoint or is too new.

    Raises
    ------
    TwinError
    """
    path = Path(path)
    if not path.is_file():
        raise TwinError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for foreign files
        raise TwinError(f"{path} is not a nettwin twin checkpoint (cannot be read: {type(err).__name__})") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TwinError(f"{path} is not a nettwin twin checkpoint (no '{FORMAT}' format tag)")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise TwinError(
            f"{path} uses checkpoint format {version!r}, written by nettwin {data.get('nettwin_version')}; this "
            f"nettwin {nettwin.__version__} reads format ≤ {FORMAT_VERSION}: upgrade nettwin to load it"
        )
    for key in ("twin", "params", "models"):
        if key not in data:
            raise TwinError(f"{path} is an incomplete twin checkpoint (no '{key}')")
    return data
