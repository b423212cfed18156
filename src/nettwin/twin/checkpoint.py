"""Twin checkpoints: one file with weights, model configs, normalisation statistics, parameters and version.

Written with :func:`torch.save` (atomically) and read with ``weights_only=True``: a checkpoint holds tensors and
plain data only, never pickled code. The layout (``format_version`` 2)::

    {"format": "nettwin-twin", "format_version": 2, "nettwin_version": "0.1.0", "twin": "glance",
     "params": {...estimator parameters...}, "normalisation": {...} | None,
     "models": {"mtl": {"config": {...}, "state": {name: tensor}}}, "history": [...], "meta": {...},
     "ranges": {"link.capacity": [low, high], ...} | None, "digest": "sha256:..."}

Format 2 added ``digest`` (see :mod:`nettwin._checkpoint`) and ``ranges``, the inputs seen in training
(:mod:`nettwin.twin.ranges`). Format 1 files still load, with a warning that their integrity cannot be checked and
without ranges. Every field is checked on reading, before any model is built from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nettwin._checkpoint import read_tagged, write_tagged
from nettwin._validation import Interval, NumberMap, OneOf, Text, short_repr, string_keyed, validate_params
from nettwin.errors import TwinError
from nettwin.sim.kpi import FLOW_KPIS

__all__ = ["FORMAT", "FORMAT_VERSION", "write_checkpoint", "read_checkpoint", "checked_meta", "checked_history"]

FORMAT = "nettwin-twin"
FORMAT_VERSION = 2


def write_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (tagged with the format and nettwin version, with its digest) to ``path`` atomically."""
    write_tagged(path, FORMAT, FORMAT_VERSION, payload)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint and check its layout: missing, not a twin checkpoint, damaged or too new are each said.

    The values themselves (parameters, model configs, weights, statistics) are checked by the twin that loads
    them (:func:`~nettwin.twin.factory.load_twin`; model configs by :func:`~nettwin.twin.registry.check_options`,
    once).

    Raises
    ------
    TwinError
    """
    data = read_tagged(path, FORMAT, FORMAT_VERSION, "twin", TwinError)
    for key in ("twin", "params", "models"):
        if key not in data:
            raise TwinError(f"{path} is an incomplete twin checkpoint (no '{key}')")

    def expect(ok: bool, where: str, what: str, value: Any) -> None:
        if not ok:
            raise TwinError(f"{path}: '{where}' must be {what}; got {short_repr(value)}")

    expect(isinstance(data["twin"], str), "twin", "a twin name", data["twin"])
    expect(string_keyed(data["params"]), "params", "a mapping of parameter names to values", data["params"])
    expect(string_keyed(data["models"]), "models", "a mapping of model names to models", data["models"])
    for name, entry in data["models"].items():
        expect(
            string_keyed(entry) and set(entry) == {"config", "state"},
            f"models.{name}",
            "a mapping with 'config' and 'state'",
            entry,
        )
    for key in ("normalisation", "ranges"):
        value = data.get(key)
        expect(value is None or string_keyed(value), key, "a mapping or None", value)
    expect(string_keyed(data.get("meta", {})), "meta", "a mapping", data.get("meta"))
    history = data.get("history", [])
    expect(isinstance(history, list) and all(string_keyed(r) for r in history), "history", "a list of records", history)
    return data


_META = {
    "kpis": OneOf(tuple(FLOW_KPIS), many=True),
    "iqr": NumberMap(positive=True),
    "n_train": Interval(int, 0),
    "fit_seconds": Interval(float, 0),
}
_HISTORY = {"stage": Text(), "epoch": Interval(int, 0), "train_loss": Interval(float), "val_score": Interval(float)}


def checked_meta(data: Mapping[str, Any], owner: str, required: Sequence[str] = ()) -> dict[str, Any]:
    """A checkpoint's ``meta``, each field given checked (and those ``required`` there).

    Raises
    ------
    TwinError
        Naming the first field missing or outside its range.
    """
    meta = data.get("meta", {})
    validate_params(owner, meta, _META, TwinError, prefix="meta", given_only=True)
    if required:
        validate_params(owner, meta, {k: _META[k] for k in required}, TwinError, prefix="meta")
    return meta


def checked_history(history: list[dict[str, Any]], owner: str) -> list[dict[str, Any]]:
    """A checkpoint's learning curves, each record's fields checked."""
    for i, record in enumerate(history):
        validate_params(owner, record, _HISTORY, TwinError, prefix=f"history[{i}]")
    return list(history)
