"""The TE solver registry: every solver by name, for the command line, checkpoints and the conformance battery.

The built-in solvers are registered here, and only here. A new solver subclasses
:class:`~nettwin.te.base.TESolver` (with a ``name``, ``needs_fit`` and, when learned, ``learned_state`` /
``restore_state``), is registered with ``SOLVERS.register(name, cls)``, and tests itself with
:func:`nettwin.testing.check_solver`.

Examples
--------
>>> solver_names()
['lp', 'ecmp', 'shortest', 'rescale', 'geminet', 'dote']
>>> make_solver("ecmp")
ECMPSolver()
"""

from __future__ import annotations

from typing import Any

from nettwin._estimator import Registry
from nettwin.errors import TEError
from nettwin.te.base import TESolver
from nettwin.te.baselines import ECMPSolver, RescaleSolver, ShortestPathSolver
from nettwin.te.dote import DOTESolver
from nettwin.te.geminet import GeminetSolver
from nettwin.te.lp import LPSolver

__all__ = ["SOLVERS", "solver_names", "learned_names", "solver_class", "make_solver"]

SOLVERS: Registry[TESolver] = Registry("TE solver", TEError)
"""Solver name → solver class."""

for _cls in (LPSolver, ECMPSolver, ShortestPathSolver, RescaleSolver, GeminetSolver, DOTESolver):
    SOLVERS.register(_cls.name, _cls)


def solver_names() -> list[str]:
    """Every registered solver's name."""
    return SOLVERS.names()


def solver_class(name: str) -> type[TESolver]:
    """The class registered as ``name``.

    Raises
    ------
    TEError
        For an unknown name (the message lists the known ones), or a name registered with something that is not
        a :class:`TESolver` class.
    """
    cls = SOLVERS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, TESolver)):
        raise TEError(f"TE solver {name!r} is registered with {cls!r}, not a TESolver class")
    return cls


def learned_names() -> list[str]:
    """The registered solvers that learn (need ``fit``, have checkpoints)."""
    return [n for n in SOLVERS if solver_class(n).needs_fit]


def make_solver(name: str, **params: Any) -> TESolver:
    """A new solver by name, with ``params`` (its constructor's arguments)."""
    return solver_class(name)(**params)
