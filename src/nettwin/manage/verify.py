"""Verification of a proposed configuration by simulation: what every management application reports.

A twin proposes; the built-in engine judges. :func:`verify` simulates a network over several runs and puts, per
flow and KPI, the simulated mean and spread next to the twin's prediction and a target, with GLANCE's figures:

- ``eps``: mean relative error of the simulated KPIs against the target (ε_gen of a generated configuration);
- ``eps_bm``: the simulator's own run-to-run error on the same network (run 0 against the mean of the other runs),
  the floor ``eps`` is judged against;
- ``r2``: coefficient of determination of the simulated KPIs against the target;
- ``qos_failure``: the share of flows whose simulated KPI misses its bound — the SLA's where it bounds the KPI,
  else the target read as a bound (at most the target delay, jitter, drops and drop rate; at least the target
  throughput);
- ``twin_mre`` and ``twin_r2``: the twin's prediction against the simulated mean.

Error figures come from :mod:`nettwin.metrics`; results are JSON-ready (missing figures are None, never NaN).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nettwin import metrics
from nettwin._json import plain
from nettwin.errors import ManageError
from nettwin.manage.sla import SLA_KPIS, drop_rates, violations
from nettwin.scenario.network import Network
from nettwin.sim.kpi import DEFAULT_KPIS

__all__ = ["Verification", "verify", "simulated_kpis", "qos_failures"]

ENGINE = "builtin"
"""The engine every verification runs."""


def simulated_kpis(network: Network, kpis: Sequence[str], runs: int, seed: int | None = None) -> dict[str, np.ndarray]:
    """``{kpi: (runs, F) array}`` of ``runs`` runs of ``network`` on the built-in engine (``drop_rate`` included when
    asked for)."""
    from nettwin.sim.simulate import simulate

    results = simulate(network, engine=ENGINE, seed=seed, runs=runs)
    return {k: np.stack([np.asarray(r.kpi(k), dtype=float) for r in results]) for k in kpis}


def _bound_sense(kpi: str) -> str:
    return SLA_KPIS.get(kpi, "min" if kpi == "throughput" else "max")


def qos_failures(
    values: Mapping[str, np.ndarray],
    target: Mapping[str, np.ndarray] | None = None,
    bounds: Mapping[str, np.ndarray] | None = None,
) -> dict[str, float | None]:
    """Per KPI, the share of flows whose value misses its bound: the SLA ``bounds`` where some flow has one, else the
    ``target`` read as a bound (a maximum, a minimum for throughput); None where a KPI has neither."""
    out: dict[str, float | None] = {}
    for k, v in values.items():
        v = np.asarray(v, dtype=float)
        bound = np.asarray(bounds[k], dtype=float) if bounds is not None and k in bounds else None
        if bound is None or not np.isfinite(bound).any():
            bound = np.asarray(target[k], dtype=float) if target is not None and k in target else None
        if bound is None or not np.isfinite(bound).any():
            out[k] = None
            continue
        has = np.isfinite(bound)
        # A flow without a value (nothing received) misses its bound.
        with np.errstate(invalid="ignore"):
            met = (v >= bound) if _bound_sense(k) == "min" else (v <= bound)
        out[k] = float(np.mean(~(met[has] & np.isfinite(v[has]))))
    return out


@dataclass
class Verification:
    """The simulated truth of one network next to a twin's prediction and a target; see the module docstring."""

    kpis: tuple[str, ...]
    runs: dict[str, np.ndarray]
    """``{kpi: (runs, F)}`` simulated values."""
    predicted: dict[str, np.ndarray] = field(default_factory=dict)
    target: dict[str, np.ndarray] = field(default_factory=dict)
    bounds: dict[str, np.ndarray] | None = None
    seconds: float = 0.0

    def mean(self, kpi: str) -> np.ndarray:
        """(F,) simulated mean over runs (NaN where no run has a value)."""
        return _nanmean(self.runs[kpi])

    def spread(self, kpi: str) -> np.ndarray:
        """(F,) standard deviation over runs (0 with one run)."""
        x = self.runs[kpi]
        ok = np.isfinite(x)
        n = ok.sum(axis=0)
        mean = self.mean(kpi)
        sq = np.where(ok, (np.where(ok, x, 0.0) - mean) ** 2, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, np.sqrt(sq / np.maximum(n, 1)), np.nan)

    def metrics(self) -> dict[str, dict[str, float | None]]:
        """Per KPI: ``eps``, ``eps_bm``, ``r2``, ``qos_failure``, ``twin_mre``, ``twin_r2`` (None where not defined)."""
        means = {k: self.mean(k) for k in self.kpis}
        qos = qos_failures(means, self.target, self.bounds)
        out: dict[str, dict[str, float | None]] = {}
        for k in self.kpis:
            runs = self.runs[k]
            target, pred = self.target.get(k), self.predicted.get(k)
            row = {
                "eps": metrics.mre(means[k], target) if target is not None else None,
                "eps_bm": metrics.mre(runs[0], _nanmean(runs[1:])) if len(runs) > 1 else None,
                "r2": metrics.r2(means[k], target) if target is not None else None,
                "qos_failure": qos[k],
                "twin_mre": metrics.mre(pred, means[k]) if pred is not None else None,
                "twin_r2": metrics.r2(pred, means[k]) if pred is not None else None,
            }
            out[k] = plain(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per-KPI metrics, per-flow simulated mean and spread beside prediction and target, the SLA
        judgement of the simulated means, the simulation's wall time."""
        flows = {
            k: {
                "simulated_mean": self.mean(k),
                "simulated_std": self.spread(k),
                **({"predicted": self.predicted[k]} if k in self.predicted else {}),
                **({"target": self.target[k]} if k in self.target else {}),
            }
            for k in self.kpis
        }
        out: dict[str, Any] = {
            "engine": ENGINE,
            "runs": int(len(self.runs[self.kpis[0]])),
            "metrics": self.metrics(),
            "flows": flows,
            "seconds": self.seconds,
        }
        if self.bounds is not None:
            sim = {k: self.mean(k) for k in self.kpis}
            out["sla"] = violations(sim, self.bounds).to_dict()
        return plain(out)


def _nanmean(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.where(ok, x, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)


def verify(
    network: Network,
    *,
    runs: int = 3,
    seed: int | None = None,
    predicted: Mapping[str, np.ndarray] | None = None,
    target: Mapping[str, np.ndarray] | None = None,
    bounds: Mapping[str, np.ndarray] | None = None,
    kpis: Sequence[str] | None = None,
) -> Verification:
    """Simulate ``network`` ``runs`` times (built-in engine, runs 0.. of ``seed``, default the network's) and compare.

    Parameters
    ----------
    predicted : a twin's per-flow KPIs of ``network`` (SI units); a ``drop_rate`` is derived from ``drops`` when
        the SLA bounds it.
    target : per-flow target KPIs (e.g. the profile a search aimed at).
    bounds : per-flow SLA bounds (:meth:`~nettwin.manage.sla.SLA.bounds` of this network).
    kpis : KPIs compared; default those of the prediction or target, else delay, jitter, throughput and drops (and
        drop rate when bounded).

    Raises
    ------
    ManageError
        If ``runs`` is below 1 or a given array does not have one value per flow.
    """
    if runs < 1:
        raise ManageError(f"runs: must be at least 1, got {runs}")
    predicted = {k: np.asarray(v, dtype=float) for k, v in (predicted or {}).items()}
    target = {k: np.asarray(v, dtype=float) for k, v in (target or {}).items()}
    bounded = [k for k, b in (bounds or {}).items() if np.isfinite(np.asarray(b, dtype=float)).any()]
    if predicted and "drop_rate" in bounded and "drop_rate" not in predicted:
        predicted["drop_rate"] = drop_rates(predicted, network)
    names = tuple(kpis or dict.fromkeys([*(target or predicted or DEFAULT_KPIS), *bounded]))
    for what, given in (("predicted", predicted), ("target", target), ("bounds", bounds or {})):
        for k, v in given.items():
            if len(np.asarray(v)) != network.n_flows:
                raise ManageError(f"{what}.{k}: {len(np.asarray(v))} values for {network.n_flows} flows")
    start = time.perf_counter()
    sim = simulated_kpis(network, names, runs, seed)
    seconds = time.perf_counter() - start
    return Verification(
        kpis=names,
        runs=sim,
        predicted={k: v for k, v in predicted.items() if k in names},
        target={k: v for k, v in target.items() if k in names},
        bounds={k: np.asarray(v, dtype=float) for k, v in bounds.items()} if bounds is not None else None,
        seconds=seconds,
    )
