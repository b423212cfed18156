"""The estimator contract every TE solver follows (:mod:`nettwin._estimator`, shared with the twins).

``__init__`` only stores arguments; ``fit(instances)`` learns what the solver needs and returns ``self``; learned
state ends in ``_``; ``solve(instance)`` returns split ratios (one per candidate path, ≥ 0, summing to 1 per pair)
and raises :class:`~nettwin.errors.NotFittedError` if the solver needs fitting and was not fitted. A learned
solver also says what of it a checkpoint keeps (:meth:`TESolver.learned_state`) and how to take it back
(:meth:`TESolver.restore_state`); :mod:`nettwin.te.checkpoint` writes and reads the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nettwin._estimator import Estimator, check_fitted
from nettwin._validation import Check, Interval, short_repr, validate_params
from nettwin.errors import TEError
from nettwin.te.instance import TEInstance

__all__ = ["TESolver"]


class TESolver(Estimator):
    """Base class: parameters, their declared ranges, ``repr``, the fitted check and checkpoint state."""

    error = TEError
    name: str = "solver"
    """Short name used in tables, on the command line and in the registry (:mod:`nettwin.te.registry`)."""
    needs_fit: bool = False
    """Whether :meth:`solve` requires :meth:`fit` first (and whether the solver has checkpoints)."""
    PARAMS: ClassVar[dict[str, Check]] = {}
    """The range of each constructor argument, checked by :meth:`check_params`."""

    def check_params(self) -> TESolver:
        """Check every constructor argument against :attr:`PARAMS`; returns ``self``.

        ``fit`` calls it first; call it earlier to refuse bad settings before other work starts.

        Raises
        ------
        TEError
            Naming the first argument out of its range, what was expected and what was given.
        """
        validate_params(type(self).__name__, self.get_params(), self.PARAMS, TEError)
        return self

    def fit(self, instances: Sequence[TEInstance]) -> TESolver:
        """Learn from training instances; solvers without learned state return ``self`` unchanged."""
        return self

    def solve(self, instance: TEInstance) -> np.ndarray:  # pragma: no cover - abstract
        """Split ratios ``(Q,)`` for ``instance``."""
        raise NotImplementedError

    def _check_fitted(self, attr: str) -> None:
        check_fitted(self, attr, how="fit(instances)")

    def learned_state(self) -> dict[str, Any]:
        """What a checkpoint keeps of the fitted solver: tensors and plain data (learned solvers only).

        Raises
        ------
        TEError
            For a solver without learned state; NotFittedError for an unfitted one.
        """
        raise TEError(f"{type(self).__name__} has no learned state to keep in a checkpoint")

    def restore_state(self, state: Mapping[str, Any], owner: str) -> TESolver:
        """Take back what :meth:`learned_state` gave, each field checked first (``owner`` starts messages).

        Raises
        ------
        TEError
            Naming the field of ``state`` at fault.
        """
        raise TEError(f"{owner}: {type(self).__name__} has no learned state to restore")


def checked_history(history: Any, owner: str) -> list[float]:
    """A training history read from a checkpoint: a list of finite losses."""
    if not isinstance(history, list) or not all(Interval(float).ok(x) for x in history):
        raise TEError(f"{owner}: 'state.history' must be a list of losses; got {short_repr(history)}")
    return [float(x) for x in history]
