"""The plain-data description of one ns-3 run that travels to a worker process, and what the engine checks first.

A job holds only built-in types (lists, floats, strings), so a worker never needs the scenario classes, and
the checks here run in the caller's process, before a worker is involved, with messages that name the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nettwin.errors import EngineError
from nettwin.scenario.limits import MAX_SEED
from nettwin.scenario.network import FIFO, Network
from nettwin.scenario.spec import SCHEDULING_POLICIES, WirelessSpec
from nettwin.scenario.traffic import Traffic
from nettwin.scenario.wireless import path_loss_db, radio_range, wireless_links
from nettwin.sim.kpi import HIST_BINS, HIST_MIN, HIST_RATIO

__all__ = ["Ns3Options", "WIRED_HEADER_BYTES", "WIRELESS_HEADER_BYTES", "make_job", "ns3_seed"]

WIRED_HEADER_BYTES = 30
"""Bytes ns-3 adds to a UDP payload on a point-to-point link: UDP 8 + IPv4 20 + PPP 2."""

WIRELESS_HEADER_BYTES = 28
"""Bytes of UDP and IPv4 headers; on Wi-Fi a scenario packet size is the IP datagram (the MAC adds its own)."""

MAX_WIRED_BYTES = 65535
"""Largest packet a point-to-point link carries unfragmented (its MTU is raised to the IPv4 maximum)."""

_ROUTING = ("static", "global")

NS3_TRAFFIC_MODELS = ("cbr", "poisson", "onoff")
"""The traffic models the ns-3 engine's sources generate; the others are refused before a worker starts."""
NS3_SIZE_DISTRIBUTIONS = ("fixed", "exponential", "binomial")
"""The packet-size laws the ns-3 engine's sources draw from."""


@dataclass(frozen=True)
class Ns3Options:
    """Settings of the ns-3 engine that scenarios do not carry.

    Parameters
    ----------
    routing : wired networks: ``static`` installs every flow's resolved path as static routes (ns-3 forwards
        exactly on the scenario's paths); ``global`` lets ns-3's global routing choose shortest-hop paths, and
        the paths it took are recorded.
    olsr_warmup : wireless networks: seconds OLSR runs before traffic starts (GLANCE used 900 s).
    drain : wireless networks: seconds simulated after ``duration`` for packets still in flight; wired runs
        drain until the network is empty.
    """

    routing: str = "static"
    olsr_warmup: float = 900.0
    drain: float = 5.0

    def __post_init__(self) -> None:
        if self.routing not in _ROUTING:
            raise EngineError(f"ns3 routing must be one of {', '.join(_ROUTING)}, got '{self.routing}'")
        if not (math.isfinite(self.olsr_warmup) and self.olsr_warmup >= 0):
            raise EngineError(f"ns3 olsr_warmup must be a finite number of seconds >= 0, got {self.olsr_warmup}")
        if not (math.isfinite(self.drain) and self.drain > 0):
            raise EngineError(f"ns3 drain must be a finite number of seconds > 0, got {self.drain}")


def ns3_seed(seed: int) -> int:
    """ns-3's global seed (1 ≤ s < 2³¹) derived from a scenario seed; the run number selects ns-3's substream."""
    if not 0 <= seed <= MAX_SEED:
        raise EngineError(f"simulation.seed must be between 0 and 2**63 - 1, got {seed}")
    state = np.random.SeedSequence(entropy=seed).generate_state(1, dtype=np.uint32)[0]
    return int(state) % (2**31 - 2) + 1


def make_job(network: Network, seed: int, run: int, options: Ns3Options) -> dict[str, Any]:
    """Check ``network`` and describe one run of it for a worker.

    Raises
    ------
    EngineError
        For values ns-3 cannot simulate the way nettwin defines them (named in the message).
    """
    _check(network)
    if run < 0:
        raise EngineError(f"run must be >= 0, got {run}")
    sim = network.simulation
    wireless = network.medium == "wireless"
    flows = []
    for flow in network.flows:
        tr, ps = flow.traffic, flow.traffic.packet_size
        small, large = ps.sizes if ps.dist == "binomial" else (0.0, 0.0)  # type: ignore[misc]
        flows.append(
            {
                "src": flow.src,
                "dst": flow.dst,
                "path": [int(ln) for ln in flow.path],
                "model": tr.model,
                "rate": float(tr.rate),
                "tau_on": float(tr.tau_on or 0.0),
                "tau_off": float(tr.tau_off or 0.0),
                "size_dist": ps.dist,
                "size_mean": float(ps.mean_bytes),
                "size_small": float(small),
                "size_large": float(large),
                "size_p": float(ps.p),
            }
        )
    job: dict[str, Any] = {
        "name": network.name,
        "medium": network.medium,
        "n_nodes": network.n_nodes,
        "links": {
            "src": network.link_src.tolist(),
            "dst": network.link_dst.tolist(),
            "capacity": network.capacity.tolist(),
            "delay": network.delay.tolist(),
            "buffer": network.buffer.tolist(),
        },
        "flows": flows,
        "duration": float(sim.duration),
        "warmup": float(sim.warmup),
        "seed": ns3_seed(seed),
        "scenario_seed": int(seed),
        "run": int(run),
        "header_bytes": WIRELESS_HEADER_BYTES if wireless else WIRED_HEADER_BYTES,
        "hist": {"min": HIST_MIN, "ratio": HIST_RATIO, "bins": HIST_BINS},
        "options": {
            "routing": options.routing,
            "olsr_warmup": options.olsr_warmup,
            "drain": options.drain,
        },
    }
    if wireless:
        w = _radio(network)
        job["positions"] = np.asarray(network.positions, dtype=float).tolist()
        job["radio"] = {
            "exponent": w.exponent,
            "reference_loss": w.reference_loss,
            "tx_power": w.tx_power,
            "rx_sensitivity": w.sensitivity,
            "mode": _dsss_mode(w.rate),
            "graph": _neighbour_graph(network, w),
        }
    return job


def _radio(network: Network) -> WirelessSpec:
    sc = network.scenario
    return sc.topology.wireless if sc is not None else WirelessSpec()


def _neighbour_graph(network: Network, radio: WirelessSpec) -> dict[str, list]:
    """The node pairs that hear each other and their path loss, when the links are not simply radio range's.

    Empty when the links are the pairs within radio range: ns-3's log-distance model then yields them by itself.
    """
    positions = np.asarray(network.positions, dtype=float)
    pairs = sorted(
        {(min(u, v), max(u, v)) for u, v in zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True)}
    )
    if pairs == wireless_links(positions, radio):
        return {"src": [], "dst": [], "loss": []}
    distance = np.array([np.linalg.norm(positions[u] - positions[v]) for u, v in pairs])
    return {
        "src": [u for u, _ in pairs],
        "dst": [v for _, v in pairs],
        "loss": np.atleast_1d(path_loss_db(distance, radio)).tolist(),
    }


def _dsss_mode(rate: float) -> str:
    """ns-3's name of an 802.11b rate: 5.5e6 → ``DsssRate5_5Mbps``."""
    return "DsssRate" + f"{rate / 1e6:g}".replace(".", "_") + "Mbps"


def _check(network: Network) -> None:
    names = network.nodes
    if network.n_flows == 0:
        raise EngineError("the network has no flows; add at least one flow to simulate")
    wireless = network.medium == "wireless"
    if wireless and network.positions is None:
        raise EngineError("a wireless network needs node positions")
    header = WIRELESS_HEADER_BYTES if wireless else WIRED_HEADER_BYTES

    def link_name(i: int) -> str:
        return f"link {i} ({names[network.link_src[i]]}→{names[network.link_dst[i]]})"

    for i in np.nonzero(network.policy != FIFO)[0]:
        raise EngineError(
            f"{link_name(int(i))} schedules its queues by {SCHEDULING_POLICIES[network.policy[i]]}; the ns-3 engine "
            "simulates one FIFO queue per port: run it with --engine builtin (simulation.engine: builtin)"
        )
    if wireless:
        _check_neighbour_graph(network, link_name)
    else:
        for i in range(network.n_links):
            cap, delay, buf = network.capacity[i], network.delay[i], network.buffer[i]
            if not (math.isfinite(cap) and cap >= 1.0):
                raise EngineError(f"capacity must be finite and >= 1 bit/s for ns-3, got {cap} for {link_name(i)}")
            if not (math.isfinite(delay) and 0 <= delay < 1e6):
                raise EngineError(f"delay must be in [0, 1e6) s for ns-3, got {delay} for {link_name(i)}")
            if buf < 1:
                raise EngineError(
                    f"buffer must be >= 1 for ns-3, got {buf} for {link_name(i)}: a point-to-point device queues "
                    "every packet before sending it, so a zero buffer would drop everything"
                )
    for i, flow in enumerate(network.flows):
        if flow.splits:
            raise EngineError(
                f"flow {i} ({names[flow.src]}→{names[flow.dst]}) splits its packets over {len(flow.paths)} paths; "
                "ns-3 routes all packets to one address the same way, so the ns-3 engine cannot split a flow by "
                "shares: run it with --engine builtin, or send each flow down one of its paths by hashing "
                "(routing.split: flow)"
            )
        _check_laws(i, f"{names[flow.src]}→{names[flow.dst]}", flow.traffic, wireless)
        ps = flow.traffic.packet_size
        sizes = list(ps.sizes) if ps.dist == "binomial" else ([ps.mean_bytes] if ps.dist == "fixed" else [])
        for s in sizes:
            if s < header:
                raise EngineError(
                    f"flow {i}: packet size {s:g} B is smaller than the {header} B of headers ns-3 adds "
                    f"({'UDP+IPv4' if wireless else 'UDP+IPv4+PPP'}); use packets of at least {header} B"
                )
            if not wireless and s > MAX_WIRED_BYTES:
                raise EngineError(f"flow {i}: packet size {s:g} B exceeds the IPv4 maximum of {MAX_WIRED_BYTES} B")
        if not wireless:
            path = flow.path
            nodes = [int(network.link_src[path[0]]), *(int(network.link_dst[ln]) for ln in path)] if path else []
            if not path or nodes[0] != flow.src or nodes[-1] != flow.dst:
                raise EngineError(f"flow {i}: path {list(path)} does not lead from node {flow.src} to {flow.dst}")


def _check_laws(i: int, pair: str, traffic: Traffic, wireless: bool) -> None:
    """Refuse a traffic model or packet-size law the ns-3 sources do not generate, naming the flow and the law."""
    elsewhere = "" if wireless else "; the built-in engine simulates it (--engine builtin)"
    if traffic.model not in NS3_TRAFFIC_MODELS:
        raise EngineError(
            f"flow {i} ({pair}): the ns-3 engine cannot generate {traffic.model} traffic (it generates "
            f"{', '.join(NS3_TRAFFIC_MODELS)}){elsewhere}"
        )
    dist = traffic.packet_size.dist
    if dist not in NS3_SIZE_DISTRIBUTIONS:
        raise EngineError(
            f"flow {i} ({pair}): the ns-3 engine cannot draw {dist} packet sizes (it draws "
            f"{', '.join(NS3_SIZE_DISTRIBUTIONS)}){elsewhere}"
        )


def _check_neighbour_graph(network: Network, link_name: Callable[[int], str]) -> None:
    """Refuse wireless links ns-3's Wi-Fi cannot carry: one-way links, and links longer than the radio range.

    A neighbour graph is enforced by a loss matrix (see :func:`_neighbour_graph`), which can silence pairs but
    not make a frame reach a receiver the path-loss model puts below its sensitivity.
    """
    links = set(zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True))
    radio = _radio(network)
    reach = radio_range(radio)
    positions = np.asarray(network.positions, dtype=float)
    for i, (u, v) in enumerate(zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True)):
        if (v, u) not in links:
            raise EngineError(
                f"{link_name(i)} has no link back: 802.11 acknowledges every frame, so ns-3 needs wireless links "
                "both ways"
            )
        d = float(np.linalg.norm(positions[u] - positions[v]))
        if d > reach:
            raise EngineError(
                f"{link_name(i)} is {d:.4g} m long, beyond the radio range of {reach:.4g} m: ns-3 Wi-Fi cannot carry "
                "a frame that far; widen topology.wireless.range or move the nodes"
            )
