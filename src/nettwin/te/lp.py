"""The exact optimum: the path-formulation linear program, solved with HiGHS (highspy).

.. math::

    \\min U \\quad \\text{s.t.} \\quad \\sum_{q \\in Q(p)} x_q = 1 \\;\\forall p, \\qquad
    \\sum_{q \\ni e} d_{p(q)}\\, x_q \\le U\\, c_e \\;\\forall e, \\qquad x \\ge 0,\\; U \\ge 0.

There is deliberately **no** bound ``U ≤ 1``: an overloaded network has an optimum above 1 and the LP returns it
(some published baselines bound U by 1 and report such instances as infeasible). A failed link (``c_e = 0``)
forces zero flow on every path through it. Demands and capacities are divided by the median working capacity
before solving, which keeps coefficients near 1. The time of :func:`solve_lp` includes building the model.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nettwin.errors import TEError
from nettwin.te.base import TESolver
from nettwin.te.instance import TEInstance, pair_sums

__all__ = ["LPResult", "LPSolver", "solve_lp"]


@dataclass(frozen=True)
class LPResult:
    """Optimal split ratios, the optimal MLU, HiGHS' status and the seconds spent (build + solve)."""

    ratios: np.ndarray
    mlu: float
    status: str
    seconds: float


def solve_lp(instance: TEInstance, time_limit: float | None = None, threads: int | None = None) -> LPResult:
    """Solve ``instance`` to optimality with HiGHS.

    Parameters
    ----------
    instance : the TE instance.
    time_limit : seconds HiGHS may spend; None for no limit.
    threads : HiGHS threads; None lets HiGHS choose.

    Returns
    -------
    LPResult

    Raises
    ------
    TEError
        If highspy is missing, a pair has demand but every candidate path crosses a failed link, or HiGHS does
        not reach the optimum.

    Examples
    --------
    >>> from nettwin.te.graph import TEGraph
    >>> from nettwin.te.paths import compute_paths
    >>> g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", 10.0), ("a", "c", 10.0)])
    >>> inst = TEInstance(g, compute_paths(g, np.array([[0, 2]])), np.array([34.0]))
    >>> round(solve_lp(inst).mlu, 6)
    1.7
    """
    try:
        import highspy
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise TEError("the LP solver needs highspy, a dependency of nettwin; reinstall nettwin") from err
    start = time.perf_counter()
    paths, graph = instance.paths, instance.graph
    cap = graph.capacity
    working = cap[cap > 0]
    scale = float(np.median(working)) if working.size else 1.0
    d = instance.path_demand / scale
    rows_nnz = paths.path_of_nnz
    coef = d[rows_nnz]
    keep = coef > 0
    used_links, link_row = np.unique(paths.link_ids[keep], return_inverse=True)
    n_pairs, n_paths, n_erows = paths.n_pairs, paths.n_paths, len(used_links)
    dead_paths = np.bincount(rows_nnz[keep], weights=cap[paths.link_ids[keep]] <= 0, minlength=n_paths) > 0
    demand_pairs = instance.demand > 0
    alive_per_pair = pair_sums(paths, (~dead_paths).astype(np.float64))
    stuck = np.nonzero(demand_pairs & (alive_per_pair == 0))[0]
    if stuck.size:
        s, t = paths.pairs[stuck[0]]
        raise TEError(
            f"instance '{instance.name}': every candidate path of pair {graph.nodes[s]}→{graph.nodes[t]} crosses "
            "a failed link; recompute or prune paths after failures (nettwin.te.changes)"
        )
    # columns: x_0..x_{Q-1}, U ; rows: P pair rows, then one row per used link
    r = np.concatenate([paths.path_pair, n_pairs + link_row, n_pairs + np.arange(n_erows)])
    c = np.concatenate([np.arange(n_paths), rows_nnz[keep], np.full(n_erows, n_paths)])
    v = np.concatenate([np.ones(n_paths), coef[keep], -cap[used_links] / scale])
    a = sp.csc_matrix((v, (r, c)), shape=(n_pairs + n_erows, n_paths + 1))
    a.sum_duplicates()
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n_paths + 1
    lp.num_row_ = n_pairs + n_erows
    lp.col_cost_ = np.concatenate([np.zeros(n_paths), [1.0]])
    lp.col_lower_ = np.zeros(n_paths + 1)
    lp.col_upper_ = np.concatenate([np.where(dead_paths, 0.0, 1.0), [inf]])
    lp.row_lower_ = np.concatenate([np.ones(n_pairs), np.full(n_erows, -inf)])
    lp.row_upper_ = np.concatenate([np.ones(n_pairs), np.zeros(n_erows)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    with _stdout_to_stderr():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    _use_threads(highspy, threads)
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        raise TEError(f"instance '{instance.name}': HiGHS stopped with status '{status}' instead of an optimum")
    x = np.clip(np.asarray(h.getSolution().col_value[:n_paths]), 0.0, None)
    sums = pair_sums(paths, x)
    x = x / np.where(sums > 0, sums, 1.0)[paths.path_pair]
    seconds = time.perf_counter() - start
    return LPResult(ratios=x, mlu=instance.mlu(x), status=status, seconds=seconds)


class LPSolver(TESolver):
    """The exact LP optimum (HiGHS) behind the estimator contract; ``fit`` does nothing.

    Parameters
    ----------
    time_limit : seconds per instance; None for no limit.
    threads : HiGHS threads; None lets HiGHS choose.

    Examples
    --------
    >>> LPSolver()
    LPSolver(time_limit=None, threads=None)
    """

    name = "lp"

    def __init__(self, time_limit: float | None = None, threads: int | None = None) -> None:
        self.time_limit = time_limit
        self.threads = threads

    def solve(self, instance: TEInstance) -> np.ndarray:
        return solve_lp(instance, self.time_limit, self.threads).ratios


_scheduler_threads: list[int | None] = [None]
"""The thread count HiGHS' process-wide scheduler was started with (None: its own choice)."""


def _use_threads(highspy: object, threads: int | None) -> None:
    """Restart HiGHS' process-wide task scheduler when the thread count changes.

    HiGHS starts one scheduler per process with the first solve's thread count and refuses to run a later model
    that asks for another count (status 'Not Set'), so that a second solve with other ``threads`` would fail.
    """
    if threads != _scheduler_threads[0]:
        highspy.Highs.resetGlobalScheduler(True)  # type: ignore[attr-defined]
        _scheduler_threads[0] = threads


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what native code prints to standard output to standard error meanwhile.

    HiGHS prints its licence banner from C++ when the first solver is made, before ``output_flag`` can be set; on
    standard output it would corrupt machine-readable output such as ``--format json``.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        ctypes.CDLL(None).fflush(None)  # the banner may sit in the C library's buffer
        os.dup2(saved, 1)
        os.close(saved)
