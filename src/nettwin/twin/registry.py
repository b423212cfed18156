"""The twin registry: learnable models by name, plus the queueing-theory baseline.

A new model plugs in with :func:`register_model` (a :class:`~nettwin.twin.blocks.TwinModel` subclass whose
constructor takes ``kpis`` and keyword options, and whose ``PARAMS`` declares the range of each of them) and is then
available to :class:`~nettwin.twin.Twin`, checkpoints and the ``nettwin train --model`` option.

Options are checked in one place, :func:`check_options`, against the model's ``PARAMS``: the options of a
:class:`~nettwin.twin.Twin`, those of ``nettwin train --option`` and the configurations read from checkpoints, each
before any model is built.
"""

from __future__ import annotations

import inspect
from typing import Any

from nettwin._validation import check_known, short_repr, string_keyed, validate_params
from nettwin.errors import TwinError
from nettwin.twin.blocks import TwinModel
from nettwin.twin.models import GLANCE, GNN, RouteNet, RouteNetFermi

__all__ = ["register_model", "model_names", "twin_names", "build_model", "check_options", "display_name"]

_MODELS: dict[str, type[TwinModel]] = {
    "glance": GLANCE,
    "routenet": RouteNet,
    "routenet_fermi": RouteNetFermi,
    "gnn": GNN,
}
_DISPLAY = {"glance": "GLANCE", "routenet": "RouteNet", "routenet_fermi": "RouteNet-Fermi", "gnn": "GNN", "qt": "QT"}


def _arguments(cls: type[TwinModel]) -> list[str]:
    return [n for n in inspect.signature(cls.__init__).parameters if n != "self"]


def register_model(name: str, cls: type[TwinModel], display: str | None = None) -> None:
    """Make a learnable model available under ``name``.

    Raises
    ------
    TwinError
        If ``cls.PARAMS`` does not declare a check for every constructor argument.
    """
    declared = getattr(cls, "PARAMS", {})
    missing = [n for n in _arguments(cls) if n not in declared]
    if missing:
        raise TwinError(
            f"register_model: {cls.__name__}.PARAMS declares no range for constructor argument '{missing[0]}'"
        )
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


def _model_class(name: str) -> type[TwinModel]:
    try:
        return _MODELS[name]
    except KeyError:
        raise TwinError(f"unknown twin model {short_repr(name)}; choose one of {', '.join(_MODELS)}") from None


def check_options(name: str, options: Any, owner: str | None = None, prefix: str | None = None) -> type[TwinModel]:
    """Check model options against the model's declared ranges (``PARAMS``); options not given keep defaults.

    ``owner`` starts the message (default ``model '<name>'``); ``prefix`` names the options as fields of a file
    (e.g. ``models.mtl.config``). Returns the model's class, to build from the checked options without checking
    them again.

    Raises
    ------
    TwinError
        For an unknown model, an unknown option, or the first option outside its range, naming it.
    """
    cls = _model_class(name)
    owner = owner or f"model '{name}'"
    if not string_keyed(options):
        where = f"'{prefix}'" if prefix else "options"
        raise TwinError(f"{owner}: {where} must map option names to values; got {short_repr(options)}")
    check_known(owner, options, _arguments(cls), TwinError, prefix=prefix)
    validate_params(owner, options, getattr(cls, "PARAMS", {}), TwinError, prefix=prefix, given_only=True)
    return cls


def build_model(name: str, **config: Any) -> TwinModel:
    """A new model by name with the given constructor options, checked first (:func:`check_options`).

    Raises
    ------
    TwinError
        For an unknown name or option, or an option outside its range.
    """
    return check_options(name, config)(**config)
