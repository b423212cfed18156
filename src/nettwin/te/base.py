"""The estimator contract every TE solver follows (scikit-learn style).

``__init__`` only stores arguments; ``fit(instances)`` learns what the solver needs and returns ``self``; learned
state ends in ``_``; ``solve(instance)`` returns split ratios (one per candidate path, ≥ 0, summing to 1 per pair)
and raises :class:`~nettwin.errors.NotFittedError` if the solver needs fitting and was not fitted.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from nettwin._validation import Check, validate_params
from nettwin.errors import NotFittedError, TEError
from nettwin.te.instance import TEInstance

__all__ = ["TESolver"]


class TESolver:
    """Base class: parameter introspection, ``repr`` and the fitted check."""

    name: str = "solver"
    """Short name used in tables and on the command line."""
    needs_fit: bool = False
    """Whether :meth:`solve` requires :meth:`fit` first."""
    PARAMS: ClassVar[dict[str, Check]] = {}
    """The range of each constructor argument, checked by :meth:`check_params`."""

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments and their current values."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self" and hasattr(self, k)}

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
        if not hasattr(self, attr):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit(instances) or load a checkpoint first"
            )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
