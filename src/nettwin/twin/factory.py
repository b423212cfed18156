"""Twins by name and from checkpoints, through the twin registry (:mod:`nettwin.twin.registry`): a learnable
model's name gives a :class:`~nettwin.twin.learned.Twin`, a registered twin kind (``qt``) its own class."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nettwin._validation import short_repr
from nettwin.errors import TwinError
from nettwin.twin.base import BaseTwin
from nettwin.twin.checkpoint import read_checkpoint
from nettwin.twin.learned import Twin
from nettwin.twin.registry import TWINS, model_names, twin_names

__all__ = ["make_twin", "load_twin"]


def make_twin(name: str, **params: Any) -> BaseTwin:
    """A twin by name: a registered twin kind (``qt``: the queueing-theory baseline) with those of ``params`` its
    constructor takes (``kpis``), any model name a :class:`Twin` with ``params``."""
    if name in TWINS:
        cls = TWINS.get(name)
        return cls(**{k: v for k, v in params.items() if k in cls.param_names()})
    return Twin(name, **params)


def load_twin(path: str | Path, device: str | None = None) -> BaseTwin:
    """Open any twin's checkpoint (learnable or queueing theory).

    Raises
    ------
    TwinError
        If the file is missing, not a twin checkpoint (another nettwin checkpoint, such as a TE solver's, is named
        as such), from a newer format, or names an unknown model.
    """
    payload = read_checkpoint(path)
    name = payload.name
    if name in TWINS:
        return TWINS.get(name)._from_checkpoint(payload, device, str(path))
    if name not in model_names():
        raise TwinError(
            f"{path}: checkpoint of unknown twin model {short_repr(name)}; this nettwin knows {', '.join(twin_names())}"
        )
    return Twin._from_checkpoint(payload, device, str(path))
