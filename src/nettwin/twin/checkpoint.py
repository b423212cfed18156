"""Twin checkpoints: the estimator layout of :mod:`nettwin._checkpoint`, in one file.

Written with :func:`torch.save` (atomically) and read with ``weights_only=True``: a checkpoint holds tensors and
plain data only, never pickled code. The layout (``format_version`` 3, the one twins and TE solvers share)::

    {"format": "nettwin-twin", "format_version": 3, "nettwin_version": "0.1.0", "kind": "twin",
     "name": "glance" | "qt" | another registered twin, "params": {...constructor arguments...},
     "state": {"models": {"mtl": {"config": {...}, "state": {name: tensor}}}, "normalisation": {...} | None,
               "ranges": {"link.capacity": [low, high], ...} | None, "history": [...], "meta": {...}},
     "digest": "sha256:..."}

A twin keeps in ``state`` only what it learned (queueing theory: ``meta`` alone). Files of formats 1 and 2 (``twin``
the twin's name, ``params``, ``models``, ``normalisation``, ``ranges``, ``history`` and ``meta`` side by side) still
load, read into this layout. Format 2 added ``digest`` (see :mod:`nettwin._checkpoint`) and ``ranges``, the inputs
seen in training (:mod:`nettwin.twin.ranges`); format 1 files load with a warning that their integrity cannot be
checked, and without ranges. Every field is checked on reading, before any model is built from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nettwin._checkpoint import EstimatorPayload, read_estimator, write_estimator
from nettwin._validation import (
    Interval,
    NumberMap,
    OneOf,
    Text,
    check_known,
    short_repr,
    string_keyed,
    validate_params,
)
from nettwin.errors import TwinError
from nettwin.sim.kpi import FLOW_KPIS

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "KIND",
    "STATE_FIELDS",
    "write_checkpoint",
    "read_checkpoint",
    "checked_meta",
    "checked_history",
]

FORMAT = "nettwin-twin"
FORMAT_VERSION = 3
KIND = "twin"
STATE_FIELDS = ("models", "normalisation", "ranges", "history", "meta")
"""What a twin's learned ``state`` may hold."""


def write_checkpoint(path: str | Path, name: str, params: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Write twin ``name``'s checkpoint (its constructor ``params``, its learned ``state``) to ``path`` atomically,
    tagged with the format and nettwin version, with its digest."""
    write_estimator(path, FORMAT, FORMAT_VERSION, KIND, name, params, state)


def read_checkpoint(path: str | Path) -> EstimatorPayload:
    """Read a twin checkpoint of any format version, in the format 3 layout, and check that layout: missing, not a
    twin checkpoint (another nettwin checkpoint is named as such), damaged or too new are each said.

    The values themselves (parameters, model configs, weights, statistics) are checked by the twin that loads
    them (:func:`~nettwin.twin.factory.load_twin`; model configs by :func:`~nettwin.twin.registry.check_options`,
    once).

    Raises
    ------
    TwinError
    """
    payload = read_estimator(
        path, FORMAT, FORMAT_VERSION, KIND, "twin", TwinError, upgrade=lambda data: _upgrade(data, path)
    )
    state = payload.state

    def expect(ok: bool, where: str, what: str, value: Any) -> None:
        if not ok:
            raise TwinError(f"{path}: '{where}' must be {what}; got {short_repr(value)}")

    check_known(str(path), state, STATE_FIELDS, TwinError, prefix="state")
    models = state.get("models", {})
    expect(string_keyed(models), "state.models", "a mapping of model names to models", models)
    for name, entry in models.items():
        expect(
            string_keyed(entry) and set(entry) == {"config", "state"},
            f"state.models.{name}",
            "a mapping with 'config' and 'state'",
            entry,
        )
    for key in ("normalisation", "ranges"):
        value = state.get(key)
        expect(value is None or string_keyed(value), f"state.{key}", "a mapping or None", value)
    expect(string_keyed(state.get("meta", {})), "state.meta", "a mapping", state.get("meta"))
    history = state.get("history", [])
    expect(
        isinstance(history, list) and all(string_keyed(r) for r in history),
        "state.history",
        "a list of records",
        history,
    )
    return payload


def _upgrade(data: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The content of a format 1 or 2 file in the format 3 layout (nothing checked yet, nothing dropped)."""
    for key in ("twin", "params", "models"):
        if key not in data:
            raise TwinError(f"{path} is an incomplete twin checkpoint (no '{key}')")
    moved = {k: data[k] for k in STATE_FIELDS if k in data}
    return {
        **{k: v for k, v in data.items() if k not in ("twin", *STATE_FIELDS)},
        "kind": KIND,
        "name": data["twin"],
        "state": moved,
    }


_META = {
    "kpis": OneOf(tuple(FLOW_KPIS), many=True),
    "iqr": NumberMap(positive=True),
    "n_train": Interval(int, 0),
    "fit_seconds": Interval(float, 0),
}
_HISTORY = {"stage": Text(), "epoch": Interval(int, 0), "train_loss": Interval(float), "val_score": Interval(float)}


def checked_meta(state: Mapping[str, Any], owner: str, required: Sequence[str] = ()) -> dict[str, Any]:
    """A checkpoint's ``state.meta``, each field given checked (and those ``required`` there).

    Raises
    ------
    TwinError
        Naming the first field missing or outside its range.
    """
    meta = state.get("meta", {})
    validate_params(owner, meta, _META, TwinError, prefix="state.meta", given_only=True)
    if required:
        validate_params(owner, meta, {k: _META[k] for k in required}, TwinError, prefix="state.meta")
    return meta


def checked_history(history: list[dict[str, Any]], owner: str) -> list[dict[str, Any]]:
    """A checkpoint's learning curves, each record's fields checked."""
    for i, record in enumerate(history):
        validate_params(owner, record, _HISTORY, TwinError, prefix=f"state.history[{i}]")
    return list(history)
