"""The built-in engine: nettwin's embedded packet-level simulator of wired networks.

A compiled discrete-event simulation (see :mod:`nettwin.sim._kernel` for the model and its event loop) of
drop-tail output ports, one per directed link (one FIFO queue, or per-class queues served by strict priority, WFQ
or DRR), fed by every traffic model of the scenario format (CBR, Poisson, uniform and normal gaps, on/off, PPBP).
It needs nothing outside Python and simulates millions of packet-hops per second on one core.
"""

from __future__ import annotations

import importlib.metadata
import time

import numpy as np
from scipy.stats import poisson

from nettwin.errors import EngineError
from nettwin.scenario.network import Network
from nettwin.scenario.spec import SHARE_TOLERANCE
from nettwin.scenario.traffic import DEFAULT_SPREAD, Traffic
from nettwin.sim import _kernel
from nettwin.sim.kpi import (
    HIST_BINS,
    HIST_MIN,
    HIST_RATIO,
    FlowCounters,
    HistogramRows,
    LinkCounters,
    flow_kpis,
    link_stats,
)
from nettwin.sim.result import ROUTE_COLUMNS, SimResult
from nettwin.sim.seeds import flow_seeds

__all__ = ["BuiltinEngine"]

WIRELESS_MESSAGE = (
    "the built-in engine models wired links only; wireless scenarios need interference-aware MAC/PHY "
    "modelling: run them with --engine ns3 (simulation.engine: ns3)"
)

_MODELS = {
    "cbr": _kernel.CBR,
    "poisson": _kernel.POISSON,
    "onoff": _kernel.ONOFF,
    "uniform": _kernel.UNIFORM_GAP,
    "normal": _kernel.NORMAL_GAP,
    "ppbp": _kernel.PPBP,
}
# Binomial sizes are discrete sizes with two values.
_SIZES = {
    "fixed": _kernel.FIXED,
    "exponential": _kernel.EXPONENTIAL,
    "binomial": _kernel.DISCRETE,
    "discrete": _kernel.DISCRETE,
    "uniform": _kernel.UNIFORM_SIZE,
}

BURST_OVERFLOW = 1e-9
"""A ppbp flow holds room for as many active bursts as it has at a random time with at least this probability
(their number is Poisson, as in any M/G/∞ system, of mean ``mean_rate / rate``)."""

MAX_BURSTS = 100_000
"""The most active bursts a ppbp flow may need room for."""


def _version() -> str:
    try:
        return importlib.metadata.version("nettwin")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class BuiltinEngine:
    """Packet-level discrete-event simulation of wired networks with drop-tail output ports.

    Each directed link holds ``buffer`` waiting packets besides the one it is sending; a packet that finds it
    full is dropped. A scheduled link (SP, WFQ, DRR) holds each class in its own queue of ``queue_buffer`` waiting
    packets and picks the next packet to send when a transmission ends (see :mod:`nettwin.sim._kernel`). Sources
    send during ``[0, duration)``; packets sent from ``warmup`` on are measured and followed until received or
    dropped. Each flow draws from its own random stream (from
    :func:`~nettwin.sim.seeds.flow_seeds`), so a seed and run give bit-identical results on any machine. A flow
    that splits over several paths sends each packet down one of them, drawn by the paths' shares from the flow's
    stream; the result then also reports each path (``SimResult.routes``).

    Examples
    --------
    >>> from nettwin.scenario import Scenario, build_network
    >>> sc = Scenario.model_validate({
    ...     "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}}],
    ...     "simulation": {"duration": "2s"}})
    >>> result = BuiltinEngine().simulate(build_network(sc))
    >>> int(result.flows["dropped"][0])
    0
    """

    name = "builtin"

    def __repr__(self) -> str:
        return "BuiltinEngine()"

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        """Simulate ``network`` once.

        Parameters
        ----------
        network : the resolved scenario.
        seed : scenario seed; default ``network.simulation.seed``.
        run : repetition number; runs draw independent random streams from the same seed.

        Returns
        -------
        SimResult with per-flow KPIs, per-link statistics and ``meta`` (engine, version, seed, run,
        wall_seconds, packets generated, packet_hops = packet arrivals at links, events).

        Raises
        ------
        EngineError
            For wireless networks, networks without flows, and link or traffic values the engine cannot use.
        """
        _check(network)
        sim = network.simulation
        seed = sim.seed if seed is None else int(seed)
        if run < 0:
            raise EngineError(f"run must be >= 0, got {run}")
        duration, warmup = float(sim.duration), float(sim.warmup)

        links = _kernel.LinkArrays(
            capacity=np.ascontiguousarray(network.capacity, dtype=np.float64),
            delay=np.ascontiguousarray(network.delay, dtype=np.float64),
            buffer=np.ascontiguousarray(network.buffer, dtype=np.int64),
            policy=np.ascontiguousarray(network.policy, dtype=np.int64),
            queue_ptr=np.ascontiguousarray(network.queue_ptr, dtype=np.int64),
            queue_buffer=np.ascontiguousarray(network.queue_buffer, dtype=np.int64),
            queue_weight=np.ascontiguousarray(network.queue_weight, dtype=np.float64),
            quantum=drr_quanta(network),
        )
        flows = _flow_arrays(network)
        rng = np.ascontiguousarray(flow_seeds(seed, run, network.n_flows))
        rng[~rng.any(axis=1), 0] = 1  # an all-zero state would stay zero
        out = _kernel.new_counters(network.n_flows, network.n_links, len(flows.route_cum))

        t0 = time.perf_counter()
        packets, hops, events, counts = _kernel.run(
            links, flows, rng, duration, warmup, HIST_MIN, HIST_RATIO, HIST_BINS, out
        )
        wall = time.perf_counter() - t0

        window = duration - warmup
        flow_cols = flow_kpis(
            FlowCounters(
                tx_packets=out.tx_packets,
                rx_packets=out.rx_packets,
                rx_bytes=out.rx_bytes,
                delay_sum=out.delay_sum,
                delay_sq_sum=out.delay_sq_sum,
                jitter_sum=out.jitter_sum,
                delay_hist=HistogramRows(counts=counts, ptr=out.hist_ptr, first=out.hist_first),
            ),
            window,
        )
        link_cols = link_stats(
            LinkCounters(
                busy_time=out.busy_time, wait_time=out.wait_time, drops=out.link_drops, tx_packets=out.link_tx
            ),
            window,
        )
        routes = None
        if network.multipath:
            route_cols = flow_kpis(
                FlowCounters(
                    tx_packets=out.route_tx,
                    rx_packets=out.route_rx,
                    rx_bytes=out.route_rx_bytes,
                    delay_sum=out.route_delay_sum,
                    delay_sq_sum=out.route_delay_sq_sum,
                    jitter_sum=np.zeros(len(out.route_tx)),
                ),
                window,
            )
            routes = {c: route_cols[c] for c in ROUTE_COLUMNS}
        meta = {
            "engine": self.name,
            "version": _version(),
            "seed": seed,
            "run": run,
            "wall_seconds": wall,
            "packets": int(packets),
            "packet_hops": int(hops),
            "events": int(events),
        }
        return SimResult.from_network(network, flow_cols, link_cols, meta, routes)


def burst_room(traffic: Traffic) -> int:
    """Active bursts a ppbp flow holds room for: the least k with P(Poisson(mean_rate / rate) > k) below
    :data:`BURST_OVERFLOW`, at least 1 (0 for other models)."""
    if traffic.model != "ppbp":
        return 0
    return max(1, int(poisson.isf(BURST_OVERFLOW, traffic.mean_rate / traffic.rate)) + 1)


def largest_packet(traffic: Traffic) -> float:
    """The largest packet (bytes) a flow sends: its fixed size, the top of its uniform or discrete law, or, for
    exponential sizes, which have no largest value, their mean."""
    ps = traffic.packet_size
    if ps.dist == "uniform":
        return float(ps.max)  # type: ignore[arg-type]
    if ps.dist in ("binomial", "discrete"):
        return float(max(ps.weights[0]))
    return float(ps.mean_bytes)


def drr_quanta(network: Network) -> np.ndarray:
    """(Q,) DRR quantum of every queue, bytes: ``weight / (smallest weight of its link) × M``, with ``M`` the
    largest packet (:func:`largest_packet`) of the flows crossing the link, so that the smallest quantum holds the
    largest packet (up to exponential sizes' tails); a flow crosses every link of each of its paths. 0 for the
    queues of other policies."""
    quantum = np.zeros(len(network.queue_weight))
    drr = np.nonzero(network.policy == _kernel.DRR)[0]
    if not len(drr):
        return quantum
    largest = np.zeros(network.n_links)
    per_flow = np.fromiter((largest_packet(f.traffic) for f in network.flows), float, network.n_flows)
    np.maximum.at(largest, network.route_links, per_flow[network.route_flow].repeat(np.diff(network.route_ptr)))
    for link in drr:
        queues = slice(network.queue_ptr[link], network.queue_ptr[link + 1])
        weight = network.queue_weight[queues]
        quantum[queues] = weight / weight.min() * max(largest[link], 1.0)
    return quantum


def _flow_arrays(network: Network) -> _kernel.FlowArrays:
    n = network.n_flows
    model = np.empty(n, np.int64)
    size_dist = np.empty(n, np.int64)
    rate, tau_on, tau_off, spread, gap_std, mean, lo, hi = (np.zeros(n) for _ in range(8))
    burst_rate, burst_min, burst_max, shape = (np.zeros(n) for _ in range(4))
    rooms = np.zeros(n, np.int64)
    n_sizes = np.zeros(n, np.int64)
    values: list[np.ndarray] = []
    for i, flow in enumerate(network.flows):
        tr, ps = flow.traffic, flow.traffic.packet_size
        model[i] = _MODELS[tr.model]
        size_dist[i] = _SIZES[ps.dist]
        rate[i] = tr.rate
        tau_on[i] = tr.tau_on or 0.0
        tau_off[i] = tr.tau_off or 0.0
        spread[i] = DEFAULT_SPREAD if tr.spread is None else tr.spread
        gap_std[i] = tr.gap_std or 0.0
        if tr.model == "ppbp":
            burst_rate[i], shape[i] = tr.burst_arrivals, tr.pareto_shape
            burst_min[i], burst_max[i] = 8.0 * tr.burst_min, 8.0 * tr.burst_max  # type: ignore[operator]
            rooms[i] = burst_room(tr)
        mean[i] = ps.mean_bytes
        if ps.dist == "uniform":
            lo[i], hi[i] = ps.min, ps.max
        if ps.dist in ("binomial", "discrete"):
            sizes, probs = ps.weights
            cum = np.cumsum(probs)
            if len(cum):
                cum[-1] = 1.0
            values.append(np.array([sizes, cum], dtype=float).reshape(2, -1))
            n_sizes[i] = values[-1].shape[1]
    table = np.concatenate(values, axis=1) if values else np.zeros((2, 0))
    route_ptr, route_cum = _route_arrays(network)
    return _kernel.FlowArrays(
        route_ptr=route_ptr,
        route_cum=route_cum,
        path_ptr=np.ascontiguousarray(network.route_ptr, dtype=np.int64),
        path_links=np.ascontiguousarray(network.route_links, dtype=np.int64),
        tos=np.ascontiguousarray(network.tos, dtype=np.int64),
        model=model,
        rate=rate,
        tau_on=tau_on,
        tau_off=tau_off,
        spread=spread,
        gap_std=gap_std,
        burst_rate=burst_rate,
        burst_min=burst_min,
        burst_max=burst_max,
        pareto_shape=shape,
        burst_ptr=np.concatenate([[0], np.cumsum(rooms)]).astype(np.int64),
        size_dist=size_dist,
        size_mean=mean,
        size_lo=lo,
        size_hi=hi,
        size_ptr=np.concatenate([[0], np.cumsum(n_sizes)]).astype(np.int64),
        size_values=np.ascontiguousarray(table[0]),
        size_cum=np.ascontiguousarray(table[1]),
    )


def _route_arrays(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """(F+1,) CSR offsets of each flow's routes, and (R,) the cumulative share of each flow's routes up to each one,
    the flow's last exactly 1 (shares divided by their sum)."""
    route_flow, share = network.route_flow, network.route_share
    ptr = np.concatenate([[0], np.cumsum(np.bincount(route_flow, minlength=network.n_flows))]).astype(np.int64)
    total = np.cumsum(share)
    cum = total - (total - share)[ptr[:-1]][route_flow]
    cum /= cum[ptr[1:] - 1][route_flow]
    cum[ptr[1:] - 1] = 1.0
    return ptr, cum


def _suspect_flows(network: Network, queues: np.ndarray) -> np.ndarray:
    """(F,) bool: the flows that may fail a check of :func:`_check`, found with whole-array operations (every flow
    that fails one is among them; ppbp flows always are), so that only those are checked one by one."""
    n, n_links = network.n_flows, network.n_links
    ptr, links, route_flow = network.route_ptr, network.route_links, network.route_flow
    lengths = np.diff(ptr)
    owner = np.repeat(route_flow, lengths)
    known = (links >= 0) & (links < n_links)
    safe = np.where(known, links, 0)
    src, dst = network.link_src[safe], network.link_dst[safe]
    flow_src = np.fromiter((f.src for f in network.flows), np.int64, n)[route_flow]
    flow_dst = np.fromiter((f.dst for f in network.flows), np.int64, n)[route_flow]
    joined = np.ones(len(links), bool)
    joined[1:] = src[1:] == dst[:-1]
    used = lengths > 0
    joined[ptr[:-1][used]] = src[ptr[:-1][used]] == flow_src[used]
    bad = ~known | ~joined | ((network.policy[safe] != _kernel.FIFO) & (queues[safe] <= network.tos[owner]))
    bad_route = ~used | (np.bincount(np.repeat(np.arange(len(lengths)), lengths)[bad], minlength=len(lengths)) > 0)
    bad_route[used] |= dst[ptr[1:][used] - 1] != flow_dst[used]
    suspect = np.bincount(route_flow[bad_route], minlength=n) > 0
    traffic = [f.traffic for f in network.flows]
    rate = np.fromiter((tr.rate for tr in traffic), float, n)
    tau_on = np.fromiter((tr.tau_on or 0.0 for tr in traffic), float, n)
    model = np.array([tr.model for tr in traffic])
    suspect |= ~((rate > 0) & np.isfinite(rate)) | ((model == "onoff") & ~(tau_on > 0)) | (model == "ppbp")
    return suspect


def _check(network: Network) -> None:
    """Refuse, with a message naming the value, what the kernel cannot simulate."""
    if network.medium == "wireless":
        raise EngineError(WIRELESS_MESSAGE)
    if network.n_flows == 0:
        raise EngineError("the network has no flows; add at least one flow to simulate")
    if network.n_links == 0:
        raise EngineError("the network has no links")
    names = network.nodes

    def link_name(i: int) -> str:
        return f"link {i} ({names[network.link_src[i]]}→{names[network.link_dst[i]]})"

    for what, values, ok in (
        ("capacity", network.capacity, network.capacity > 0),
        ("delay", network.delay, network.delay >= 0),
        ("buffer", network.buffer, network.buffer >= 0),
    ):
        bad = np.nonzero(~(ok & np.isfinite(values)))[0]
        if len(bad):
            i = int(bad[0])
            expected = "> 0" if what == "capacity" else ">= 0"
            raise EngineError(f"{what} must be finite and {expected}, got {values[i]} for {link_name(i)}")
    queues = np.diff(network.queue_ptr)
    for i in np.nonzero(network.policy != _kernel.FIFO)[0]:
        mine = slice(network.queue_ptr[i], network.queue_ptr[i + 1])
        if np.any(network.queue_buffer[mine] < 0):
            raise EngineError(
                f"queue buffers must be >= 0, got {network.queue_buffer[mine].tolist()} for {link_name(i)}"
            )
        weights = network.queue_weight[mine]
        if network.policy[i] in (_kernel.WFQ, _kernel.DRR) and not np.all((weights > 0) & np.isfinite(weights)):
            raise EngineError(f"queue weights must be finite and > 0, got {weights.tolist()} for {link_name(i)}")
    _check_shares(network)
    for i in np.nonzero(_suspect_flows(network, queues))[0]:
        flow = network.flows[i]
        for path in flow.routes:
            if len(path) == 0:
                raise EngineError(f"flow {i} ({names[flow.src]}→{names[flow.dst]}) has an empty path")
            if any(not 0 <= link < network.n_links for link in path):
                raise EngineError(f"flow {i}: path {list(path)} names a link that does not exist")
            short = [ln for ln in path if network.policy[ln] != _kernel.FIFO and queues[ln] <= flow.tos]
            if short:
                raise EngineError(f"flow {i}: class {flow.tos} has no queue at {link_name(short[0])}")
            src, dst = network.link_src[list(path)], network.link_dst[list(path)]
            if src[0] != flow.src or dst[-1] != flow.dst or np.any(src[1:] != dst[:-1]):
                raise EngineError(f"flow {i}: path {list(path)} does not lead from node {flow.src} to node {flow.dst}")
        tr = flow.traffic
        if not (tr.rate > 0 and np.isfinite(tr.rate)):
            raise EngineError(f"flow {i}: traffic rate must be finite and > 0, got {tr.rate}")
        if tr.model == "onoff" and not (tr.tau_on and tr.tau_on > 0):
            raise EngineError(f"flow {i}: onoff traffic needs tau_on > 0, got {tr.tau_on}")
        if burst_room(tr) > MAX_BURSTS:
            raise EngineError(
                f"flow {i}: ppbp traffic keeps about {tr.mean_rate / tr.rate:.4g} bursts active at once (mean rate "
                f"over rate); the built-in engine follows at most {MAX_BURSTS}: raise rate or lower burst_arrivals"
            )
    sim = network.simulation
    if not 0 <= sim.warmup < sim.duration:
        raise EngineError(
            f"simulation.warmup must be in [0, duration), got warmup {sim.warmup} s, duration {sim.duration} s"
        )


def _check_shares(network: Network) -> None:
    """Refuse a flow whose paths and shares do not pair up, or whose shares are not positive summing to 1."""
    for i, flow in enumerate(network.flows):
        if not (flow.paths or flow.shares):
            continue
        shares = np.asarray(flow.shares, dtype=float)
        if len(shares) != len(flow.paths):
            raise EngineError(f"flow {i}: {len(flow.paths)} paths but {len(shares)} shares; give one share per path")
        if not (np.all(np.isfinite(shares) & (shares > 0)) and abs(shares.sum() - 1.0) <= SHARE_TOLERANCE):
            raise EngineError(f"flow {i}: path shares must be finite, > 0 and sum to 1, got {shares.tolist()}")
