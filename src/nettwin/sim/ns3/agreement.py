"""Cross-engine agreement: the figures that show the built-in engine is a faithful stand-in for ns-3.

Both engines run the same wired scenario over several seeds; each side's KPIs are pooled over its runs and
compared network-wide:

- ``delay``: packet-weighted mean delay over all flows, ``Σ delay·rx / Σ rx``;
- ``throughput``: total received bit/s, averaged over runs;
- ``drop_rate``: ``Σ dropped / Σ tx`` over all flows and runs.

The acceptance tolerances are :data:`TOLERANCE`: delay within 5 %, throughput within 2 %, drop rate within 10 %
relative or 0.5 percentage points, whichever is looser. Per-flow gaps are reported too, for information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nettwin.sim.result import SimResult

__all__ = ["TOLERANCE", "AGREEMENT_SCENARIOS", "Agreement", "pooled_kpis", "agreement"]

AGREEMENT_SCENARIOS = ("tandem", "nsfnet-light", "nsfnet-congested")
"""Scenario files (``examples/ns3/<name>.yaml``) of the agreement test and the speed benchmark."""

TOLERANCE = {"delay": 0.05, "throughput": 0.02, "drop_rate": 0.10, "drop_rate_abs": 0.005}


def pooled_kpis(results: Sequence[SimResult]) -> dict[str, float]:
    """Network-wide delay, throughput and drop rate of several runs of one scenario (see module docstring)."""
    rx = np.array([r.flows["rx_packets"] for r in results], dtype=float)
    tx = np.array([r.flows["tx_packets"] for r in results], dtype=float)
    delay = np.array([np.nan_to_num(r.flows["delay"]) for r in results])
    thr = np.array([r.flows["throughput"] for r in results])
    return {
        "delay": float((delay * rx).sum() / rx.sum()),
        "throughput": float(thr.sum(axis=1).mean()),
        "drop_rate": float((tx - rx).sum() / tx.sum()),
    }


@dataclass(frozen=True)
class Agreement:
    """One KPI of one scenario: both engines' pooled values, the relative gap and whether it is within tolerance."""

    kpi: str
    builtin: float
    ns3: float
    gap: float
    ok: bool
    flow_gap_median: float
    flow_gap_max: float

    def __str__(self) -> str:
        mark = "ok" if self.ok else "FAIL"
        return (
            f"{self.kpi:<10} builtin {self.builtin:12.6g}  ns3 {self.ns3:12.6g}  gap {100 * self.gap:6.2f}%  "
            f"{mark}  (per flow: median {100 * self.flow_gap_median:.1f}%, max {100 * self.flow_gap_max:.1f}%)"
        )


def _flow_gaps(kpi: str, builtin: Sequence[SimResult], ns3: Sequence[SimResult]) -> np.ndarray:
    a = np.nanmean([r.flows[kpi] for r in builtin], axis=0)
    b = np.nanmean([r.flows[kpi] for r in ns3], axis=0)
    ok = np.isfinite(a) & np.isfinite(b) & (a > 0)
    return np.abs(b[ok] - a[ok]) / a[ok] if ok.any() else np.array([0.0])


def agreement(builtin: Sequence[SimResult], ns3: Sequence[SimResult]) -> list[Agreement]:
    """Compare pooled KPIs of the two engines' runs of one scenario against :data:`TOLERANCE`."""
    a, b = pooled_kpis(builtin), pooled_kpis(ns3)
    rows = []
    for kpi in ("delay", "throughput", "drop_rate"):
        diff = abs(b[kpi] - a[kpi])
        gap = diff / a[kpi] if a[kpi] > 0 else (0.0 if diff == 0 else np.inf)
        ok = gap <= TOLERANCE[kpi]
        if kpi == "drop_rate":
            ok = ok or diff <= TOLERANCE["drop_rate_abs"]
        flows = _flow_gaps(kpi, builtin, ns3)
        rows.append(Agreement(kpi, a[kpi], b[kpi], float(gap), bool(ok), float(np.median(flows)), float(flows.max())))
    return rows
