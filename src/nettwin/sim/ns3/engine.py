"""The ns-3 engine: nettwin scenarios simulated by ns-3 3.44 in worker processes.

Wired networks become point-to-point links with DropTail queues and static routes on the scenario's paths
(:mod:`~nettwin.sim.ns3.wired`); wireless networks become 802.11b ad hoc networks routed by OLSR
(:mod:`~nettwin.sim.ns3.wireless`). KPIs follow :mod:`nettwin.sim.kpi`, exactly as for the built-in engine:
packets sent during ``[warmup, duration)`` are followed until received or dropped, counted at the scenario's
packet size, and lost = tx − rx.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from nettwin.errors import EngineError
from nettwin.scenario.network import Network
from nettwin.sim.kpi import FlowCounters, LinkCounters, flow_kpis, link_stats
from nettwin.sim.ns3.job import Ns3Options, make_job
from nettwin.sim.ns3.pool import WorkerPool, shared_pool
from nettwin.sim.result import SimResult

__all__ = ["Ns3Engine", "MISSING_EXTRA", "engine_factory", "ns3_available", "simulate_runs"]

MISSING_EXTRA = "the ns-3 engine needs the ns3 extra: pip install 'nettwin[ns3]'"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def ns3_available() -> bool:
    """Whether the ``ns3`` package (the ``nettwin[ns3]`` extra) is installed; does not import it."""
    return _version("ns3") is not None


class Ns3Engine:
    """Simulate networks with ns-3, in long-lived worker processes.

    Parameters
    ----------
    workers : worker processes of the pool (parallel runs in :meth:`simulate_many`).
    routing : wired networks: ``static`` (the scenario's paths) or ``global`` (ns-3 global routing).
    olsr_warmup : wireless networks: seconds of OLSR before traffic starts.
    drain : wireless networks: seconds simulated after ``duration`` for packets in flight.
    timeout : seconds one run may take before it is stopped and fails; None waits.
    pool : a :class:`WorkerPool` to use; default the process-wide pool of ``workers`` workers.

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> sc = parse_scenario({
    ...     "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}}],
    ...     "simulation": {"duration": "2s"}})
    >>> result = Ns3Engine().simulate(build_network(sc))  # doctest: +SKIP
    >>> int(result.flows["dropped"][0])  # doctest: +SKIP
    0
    """

    name = "ns3"

    def __init__(
        self,
        *,
        workers: int = 1,
        routing: str = "static",
        olsr_warmup: float = 900.0,
        drain: float = 5.0,
        timeout: float | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        self.workers = workers
        self.options = Ns3Options(routing=routing, olsr_warmup=olsr_warmup, drain=drain)
        self.timeout = timeout
        self._pool = pool

    def __repr__(self) -> str:
        o = self.options
        return f"Ns3Engine(workers={self.workers}, routing='{o.routing}', olsr_warmup={o.olsr_warmup:g})"

    @property
    def pool(self) -> WorkerPool:
        """The worker pool runs go to (started lazily)."""
        if self._pool is None:
            if not ns3_available():
                raise EngineError(MISSING_EXTRA)
            self._pool = shared_pool(self.workers, self.timeout)
        return self._pool

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        """Simulate ``network`` once in a worker.

        Parameters
        ----------
        network : the resolved scenario.
        seed : scenario seed; default ``network.simulation.seed``.
        run : repetition number; runs use independent ns-3 substreams of the same seed.

        Returns
        -------
        SimResult with ``meta``: engine, version, ns3_version, seed, run, wall_seconds (build and run in the
        worker, ns-3 import excluded), packets, packet_hops, events, and for wireless or global routing the
        paths as routed (``paths`` replaced: each flow's main path, the one that delivered most of its measured
        packets) with ``path_changes`` per flow and ``main_path_share``, the share of each flow's delivered packets
        that took its main path (None where none arrived).

        Raises
        ------
        EngineError
            If the network cannot be simulated, the extra is missing, or ns-3 failed (twice, when it aborted).
        """
        [out] = self.simulate_many([(network, seed, run)])
        if isinstance(out, EngineError):
            raise out
        return out

    def simulate_many(self, items: Iterable[tuple[Network, int | None, int]]) -> list[SimResult | EngineError]:
        """Simulate several ``(network, seed, run)`` items on all workers in parallel.

        A failed item (invalid for ns-3, or ns-3 aborted twice) yields its :class:`EngineError` in place of a
        result; the other items are unaffected.
        """
        items = list(items)
        jobs: list[dict[str, Any] | EngineError] = []
        for network, seed, run in items:
            try:
                s = network.simulation.seed if seed is None else int(seed)
                jobs.append(make_job(network, s, run, self.options))
            except EngineError as err:
                jobs.append(err)
        valid = [i for i, j in enumerate(jobs) if not isinstance(j, EngineError)]
        outs = self.pool.map([jobs[i] for i in valid]) if valid else []  # type: ignore[misc]
        results: list[SimResult | EngineError] = [
            j if isinstance(j, EngineError) else EngineError("not run") for j in jobs
        ]
        for i, out in zip(valid, outs, strict=True):
            results[i] = out if isinstance(out, EngineError) else self._result(items[i][0], jobs[i], out)  # type: ignore[arg-type]
        return results

    def _result(self, network: Network, job: dict[str, Any], out: dict[str, Any]) -> SimResult:
        window = job["duration"] - job["warmup"]
        flows = flow_kpis(
            FlowCounters(
                tx_packets=out["tx_packets"],
                rx_packets=out["rx_packets"],
                rx_bytes=out["rx_bytes"],
                delay_sum=out["delay_sum"],
                delay_sq_sum=out["delay_sq_sum"],
                jitter_sum=out["jitter_sum"],
                delay_hist=out["delay_hist"],
            ),
            window,
        )
        links = link_stats(
            LinkCounters(
                busy_time=out["busy_time"],
                wait_time=out["wait_time"],
                drops=out["link_drops"],
                tx_packets=out["link_tx"],
            ),
            window,
        )
        if network.medium == "wireless":
            # Airtime and queue lengths are not observed on Wi-Fi (NaN). tx_packets counts measured packets that
            # crossed each radio link, drops those the sender's MAC gave up on (retry limit, full or expired
            # queue); packets lost for want of a route or an ARP reply are on no link.
            links["utilisation"] = np.full(network.n_links, np.nan)
            links["mean_queue"] = np.full(network.n_links, np.nan)
        meta: dict[str, Any] = {
            "engine": self.name,
            "version": _version("nettwin") or "unknown",
            "ns3_version": _version("ns3"),
            "seed": job["scenario_seed"],
            "run": job["run"],
            "wall_seconds": out["build_seconds"] + out["run_seconds"],
            "run_seconds": out["run_seconds"],
            "packets": out["packets"],
            "packet_hops": out["packet_hops"],
            "events": out["events"],
            "routing": "olsr" if network.medium == "wireless" else self.options.routing,
        }
        result = SimResult.from_network(network, flows, links, meta)
        if "paths" in out:
            routed = tuple(tuple(p) if p else result.paths[f] for f, p in enumerate(out["paths"]))
            meta["path_changes"] = [int(c) for c in out["path_changes"]]
            meta["paths_changed"] = [f for f, c in enumerate(out["path_changes"]) if c > 0]
            meta["paths_unobserved"] = [f for f, p in enumerate(out["paths"]) if not p]
            meta["main_path_share"] = [
                round(m / r, 4) if r else None for m, r in zip(out["main_path_packets"], out["rx_packets"], strict=True)
            ]
            if network.medium == "wireless":
                meta["olsr_warmup"] = self.options.olsr_warmup
            result = dataclasses.replace(result, paths=routed, meta=meta)
        return result

    def close(self) -> None:
        """Stop the worker processes of this engine's pool now (they restart if the pool is used again)."""
        if self._pool is not None:
            self._pool.close()


def engine_factory() -> Ns3Engine:
    """The registry's factory for ``ns3``: an engine with default options, or a clear error without the extra."""
    if not ns3_available():
        raise EngineError(MISSING_EXTRA)
    return Ns3Engine()


def simulate_runs(engine: Ns3Engine, network: Network, seeds: Sequence[int], run: int = 0) -> list[SimResult]:
    """Run ``network`` once per seed in parallel and return the results (raising the first failure)."""
    outs = engine.simulate_many([(network, s, run) for s in seeds])
    for o in outs:
        if isinstance(o, EngineError):
            raise o
    return outs  # type: ignore[return-value]
