"""Classic baselines: shortest path, ECMP over the k candidates, and local rescaling after failures.

* :class:`ShortestPathSolver` — all of a pair's demand on its shortest working candidate (fewest hops, the
  first listed on ties).
* :class:`ECMPSolver` — an equal share on every working candidate of the pair.
* :class:`RescaleSolver` — what a router does locally when links fail: keep the split an inner solver computed
  for the network before the failure (``instance.nominal``), zero the paths that died and renormalise the
  survivors of each pair; a pair whose every old path died splits equally over its new paths. On an instance
  without a failure it is the inner solver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nettwin.te.base import TESolver
from nettwin.te.instance import TEInstance, pair_sums
from nettwin.te.lp import LPSolver

__all__ = ["ShortestPathSolver", "ECMPSolver", "RescaleSolver", "working_paths"]


def working_paths(instance: TEInstance) -> np.ndarray:
    """``(Q,)`` True for paths that cross no failed link."""
    paths = instance.paths
    weights = instance.graph.capacity[paths.link_ids] <= 0
    return np.bincount(paths.path_of_nnz, weights=weights, minlength=paths.n_paths) == 0


def _normalise(instance: TEInstance, x: np.ndarray) -> np.ndarray:
    sums = pair_sums(instance.paths, x)
    return x / np.where(sums > 0, sums, 1.0)[instance.paths.path_pair]


class ShortestPathSolver(TESolver):
    """Every pair on its shortest working candidate.

    Examples
    --------
    >>> ShortestPathSolver()
    ShortestPathSolver()
    """

    name = "shortest"

    def solve(self, instance: TEInstance) -> np.ndarray:
        paths = instance.paths
        alive = working_paths(instance)
        length = np.where(alive, paths.path_lengths, np.iinfo(np.int64).max).astype(np.float64)
        # order by (pair, length, index): the first path of each pair in that order wins
        order = np.lexsort((np.arange(paths.n_paths), length, paths.path_pair))
        x = np.zeros(paths.n_paths)
        x[order[paths.pair_ptr[:-1]]] = 1.0
        return x


class ECMPSolver(TESolver):
    """An equal share on every working candidate (all candidates when none works).

    Examples
    --------
    >>> ECMPSolver()
    ECMPSolver()
    """

    name = "ecmp"

    def solve(self, instance: TEInstance) -> np.ndarray:
        alive = working_paths(instance).astype(np.float64)
        if np.any(pair_sums(instance.paths, alive) == 0):
            alive = np.where(pair_sums(instance.paths, alive)[instance.paths.path_pair] == 0, 1.0, alive)
        return _normalise(instance, alive)


class RescaleSolver(TESolver):
    """Local proportional rescaling of an inner solver's pre-failure split.

    Parameters
    ----------
    inner : the solver whose split of ``instance.nominal`` is rescaled (fitted if it needs fitting); None for the
        exact optimum (:class:`~nettwin.te.lp.LPSolver`).

    Examples
    --------
    >>> RescaleSolver(ECMPSolver())
    RescaleSolver(inner=ECMPSolver())
    """

    name = "rescale"

    def __init__(self, inner: TESolver | None = None) -> None:
        self.inner = inner

    def _inner(self) -> TESolver:
        return LPSolver() if self.inner is None else self.inner

    def fit(self, instances: Sequence[TEInstance]) -> RescaleSolver:
        """Fit the inner solver; returns ``self``."""
        self.inner_ = self._inner().fit(instances)
        return self

    def solve(self, instance: TEInstance) -> np.ndarray:
        inner = self.inner_ if hasattr(self, "inner_") else self._inner()
        if instance.nominal is None or instance.origin is None:
            return inner.solve(instance)
        before = inner.solve(instance.nominal)
        origin = instance.origin
        x = np.where(origin >= 0, before[np.clip(origin, 0, None)], 0.0) * working_paths(instance)
        sums = pair_sums(instance.paths, x)
        fresh = (sums <= 0)[instance.paths.path_pair]
        x = np.where(fresh, working_paths(instance).astype(np.float64), x)
        return _normalise(instance, x)
