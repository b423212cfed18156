"""The twin registry: learnable models by name, and the twins that are not a learnable model (queueing theory).

Both are filled here, explicitly, and only here. A new model plugs in with :func:`register_model` (a
:class:`~nettwin.twin.blocks.TwinModel` subclass whose constructor takes ``kpis`` and keyword options, and whose
``PARAMS`` declares the range of each of them) and is then available to :class:`~nettwin.twin.Twin`, checkpoints
and the ``nettwin train --model`` option. A twin of another kind (a :class:`~nettwin.twin.base.BaseTwin` subclass
with its ``kind``) is registered in :data:`TWINS`, and :func:`~nettwin.twin.make_twin` and
:func:`~nettwin.twin.load_twin` find it there.

Options are checked in one place, :func:`check_options`, against the model's ``PARAMS``: the options of a
:class:`~nettwin.twin.Twin`, those of ``nettwin train --option`` and the configurations read from checkpoints, each
before any model is built.
"""

from __future__ import annotations

from typing import Any

from nettwin._estimator import Registry, param_names
from nettwin._validation import check_known, short_repr, string_keyed, validate_params
from nettwin.errors import TwinError
from nettwin.twin.base import BaseTwin
from nettwin.twin.blocks import TwinModel
from nettwin.twin.models import GLANCE, GNN, RouteNet, RouteNetFermi
from nettwin.twin.qt import QueueingTwin

__all__ = [
    "MODELS",
    "TWINS",
    "register_model",
    "model_names",
    "twin_names",
    "build_model",
    "check_options",
    "display_name",
]

MODELS: Registry[TwinModel] = Registry("twin model", TwinError)
"""Learnable model name → model class (what a :class:`~nettwin.twin.Twin` trains)."""

TWINS: Registry[BaseTwin] = Registry("twin", TwinError)
"""Twins that are not a learnable model: kind → twin class."""

_DISPLAY: dict[str, str] = {}


def register_model(name: str, cls: type[TwinModel], display: str | None = None, *, replace: bool = False) -> None:
    """Make a learnable model available under ``name`` (``display``: how reports print it, default the class name).

    Raises
    ------
    TwinError
        If ``cls.PARAMS`` does not declare a check for every constructor argument, or ``name`` is taken already
        and ``replace`` is not set.
    """
    declared = getattr(cls, "PARAMS", {})
    missing = [n for n in param_names(cls) if n not in declared]
    if missing:
        raise TwinError(
            f"register_model: {cls.__name__}.PARAMS declares no range for constructor argument '{missing[0]}'"
        )
    if name in TWINS:
        raise TwinError(f"register_model: {name!r} is the {TWINS.get(name).__name__}'s name")
    MODELS.register(name, cls, replace=replace)
    _DISPLAY[name] = display or cls.__name__


register_model("glance", GLANCE, "GLANCE")
register_model("routenet", RouteNet, "RouteNet")
register_model("routenet_fermi", RouteNetFermi, "RouteNet-Fermi")
register_model("gnn", GNN, "GNN")
TWINS.register(QueueingTwin.kind, QueueingTwin)


def model_names() -> list[str]:
    """Names of the learnable models."""
    return MODELS.names()


def twin_names() -> list[str]:
    """Every twin name: the learnable models, then the other twins (``qt``, queueing theory)."""
    return [*MODELS, *TWINS]


def display_name(name: str) -> str:
    """How reports print a twin (``glance`` → ``GLANCE``)."""
    if name in TWINS:
        return TWINS.get(name).display or name
    return _DISPLAY.get(name, name)


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
    cls = MODELS.get(name)
    owner = owner or f"model '{name}'"
    if not string_keyed(options):
        where = f"'{prefix}'" if prefix else "options"
        raise TwinError(f"{owner}: {where} must map option names to values; got {short_repr(options)}")
    check_known(owner, options, param_names(cls), TwinError, prefix=prefix)
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
