"""Standard JSON for everything nettwin writes for users: no ``NaN`` or ``Infinity`` tokens, numpy values as numbers.

Python's ``json`` writes non-finite floats as the bare words ``NaN``/``Infinity``, which strict readers (``jq``,
browsers, most languages) reject. Here a non-finite float becomes ``null`` (a missing value), numpy scalars and
arrays become plain numbers and lists, and the encoder runs with ``allow_nan=False`` so nothing else slips through.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nettwin._files import atomic_write_text

__all__ = ["plain", "dumps", "write_json"]


def plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: non-finite floats → ``None``, numpy values → numbers and lists.

    Mappings become dicts and sequences lists (recursively); an object JSON cannot represent raises ``TypeError``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    # numpy is imported only by code that can hand us its values, so do not import it here.
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            return plain(value.tolist())
        if isinstance(value, np.generic):
            return plain(value.item())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _key(key: Any) -> str | int | float | bool | None:
    # json accepts these key types and writes them as strings; numpy keys are turned into their Python value.
    key = plain(key)
    if key is None or isinstance(key, str | int | float | bool):
        return key
    raise TypeError(f"cannot write a {type(key).__name__} key as JSON")


def dumps(value: Any, indent: int | None = 1) -> str:
    """Standard JSON text of ``value`` (see :func:`plain`)."""
    return json.dumps(plain(value), indent=indent, allow_nan=False)


def write_json(path: str | Path, value: Any) -> None:
    """Write ``value`` as standard JSON to ``path``, atomically, with a final newline."""
    atomic_write_text(path, dumps(value) + "\n")
