"""Compare solvers on the same instances: normalised MLU, time per instance, peak memory, CDF plot.

The reference is the LP optimum of each instance (:func:`~nettwin.te.lp.solve_lp`), so the LP row is 1.0 by
construction; every other solver's **normalised MLU** is its MLU divided by the optimum. Time per instance is
wall-clock seconds of ``solver.solve(instance)`` (model build included for the LP; tensor conversion included
for learned solvers). Peak memory is the largest resident set size of the process seen while the solver ran
(sampled every 5 ms from ``/proc/self/statm``; on other systems the process's lifetime peak).
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nettwin._files import atomic_write_png
from nettwin.errors import TEError
from nettwin.metrics import summary
from nettwin.te.base import TESolver
from nettwin.te.instance import TEInstance
from nettwin.te.lp import solve_lp

__all__ = ["SolverReport", "Evaluation", "evaluate", "plot_cdf", "PeakRSS"]


class PeakRSS:
    """Context manager recording the peak resident set size (bytes) while its block runs."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    @staticmethod
    def lifetime_peak() -> int:
        """The process's lifetime peak RSS in bytes (``getrusage``)."""
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(rss if sys.platform == "darwin" else rss * 1024)

    def _now(self) -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * self._page
        except OSError:
            return self.lifetime_peak()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> PeakRSS:
        self.peak = self._now()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._now())


@dataclass
class SolverReport:
    """One solver's results; ``normalised``, ``mlu`` and ``seconds`` have one entry per solved instance."""

    name: str
    normalised: np.ndarray
    mlu: np.ndarray
    seconds: np.ndarray
    peak_rss: int
    skipped: str = ""

    def row(self) -> dict[str, float | str]:
        """The table row: normalised-MLU summary, ms per instance, peak MiB."""
        s = summary(self.normalised)
        return {
            "solver": self.name,
            **s,
            "ms": float(self.seconds.mean() * 1e3) if self.seconds.size else float("nan"),
            "peak_mib": self.peak_rss / 2**20,
            "solved": int(self.normalised.size),
            "note": self.skipped,
        }


@dataclass
class Evaluation:
    """The reports of every solver, and the LP optimum of every instance."""

    reports: list[SolverReport]
    optimum: np.ndarray
    names: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, float | str]]:
        return [r.row() for r in self.reports]

    def to_dict(self) -> dict:
        return {
            "instances": self.names,
            "optimum": self.optimum.tolist(),
            "solvers": [
                {**r.row(), "normalised": r.normalised.tolist(), "seconds": r.seconds.tolist()} for r in self.reports
            ],
        }


def evaluate(
    solvers: Mapping[str, TESolver],
    instances: Sequence[TEInstance],
    optimum: Sequence[float] | None = None,
    callback: Callable[[str, int], None] | None = None,
    threads: int | None = None,
) -> Evaluation:
    """Run every solver on every instance and normalise by the LP optimum.

    Parameters
    ----------
    solvers : name → fitted solver. The LP reference row is added first as ``"lp"``.
    instances : the instances.
    optimum : the optimal MLUs if already known (then no LP runs and the LP row is omitted).
    callback : called as ``callback(solver_name, instance_index)`` after each solve.
    threads : HiGHS threads of the LP reference; None lets HiGHS choose.

    Returns
    -------
    Evaluation

    Raises
    ------
    TEError
        If a solver returns invalid ratios. A solver that cannot run on an instance (DOTE on a changed
        topology) is reported as skipped for the instances it refused.
    """
    instances = list(instances)
    if not instances:
        raise TEError("evaluate needs at least one instance")
    reports = []
    if optimum is None:
        secs, opt = [], []
        with PeakRSS() as mem:
            for i, inst in enumerate(instances):
                res = solve_lp(inst, threads=threads)
                opt.append(res.mlu)
                secs.append(res.seconds)
                if callback:
                    callback("lp", i)
        optimum_arr = np.array(opt)
        reports.append(SolverReport("lp", np.ones(len(opt)), optimum_arr, np.array(secs), mem.peak))
    else:
        optimum_arr = np.asarray(optimum, dtype=np.float64)
        if optimum_arr.shape != (len(instances),):
            raise TEError(f"optimum needs one value per instance ({len(instances)}), got {optimum_arr.size}")
    for name, solver in solvers.items():
        norm, mlus, secs, note = [], [], [], ""
        with PeakRSS() as mem:
            for i, inst in enumerate(instances):
                start = time.perf_counter()
                try:
                    x = solver.solve(inst)
                except TEError as err:
                    if not getattr(solver, "needs_fit", False):
                        raise
                    note = f"skipped {len(instances) - len(norm)}: {str(err).split(';')[0]}"
                    continue
                secs.append(time.perf_counter() - start)
                m = inst.mlu(x)
                mlus.append(m)
                norm.append(m / optimum_arr[i] if optimum_arr[i] > 0 else 1.0)
                if callback:
                    callback(name, i)
        reports.append(SolverReport(name, np.array(norm), np.array(mlus), np.array(secs), mem.peak, note))
    return Evaluation(reports, optimum_arr, [inst.name for inst in instances])


def plot_cdf(evaluation: Evaluation, path: str | Path, title: str = "") -> Path:
    """Write a PNG with the CDF of normalised MLU per solver; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for r in evaluation.reports:
        if r.normalised.size == 0:
            continue
        v = np.sort(r.normalised)
        ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=r.name)
    ax.set_xlabel("normalised MLU (MLU / LP optimum)")
    ax.set_ylabel("fraction of instances")
    ax.set_title(title or f"{len(evaluation.optimum)} instances")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return atomic_write_png(path, fig)
