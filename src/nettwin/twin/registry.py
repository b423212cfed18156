"""The twin registry: learnable models by name, plus the queueing-theory baseline.

A new model plugs in with :func:`register_model` (a :class:`~nettwin.twin.blocks.TwinModel` subclass whose
constructor takes ``kpis`` and keyword options) and is then available to :class:`~nettwin.twin.Twin`, checkpoints
and the ``nettwin train --model`` option.
"""

from __future__ import annotations

from typing import Any

from nettwin.errors import TwinError
from nettwin.twin.blocks import TwinModel
from nettwin.twin.models import GLANCE, GNN, RouteNet, RouteNetFermi

__all__ = ["register_model", "model_names", "twin_names", "build_model", "display_name"]

_MODELS: dict[str, type[TwinModel]] = {
    "glance": GLANCE,
    "routenet": RouteNet,
    "routenet_fermi": RouteNetFermi,
    "gnn": GNN,
}
_DISPLAY = {"glance": "GLANCE", "routenet": "RouteNet", "routenet_fermi": "RouteNet-Fermi", "gnn": "GNN", "qt": "QT"}


def register_model(name: str, cls: type[TwinModel], display: str | None = None) -> None:
    """Make a learnable model available under ``name``."""
    _MODELS[name] = cls
    _DISPLAY[name] = display or cls.__name__


def model_names() -> list[str]:
    """Names of the learnable models."""
    return list(_MODELS)


def twin_names() -> list[str]:
    """Every twin name: the learnable models and ``qt`` (queueing theory)."""
    return [*_MODELS, "qt"]


def display_name(name: str) -> str:
    """How reports print a twin (``glance`` → ``GLANCE``)."""
    return _DISPLAY.get(name, name)


def build_model(name: str, **config: Any) -> TwinModel:
    """A new model by name with the given constructor options.

    Raises
    ------
    TwinError
        For an unknown name or option.
    """
    try:
        cls = _MODELS[name]
    except KeyError:
        raise TwinError(f"unknown twin model '{name}'; choose one of {', '.join(_MODELS)}") from None
    try:
        return cls(**config)
    except TypeError as err:
        raise TwinError(f"model '{name}': {err}") from err
