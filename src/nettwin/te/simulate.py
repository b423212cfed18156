"""A TE split, simulated: the packet-level delay, jitter and drops of the split a solver chose, next to its MLU.

:func:`simulate_split` applies split ratios to a network (:func:`~nettwin.te.network.apply_split`) and runs the
built-in engine on the result, seeded, one or more runs. The :class:`SplitSimulation` it returns holds per-flow
KPIs and per-link utilisation averaged over the runs, the planned link utilisation (offered load ÷ capacity of the
split network) and a summary.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from nettwin.scenario.network import Network
from nettwin.te.instance import TEInstance
from nettwin.te.network import MIN_SHARE, apply_split

if TYPE_CHECKING:
    from nettwin.sim.result import SimResult

__all__ = ["SplitSimulation", "simulate_split", "SPLIT_KPIS"]

SPLIT_KPIS = ("delay", "jitter", "drops", "drop_rate")
"""The per-flow KPIs a simulated split reports (SI units: seconds, packets, a fraction)."""


@dataclass(frozen=True, eq=False)
class SplitSimulation:
    """The simulation of a split network.

    Parameters
    ----------
    network : the split network that was simulated.
    mlu : the solver's MLU on its instance.
    results : one :class:`~nettwin.sim.result.SimResult` per run.
    """

    network: Network
    mlu: float
    results: tuple[SimResult, ...]

    @cached_property
    def planned(self) -> np.ndarray:
        """``(L,)`` planned utilisation of every link: the split network's offered load ÷ capacity."""
        return self.network.offered_load / self.network.capacity

    @cached_property
    def measured(self) -> np.ndarray:
        """``(L,)`` measured utilisation of every link (busy time ÷ window), the mean over runs."""
        return np.mean([r.links["utilisation"] for r in self.results], axis=0)

    @cached_property
    def kpis(self) -> dict[str, np.ndarray]:
        """Each of :data:`SPLIT_KPIS` as an ``(F,)`` array in network flow order, the mean over runs (NaN delay
        and jitter where a flow received no packet)."""
        return {k: _run_mean([r.kpi(k) for r in self.results]) for k in SPLIT_KPIS}

    @cached_property
    def route_kpis(self) -> dict[str, np.ndarray] | None:
        """``delay`` and ``drop_rate`` of every path of every flow (the network's routes, flow by flow), the mean
        over runs; None when no flow splits (each flow's one path then has its flow's KPIs)."""
        if self.results[0].routes is None:
            return None
        return {k: _run_mean([r.routes[k] for r in self.results]) for k in ("delay", "drop_rate")}

    @cached_property
    def summary(self) -> dict[str, float]:
        """``mlu`` (the solver's), ``mlu_planned`` (of the split network), ``utilisation_measured`` (the largest
        measured link utilisation), ``delay_mean`` and ``delay_p95`` (the mean and 95th percentile of the flows'
        mean delays, s), ``drops`` (all flows' dropped packets per run)."""
        delay = self.kpis["delay"]
        seen = delay[np.isfinite(delay)]
        return {
            "mlu": self.mlu,
            "mlu_planned": float(self.planned.max()),
            "utilisation_measured": float(self.measured.max()),
            "delay_mean": float(seen.mean()) if seen.size else float("nan"),
            "delay_p95": float(np.percentile(seen, 95)) if seen.size else float("nan"),
            "drops": float(self.kpis["drops"].sum()),
        }

    def flow_records(self) -> list[dict[str, Any]]:
        """One record per flow: node names, mean rate (bit/s), paths (node names, share and, where the flow splits,
        the path's own delay and drop rate) and the flow's KPIs."""
        net, per_route = self.network, self.route_kpis
        first = np.searchsorted(net.route_flow, np.arange(net.n_flows))  # each flow's first route
        out = []
        for i, f in enumerate(net.flows):
            paths = []
            for k, (p, share) in enumerate(zip(net.route_nodes(i), f.route_shares, strict=True)):
                path = {"nodes": [net.nodes[n] for n in p], "share": share}
                if per_route is not None:
                    path.update({key: _number(v[first[i] + k]) for key, v in per_route.items()})
                paths.append(path)
            kpis = {k: _number(v[i]) for k, v in self.kpis.items()}
            out.append(
                {"src": net.nodes[f.src], "dst": net.nodes[f.dst], "rate": f.traffic.mean_rate, "paths": paths, **kpis}
            )
        return out

    def link_records(self) -> list[dict[str, Any]]:
        """One record per link: node names, planned and measured utilisation."""
        net = self.network
        return [
            {
                "src": net.nodes[net.link_src[i]],
                "dst": net.nodes[net.link_dst[i]],
                "planned": float(self.planned[i]),
                "measured": float(self.measured[i]),
            }
            for i in range(net.n_links)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``runs``, ``seed``, ``summary``, ``flows`` and ``links`` (NaN as null)."""
        return {
            "runs": len(self.results),
            "seed": self.results[0].meta.get("seed"),
            "summary": {k: _number(v) for k, v in self.summary.items()},
            "flows": self.flow_records(),
            "links": self.link_records(),
        }


def simulate_split(
    network: Network,
    instance: TEInstance,
    ratios: np.ndarray,
    *,
    runs: int = 1,
    seed: int | None = None,
    min_share: float = MIN_SHARE,
) -> SplitSimulation:
    """Apply ``ratios`` to ``network`` and simulate the split network with the built-in engine.

    Parameters
    ----------
    network : the network the instance was built from (:func:`~nettwin.te.network.network_instance`).
    instance, ratios : the TE instance and a solver's split ratios for it.
    runs : independent runs (0, 1, ...) averaged into the KPIs.
    seed : the simulation seed; None keeps the network's ``simulation.seed``.
    min_share : ratios at or below it are dropped (:func:`~nettwin.te.network.apply_split`).

    Raises
    ------
    TEError
        If the ratios do not fit the instance or the instance not the network.
    EngineError
        If the engine cannot run the split network, or ``runs`` is out of range.
    """
    from nettwin.sim.simulate import simulate

    split = apply_split(network, instance, ratios, min_share)
    results = simulate(split, engine="builtin", seed=seed, runs=runs)
    return SplitSimulation(split, instance.mlu(ratios), tuple(results))


def _run_mean(runs: list[np.ndarray]) -> np.ndarray:
    """The mean over runs of per-flow (or per-path) values, leaving out runs where one is NaN (nothing received)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN in every run stays NaN
        return np.nanmean(np.asarray(runs, dtype=float), axis=0)


def _number(v: float) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v
