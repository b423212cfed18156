"""Flows split per packet over several paths in the built-in engine, and ns-3's refusal of them.

Every route draw comes from the flow's own stream, so these checks are exact where the route sequence can be
replayed (counts, delays, jitter) and statistical, with bounds from the sampling law, where they test the split
itself (binomial counts, M/M/1 delays over independent runs).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numba import njit

from nettwin.errors import EngineError
from nettwin.scenario import Scenario, build_network
from nettwin.scenario.network import Network
from nettwin.sim import _kernel
from nettwin.sim.builtin import BuiltinEngine, _flow_arrays, drr_quanta
from nettwin.sim.kpi import FLOW_COLUMNS, LINK_COLUMNS
from nettwin.sim.ns3 import Ns3Engine, Ns3Options
from nettwin.sim.ns3.job import make_job
from nettwin.sim.result import ROUTE_COLUMNS, SimResult
from nettwin.sim.seeds import flow_seeds

UPPER, LOWER = ["a", "b", "d"], ["a", "c", "d"]


def diamond(
    flows: list[dict],
    *,
    capacity: float | str = "1Mbps",
    delays: tuple[str, str] = ("0ms", "0ms"),
    duration: float = 20.0,
    warmup: float = 0.0,
    seed: int = 1,
    buffer: int = 10**5,
    extra_links: tuple[dict, ...] = (),
) -> Network:
    """Two disjoint two-link paths a→b→d and a→c→d (the lower one's second link with delay ``delays[1]``)."""
    links = [
        {"src": "a", "dst": "b", "capacity": capacity, "delay": delays[0]},
        {"src": "b", "dst": "d", "capacity": capacity, "delay": delays[0]},
        {"src": "a", "dst": "c", "capacity": capacity, "delay": delays[0]},
        {"src": "c", "dst": "d", "capacity": capacity, "delay": delays[1]},
        *extra_links,
    ]
    nodes = ["a", "b", "c", "d", "e", "f"]
    links = [{"buffer": buffer, "bidirectional": False, **link} for link in links]
    spec = {
        "topology": {"nodes": nodes, "links": links},
        "flows": flows,
        "simulation": {"duration": duration, "warmup": warmup, "seed": seed},
    }
    return build_network(Scenario.model_validate(spec))


def split(traffic: dict, shares=(0.5, 0.5), **extra) -> dict:
    return {
        "src": "a",
        "dst": "d",
        "traffic": traffic,
        "paths": [{"path": UPPER, "share": shares[0]}, {"path": LOWER, "share": shares[1]}],
        **extra,
    }


def poisson(rate: float, size=125) -> dict:
    return {"model": "poisson", "rate": rate, "packet_size": size}


def path_links(network: Network, nodes: list[str]) -> list[int]:
    idx = [network.nodes.index(n) for n in nodes]
    return [network.link_index(u, v) for u, v in zip(idx, idx[1:], strict=False)]


# ------------------------------------------------------------------------------------------------------------
# Replaying a split flow's sends: its stream gives each packet's send time and route, so counts are exact.


@njit
def _first_send(fl, duration, burst_end, sizes):
    _kernel._start_source(fl[0])
    return _kernel._schedule_send(fl[0], 0.0, duration, burst_end, sizes)


@njit
def _send(fl, now, duration, burst_end, sizes, end, route_cum):
    route = _kernel._draw_route(fl[0], 0, end, route_cum)
    return route, _kernel._schedule_send(fl[0], now, duration, burst_end, sizes)


def replay_routes(network: Network, seed: int, run: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Send times and routes of flow 0 (the network's only flow), as the kernel's draws give them."""
    assert network.n_flows == 1
    flows = _flow_arrays(network)
    rng = np.ascontiguousarray(flow_seeds(seed, run, 1))
    rng[~rng.any(axis=1), 0] = 1
    fl, sizes, _ = _kernel.pack_flows(flows, rng)
    burst_end = np.empty(flows.burst_ptr[-1])
    duration = float(network.simulation.duration)
    times, routes = [], []
    t = _first_send(fl, duration, burst_end, sizes)
    while t < math.inf:
        route, t_next = _send(fl, t, duration, burst_end, sizes, len(flows.route_cum), flows.route_cum)
        times.append(t)
        routes.append(route)
        t = t_next
    return np.array(times), np.array(routes)


def test_each_packet_takes_the_route_its_flow_stream_draws_and_jitter_spans_both_paths():
    """CBR every 10 ms over two uncongested paths whose delays differ by 2 ms: each packet's delay is its path's,
    exactly, and the flow's jitter counts every pair of consecutive packets that took different paths."""
    cbr = {"model": "cbr", "rate": "800kbps", "packet_size": 1000}
    net = diamond([split(cbr, (0.3, 0.7))], capacity="10Mbps", delays=("1ms", "3ms"), duration=20.0, warmup=1.0)
    result = BuiltinEngine().simulate(net, seed=3)
    times, routes = replay_routes(net, seed=3)
    measured = routes[times >= 1.0]
    routes_table = result.routes
    assert routes_table["tx_packets"].tolist() == np.bincount(measured, minlength=2).tolist()
    assert routes_table["rx_packets"].tolist() == routes_table["tx_packets"].tolist()
    transmission = 2 * 1000 * 8 / 10e6
    np.testing.assert_allclose(routes_table["delay"], [transmission + 2e-3, transmission + 4e-3], rtol=1e-12)
    switches = np.count_nonzero(measured[1:] != measured[:-1])
    assert result.kpi("jitter")[0] == pytest.approx(2e-3 * switches / (len(measured) - 1), rel=1e-9)
    assert result.kpi("delay")[0] == pytest.approx(transmission + 2e-3 + 2e-3 * np.mean(measured), rel=1e-9)


def test_a_split_flows_counts_add_up_over_its_paths():
    """A congested, unevenly split flow: its per-flow counts are the sums of its paths', and each path's drops are
    its links' drops."""
    traffic = {"model": "poisson", "rate": "1.6Mbps", "packet_size": {"dist": "exponential", "mean": 125}}
    flows = [split(traffic, (0.7, 0.3))]
    net = diamond(flows, duration=20.0, warmup=2.0, buffer=8)
    result = BuiltinEngine().simulate(net)
    routes, flow = result.routes, result.flows
    assert routes["flow"].tolist() == [0, 0]
    np.testing.assert_allclose(routes["share"], [0.7, 0.3])
    assert result.route_paths == ((0, 1, 3), (0, 2, 3))
    for c in ("tx_packets", "rx_packets", "dropped"):
        assert routes[c].sum() == flow[c][0], c
    assert routes["throughput"].sum() == pytest.approx(flow["throughput"][0], rel=1e-12)
    weighted = (routes["delay"] * routes["rx_packets"]).sum() / routes["rx_packets"].sum()
    assert weighted == pytest.approx(flow["delay"][0], rel=1e-12)
    upper_drops = result.links["drops"][path_links(net, UPPER)].sum()
    lower_drops = result.links["drops"][path_links(net, LOWER)].sum()
    assert routes["dropped"].tolist() == [upper_drops, lower_drops]
    assert routes["drop_rate"][0] > 0.05 > routes["drop_rate"][1]  # 0.7 × 1.6 Mbps overloads the upper path


def test_a_50_50_split_over_two_equal_paths_halves_each_paths_load():
    """Poisson at 0.8 of one path's capacity, fixed sizes: on one path each link is busy 0.8 of the time; split
    evenly, 0.4 on each path (within 4 standard deviations of the thinned Poisson counts)."""
    rate, mu, duration = 0.8e6, 1000.0, 40.0
    lam = rate / 1000.0
    one_path = {"src": "a", "dst": "d", "traffic": poisson(rate), "path": UPPER}
    single = BuiltinEngine().simulate(diamond([one_path], duration=duration))
    halves = BuiltinEngine().simulate(diamond([split(poisson(rate))], duration=duration))
    net = diamond([one_path])

    def sd(share):  # utilisation is packets × 1 ms over the window; the count is Poisson(λ·share·T)
        return math.sqrt(lam * share * duration) / mu / duration

    for link in path_links(net, UPPER):
        assert abs(single.links["utilisation"][link] - lam / mu) < 4 * sd(1.0)
    assert np.all(single.links["utilisation"][path_links(net, LOWER)] == 0)
    tx = halves.routes["tx_packets"]
    assert tx.sum() == halves.flows["tx_packets"][0]
    assert abs(tx[0] - tx[1]) < 4 * math.sqrt(tx.sum())  # Binomial(N, 1/2): the difference has sd √N
    for route, nodes in enumerate((UPPER, LOWER)):
        for link in path_links(net, nodes):
            assert abs(halves.links["utilisation"][link] - lam / 2 / mu) < 4 * sd(0.5)
            # Without warm-up every transmission is of a packet the path's count holds; those still queued when
            # the sources stop (a handful at this load) are not counted by the link.
            assert tx[route] - 20 <= halves.links["tx_packets"][link] <= tx[route]


def test_split_m_m_1_paths_have_the_m_m_1_delay_of_their_share():
    """Poisson λ = 1.25 μ split 0.4 / 0.6 over a single link a→b and a link a→c (followed by a link c→b too fast to
    matter): each is an M/M/1 queue at load 0.5 and 0.75 although one link could not carry the flow. Mean over 8
    independent runs within 4 standard errors of 1/(μ − λ·share) plus the fast link's transmission."""
    mu, lam, shares = 1000.0, 1250.0, (0.4, 0.6)
    fast = 1e12
    links = [
        {"src": "a", "dst": "b", "capacity": 1e6},
        {"src": "a", "dst": "c", "capacity": 1e6},
        {"src": "c", "dst": "b", "capacity": fast},
    ]
    traffic = {"model": "poisson", "rate": lam * 1000.0, "packet_size": {"dist": "exponential", "mean": 125}}
    flow = {
        "src": "a",
        "dst": "b",
        "traffic": traffic,
        "paths": [{"path": ["a", "b"], "share": shares[0]}, {"path": ["a", "c", "b"], "share": shares[1]}],
    }
    duration = 100.0
    spec = {
        "topology": {
            "nodes": ["a", "b", "c"],
            "links": [{"buffer": 10**6, "delay": 0, "bidirectional": False, **link} for link in links],
        },
        "flows": [flow],
        "simulation": {"duration": duration, "warmup": 0.02 * duration, "seed": 7},
    }
    net = build_network(Scenario.model_validate(spec))
    runs = np.array([BuiltinEngine().simulate(net, run=k).routes["delay"] for k in range(8)])
    mean, stderr = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    expected = np.array([1 / (mu - lam * shares[0]), 1 / (mu - lam * shares[1]) + 1000.0 / fast])
    assert np.all(np.abs(mean - expected) < 4 * stderr), (mean, expected, stderr)
    assert np.all(stderr < 0.02 * expected)  # the check has teeth: swapped shares would be 2 ms apart


def test_ecmp_on_a_grid_splits_by_the_ecmp_shares():
    """r0c0 → r2c2 on a 3×3 grid has six equal-cost paths with shares 1/4, 1/8, 1/8, 1/8, 1/8, 1/4: each path's
    packet count is within 4 binomial standard deviations of its share."""
    spec = {
        "topology": {"grid": {"rows": 3, "cols": 3}, "defaults": {"capacity": "10Mbps", "buffer": 1000}},
        "routing": {"policy": "ecmp"},
        "flows": [{"src": "r0c0", "dst": "r2c2", "traffic": poisson(2e6, {"dist": "exponential", "mean": 125})}],
        "simulation": {"duration": 20.0, "warmup": 1.0, "seed": 2},
    }
    net = build_network(Scenario.model_validate(spec))
    result = BuiltinEngine().simulate(net)
    share = result.routes["share"]
    np.testing.assert_allclose(np.sort(share), [1 / 8] * 4 + [1 / 4] * 2)
    tx = result.routes["tx_packets"]
    n = result.flows["tx_packets"][0]
    assert tx.sum() == n > 30_000
    assert np.all(np.abs(tx - n * share) < 4 * np.sqrt(n * share * (1 - share)))
    assert result.route_paths == tuple((0, *(int(net.link_dst[link]) for link in path)) for path in net.flows[0].routes)
    assert np.all(result.routes["dropped"] == 0)


def test_hashing_each_flow_onto_one_path_leaves_single_path_flows():
    spec = {
        "topology": {"grid": {"rows": 3, "cols": 3}},
        "routing": {"policy": "ecmp", "split": "flow"},
        "flows": [{"src": "r0c0", "dst": "r2c2", "traffic": poisson(1e5)}],
        "simulation": {"duration": 2.0},
    }
    net = build_network(Scenario.model_validate(spec))
    assert not net.multipath
    result = BuiltinEngine().simulate(net)
    assert result.routes is None and result.route_paths == ()
    assert "routes" not in result.to_dict()
    make_job(net, 1, 0, Ns3Options())  # ns-3 takes it: each flow is on one path


# ------------------------------------------------------------------------------------------------------------
# Reproducibility and independence of streams.


def test_split_runs_are_reproducible_and_runs_differ():
    net = diamond([split(poisson(1.2e6, {"dist": "exponential", "mean": 125}), (0.6, 0.4))], duration=5.0)
    a, b = BuiltinEngine().simulate(net), BuiltinEngine().simulate(net)
    other = BuiltinEngine().simulate(net, run=1)
    for c in ("flow", "share", *ROUTE_COLUMNS):
        assert np.array_equal(a.routes[c], b.routes[c], equal_nan=True), c
    for c in FLOW_COLUMNS:
        assert np.array_equal(a.flows[c], b.flows[c], equal_nan=True), c
    assert not np.array_equal(a.routes["tx_packets"], other.routes["tx_packets"])


def test_streams_are_the_flows_own_whatever_other_flows_do():
    """A flow on links e→f of its own gives the same results whether the other flow splits or not, and the split
    flow gives the same results with or without that other flow after it."""
    extra = ({"src": "e", "dst": "f", "capacity": "1Mbps"},)
    other = {"src": "e", "dst": "f", "traffic": poisson(5e5, {"dist": "exponential", "mean": 300})}
    mixed = poisson(1.2e6, {"dist": "exponential", "mean": 125})
    one_path = {"src": "a", "dst": "d", "traffic": mixed, "path": UPPER}
    with_split = BuiltinEngine().simulate(diamond([split(mixed), other], duration=5.0, extra_links=extra))
    without = BuiltinEngine().simulate(diamond([one_path, other], duration=5.0, extra_links=extra))
    alone = BuiltinEngine().simulate(diamond([split(mixed)], duration=5.0, extra_links=extra))
    for c in FLOW_COLUMNS:
        assert np.array_equal(with_split.flows[c][1], without.flows[c][1], equal_nan=True), c
        assert np.array_equal(with_split.flows[c][0], alone.flows[c][0], equal_nan=True), c
    for c in ROUTE_COLUMNS:
        assert np.array_equal(with_split.routes[c][:2], alone.routes[c], equal_nan=True), c
    # The other flow's route in the table is its one path, with its flow counts.
    assert with_split.routes["tx_packets"][2] == with_split.flows["tx_packets"][1]
    assert with_split.route_paths[2] == (4, 5)


# ------------------------------------------------------------------------------------------------------------
# Results, checks and ns-3.


def test_routes_survive_the_json_round_trip(tmp_path):
    net = diamond([split(poisson(4e5), (0.25, 0.75))], duration=2.0)
    result = BuiltinEngine().simulate(net)
    result.save(tmp_path / "r.json")
    back = SimResult.load(tmp_path / "r.json")
    assert back.route_paths == result.route_paths
    for c in ("flow", "share", *ROUTE_COLUMNS):
        assert np.array_equal(back.routes[c], result.routes[c], equal_nan=True), c
    for c in LINK_COLUMNS:
        assert np.array_equal(back.links[c], result.links[c]), c
    single = BuiltinEngine().simulate(diamond([{"src": "a", "dst": "d", "traffic": poisson(4e5)}], duration=2.0))
    assert "routes" not in single.to_dict() and SimResult.from_dict(single.to_dict()).routes is None


def test_drr_quanta_cover_every_path_of_a_split_flow():
    """A DRR link on the lower path only: the split flow's 1500-byte packets size its quantum."""
    net = diamond([split(poisson(1e5, 1500), (0.9, 0.1)), {"src": "a", "dst": "c", "traffic": poisson(1e5, 100)}])
    lower = path_links(net, LOWER)
    policy = net.policy.copy()
    policy[lower[0]] = _kernel.DRR
    weights = net.queue_weight.copy()
    weights[lower[0]] = 1.0
    drr = dataclasses.replace(net, policy=policy, queue_weight=weights)
    assert drr_quanta(drr)[drr.queue_ptr[lower[0]]] == 1500.0
    assert BuiltinEngine().simulate(drr).routes["tx_packets"][1] > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f, p: {"paths": (f.paths[0], p)}, r"^flow 0: path \[0, 3\] does not lead from node 0 to node 3"),
        (lambda f, p: {"paths": (f.paths[0], (0, 9))}, r"^flow 0: path \[0, 9\] names a link that does not exist"),
        (lambda f, p: {"shares": (1.0,)}, r"^flow 0: 2 paths but 1 shares; give one share per path"),
        (lambda f, p: {"shares": (0.5, 0.7)}, r"^flow 0: path shares must be finite, > 0 and sum to 1, got"),
        (lambda f, p: {"shares": (1.5, -0.5)}, r"^flow 0: path shares must be finite, > 0 and sum to 1, got"),
    ],
)
def test_a_broken_path_or_share_of_a_split_flow_is_refused(change, message):
    net = diamond([split(poisson(1e5))])
    flow = net.flows[0]
    bad_path = (path_links(net, UPPER)[0], path_links(net, LOWER)[1])  # a→b then c→d: not joined
    broken = dataclasses.replace(flow, **change(flow, bad_path))
    with pytest.raises(EngineError, match=message):
        BuiltinEngine().simulate(dataclasses.replace(net, flows=(broken,)))


def test_ns3_refuses_a_split_flow_before_any_worker():
    net = diamond([{"src": "a", "dst": "b", "traffic": poisson(1e5)}, split(poisson(1e5), (0.3, 0.7))])
    message = (
        r"^flow 1 \(a→d\) splits its packets over 2 paths; .* the ns-3 engine cannot split a flow by shares: run it "
        r"with --engine builtin, or send each flow down one of its paths by hashing \(routing.split: flow\)$"
    )
    with pytest.raises(EngineError, match=message):
        make_job(net, 1, 0, Ns3Options())
    engine = Ns3Engine()
    (out,) = engine.simulate_many([(net, 1, 0)])
    assert isinstance(out, EngineError) and engine._pool is None
