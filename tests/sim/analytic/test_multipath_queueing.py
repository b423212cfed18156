"""Queueing theory on flows split over several paths: each path an M/M/1 queue at its share of the rate, the flow's
KPIs aggregated from its paths' by share (the one rule of nettwin.sim.kpi.aggregate_routes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import gammainc

from nettwin.scenario import build_network, parse_scenario
from nettwin.sim.analytic import QueueingModel, estimates
from nettwin.sim.kpi import FLOW_COLUMNS, aggregate_routes

CAPACITY = 1e6
SIZE = 1000  # mean bytes: service rate mu = 125 packets/s
MU = CAPACITY / (8 * SIZE)


def _diamond(rate, shares=None, *, buffer=100_000, capacity_b=CAPACITY):
    """s -> {a, b} -> t, one-way links without propagation delay; one Poisson flow of exponential packets from s
    to t, split over the two paths by ``shares`` (or routed by ECMP when None)."""
    links = [
        {"src": u, "dst": v, "capacity": c, "buffer": buffer, "delay": 0, "bidirectional": False}
        for u, v, c in (("s", "a", CAPACITY), ("a", "t", CAPACITY), ("s", "b", capacity_b), ("b", "t", capacity_b))
    ]
    flow = {
        "src": "s",
        "dst": "t",
        "traffic": {"model": "poisson", "rate": rate, "packet_size": {"dist": "exponential", "mean": SIZE}},
    }
    if shares is not None:
        flow["paths"] = [{"path": ["s", "a", "t"], "share": shares[0]}, {"path": ["s", "b", "t"], "share": shares[1]}]
    return build_network(
        parse_scenario(
            {
                "topology": {"nodes": ["s", "a", "b", "t"], "links": links},
                "flows": [flow],
                "routing": {"policy": "ecmp"},
                "simulation": {"duration": 100.0},
            }
        )
    )


def _mm1(lam):
    """Mean sojourn of an M/M/1 queue served at MU, in seconds."""
    return 1.0 / (MU - lam)


def _path_var(lam):
    """The model's delay variance over two M/M/1 hops at ``lam``: each exponential sojourn's, plus twice the
    covariance of a packet's two transmission times (its size is the same at both hops)."""
    return 2 * _mm1(lam) ** 2 + 2 / MU**2


def test_an_even_split_gives_each_path_the_mm1_delay_at_half_the_rate():
    lam = 200.0  # packets/s: 1.6 x MU in all, 0.8 on each path
    net = _diamond(lam * 8 * SIZE)  # ECMP: two equal paths, 50/50
    assert net.multipath and net.flows[0].route_shares == (0.5, 0.5)
    r = QueueingModel().simulate(net)
    assert r.flows["delay"][0] == pytest.approx(2 * _mm1(lam / 2), rel=1e-9)  # two hops, each M/M/1 at lam/2
    # the same on both paths, so the mixture's deviation is one path's
    assert r.flows["delay_std"][0] == pytest.approx(math.sqrt(_path_var(lam / 2)), rel=1e-9)
    assert r.flows["throughput"][0] == pytest.approx(lam * 8 * SIZE, rel=1e-9)
    assert r.links["utilisation"] == pytest.approx(np.full(4, lam / 2 / MU), rel=1e-9)


def test_a_70_30_split_is_the_share_weighted_mean_of_the_two_paths():
    lam = 150.0
    net = _diamond(lam * 8 * SIZE, shares=(0.7, 0.3))
    r = QueueingModel().simulate(net)
    w_a, w_b = 2 * _mm1(0.7 * lam), 2 * _mm1(0.3 * lam)
    mean = 0.7 * w_a + 0.3 * w_b
    assert r.flows["delay"][0] == pytest.approx(mean, rel=1e-9)
    # the mixture's variance: sum of w (sigma^2 + mu^2) - mu^2
    var = 0.7 * (_path_var(0.7 * lam) + w_a**2) + 0.3 * (_path_var(0.3 * lam) + w_b**2) - mean**2
    assert r.flows["delay_std"][0] == pytest.approx(math.sqrt(var), rel=1e-9)
    assert r.links["utilisation"] == pytest.approx([0.7 * lam / MU] * 2 + [0.3 * lam / MU] * 2, rel=1e-9)


def test_delay_percentiles_of_a_split_flow_are_the_quantiles_of_its_paths_mixture():
    lam = 150.0
    even = _diamond(lam * 8 * SIZE)
    whole, parts = QueueingModel().simulate(even), QueueingModel().simulate(even.subflows())
    for q in (50, 90, 99):  # two equal paths: the mixture is either path's law
        assert whole.flows[f"delay_p{q}"][0] == pytest.approx(parts.flows[f"delay_p{q}"][0], rel=1e-9)
    net = _diamond(lam * 8 * SIZE, shares=(0.7, 0.3))
    whole, parts = QueueingModel().simulate(net), QueueingModel().simulate(net.subflows())
    mean, std = parts.flows["delay"], parts.flows["delay_std"]
    shape, scale = (mean / std) ** 2, std**2 / mean  # no propagation: the delay is the gamma law itself
    for q in (50, 90, 99):
        x = whole.flows[f"delay_p{q}"][0]
        assert 0.7 * gammainc(shape[0], x / scale[0]) + 0.3 * gammainc(shape[1], x / scale[1]) == pytest.approx(q / 100)
        assert min(parts.flows[f"delay_p{q}"]) < x < max(parts.flows[f"delay_p{q}"])


def test_a_split_flow_is_the_aggregate_of_its_paths_taken_as_flows():
    # Unequal paths and a small buffer: the paths lose different shares, so the delay weighs received packets.
    net = _diamond(1.2e6, shares=(0.6, 0.4), buffer=3, capacity_b=0.4e6)
    whole = QueueingModel().simulate(net)
    parts = QueueingModel().simulate(net.subflows())
    loss = parts.flows["drop_rate"]
    assert loss[0] != pytest.approx(loss[1], rel=0.1)
    received = np.array([0.6, 0.4]) * (1 - loss)
    assert whole.flows["delay"][0] == pytest.approx(np.dot(received, parts.flows["delay"]) / received.sum())
    for k in ("drops", "throughput", "tx_packets", "rx_packets", "dropped"):
        assert whole.flows[k][0] == pytest.approx(parts.flows[k].sum()), k
    assert whole.flows["drop_rate"][0] == pytest.approx(0.6 * loss[0] + 0.4 * loss[1])
    for k in FLOW_COLUMNS:  # every column present, one value per flow
        assert whole.flows[k].shape == (1,)
    assert {k: whole.links[k].tolist() for k in whole.links} == {k: parts.links[k].tolist() for k in parts.links}
    # the paths' own KPIs come with the result, as the engine gives them
    assert whole.routes["flow"].tolist() == [0, 0] and whole.routes["share"] == pytest.approx([0.6, 0.4])
    assert whole.routes["delay"] == pytest.approx(parts.flows["delay"])
    assert whole.route_paths == ((0, 1, 3), (0, 2, 3))


def test_per_link_loads_of_an_ecmp_grid_equal_its_offered_load():
    corners = [("r0c0", "r2c2"), ("r2c0", "r0c2"), ("r0c1", "r2c1")]
    net = build_network(
        parse_scenario(
            {
                "topology": {"grid": {"rows": 3, "cols": 3}, "defaults": {"capacity": "10Mbps", "buffer": 1000}},
                "flows": [
                    {"src": s, "dst": d, "traffic": {"model": "poisson", "rate": "1Mbps", "packet_size": 500}}
                    for s, d in corners
                ],
                "routing": {"policy": "ecmp"},
            }
        )
    )
    assert net.multipath
    fp = QueueingModel().solve(net)
    assert fp.arrival * 8 * 500 == pytest.approx(net.offered_load, rel=1e-6)
    est = estimates(net)
    assert est.utilisation * net.capacity == pytest.approx(net.offered_load, rel=1e-6)
    assert est.queueing.shape == est.loss.shape == (3,)


def test_jitter_of_two_constant_paths_counts_consecutive_packets_on_different_paths():
    # Delays 1 s and 3 s without spread: consecutive packets differ by 2 s when they took different paths (half
    # the time with an even split), by 0 otherwise.
    routes = {"delay": np.array([1.0, 3.0]), "delay_std": np.zeros(2), "jitter": np.zeros(2)}
    out = aggregate_routes(routes, np.array([0, 0]), np.array([0.5, 0.5]), 1)
    assert out["jitter"][0] == pytest.approx(1.0)
    assert out["delay_std"][0] == pytest.approx(1.0)
    # equal paths of deviation sigma: differences across paths are those of two independent normal draws
    routes = {"delay": np.array([1.0, 1.0]), "delay_std": np.full(2, 0.3), "jitter": np.full(2, 0.2)}
    out = aggregate_routes(routes, np.array([0, 0]), np.array([0.5, 0.5]), 1)
    assert out["jitter"][0] == pytest.approx(0.5 * 0.2 + 0.5 * 2 * 0.3 / math.sqrt(math.pi))


def test_aggregation_leaves_single_path_flows_and_agrees_in_torch_with_gradients():
    flow, share = np.array([0, 1, 1, 2]), np.array([1.0, 0.25, 0.75, 1.0])
    routes = {
        "delay": np.array([0.1, 0.2, 0.4, 0.3]),
        "delay_std": np.array([0.01, 0.05, 0.02, 0.03]),
        "jitter": np.array([0.01, 0.03, 0.02, 0.02]),
        "drops": np.array([1.0, 2.0, 3.0, 0.0]),
        "drop_rate": np.array([0.1, 0.2, 0.0, 0.0]),
    }
    out = aggregate_routes(routes, flow, share, 3)
    for k, v in routes.items():  # flows 0 and 2 take one path: their values are untouched
        assert out[k][[0, 2]] == pytest.approx(v[[0, 3]]), k
    received = share * (1 - routes["drop_rate"])
    assert out["delay"][1] == pytest.approx(np.dot(received[1:3], routes["delay"][1:3]) / received[1:3].sum())
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in routes.items()}
    got = aggregate_routes(t, torch.as_tensor(flow), torch.as_tensor(share), 3)
    for k in routes:
        assert got[k].detach().numpy() == pytest.approx(out[k]), k
    sum(v.sum() for v in got.values()).backward()
    assert all(torch.isfinite(v.grad).all() and v.grad.abs().sum() > 0 for v in t.values())


def test_a_kpi_without_an_aggregation_rule_is_refused():
    with pytest.raises(ValueError, match="no rule aggregates 'delay_mad'"):
        aggregate_routes({"delay_mad": np.ones(2)}, np.array([0, 0]), np.array([0.5, 0.5]), 1)


def test_percentiles_of_gamma_paths_are_their_mixtures_quantiles_with_the_implicit_gradient():
    # Two exponential paths (means 1 and 3, evenly): each is the gamma law of its mean and deviation, so the
    # aggregate is the mixture's quantile exactly.
    a, b = 1.0, 3.0
    routes = {"delay": np.array([a, b]), "delay_std": np.array([a, b])}
    for q in (50, 90, 99):
        routes[f"delay_p{q}"] = -np.array([a, b]) * math.log(1 - q / 100)
    flow, share = np.array([0, 0]), np.array([0.5, 0.5])
    out = aggregate_routes(routes, flow, share, 1)
    for q in (50, 90, 99):
        x = out[f"delay_p{q}"][0]
        assert 0.5 * (1 - math.exp(-x / a)) + 0.5 * (1 - math.exp(-x / b)) == pytest.approx(q / 100, abs=1e-12)
    # torch: the same values; the gradient with respect to a path's percentile is its density's pull there
    t = {k: torch.tensor(v, requires_grad=True) for k, v in routes.items()}
    got = aggregate_routes(t, torch.as_tensor(flow), torch.as_tensor(share), 1)
    assert got["delay_p90"].item() == pytest.approx(out["delay_p90"][0], rel=1e-12)
    got["delay_p90"].sum().backward()
    eps = 1e-6
    for r in range(2):
        moved = {k: v.copy() for k, v in routes.items()}
        moved["delay_p90"][r] += eps  # the path's law shifted by eps
        slope = (aggregate_routes(moved, flow, share, 1)["delay_p90"][0] - out["delay_p90"][0]) / eps
        assert t["delay_p90"].grad[r].item() == pytest.approx(slope, rel=1e-4)
