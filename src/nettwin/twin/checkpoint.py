"""Twin checkpoints: one file with weights, model configs, normalisation statistics, parameters and version.

Written with :func:`torch.save` (atomically) and read with ``weights_only=True``: a checkpoint holds tensors and
plain data only, never pickled code. The layout (``format_version`` 1)::

    {"format": "nettwin-twin", "format_version": 1, "nettwin_version": "0.1.0", "twin": "glance",
     "params": {...estimator parameters...}, "normalisation": {...} | None,
     "models": {"mtl": {"config": {...}, "state": {name: tensor}}}, "history": [...], "meta": {...}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nettwin._checkpoint import read_tagged, write_tagged
from nettwin.errors import TwinError

__all__ = ["FORMAT", "FORMAT_VERSION", "write_checkpoint", "read_checkpoint"]

FORMAT = "nettwin-twin"
FORMAT_VERSION = 1


def write_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tagged with the format and nettwin version) to ``path`` atomically."""
    write_tagged(path, FORMAT, FORMAT_VERSION, payload)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint, saying why when the file is missing, is not a twin checkpoint or is too new.

    Raises
    ------
    TwinError
    """
    data = read_tagged(path, FORMAT, FORMAT_VERSION, "twin", TwinError)
    for key in ("twin", "params", "models"):
        if key not in data:
            raise TwinError(f"{path} is an incomplete twin checkpoint (no '{key}')")
    return data
