"""The M/M/1/b network model: exact single-link values, thinning, conservation, agreement with the engine."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.errors import EngineError
from nettwin.scenario import build_network, parse_scenario
from nettwin.sim import FLOW_COLUMNS, LINK_COLUMNS, SimResult, get_engine, simulate
from nettwin.sim.analytic import (
    QueueingModel,
    mm1b_blocking,
    mm1b_mean_waiting,
    mm1b_sojourn_mean,
    mm1b_sojourn_var,
)

EXP_1000 = {"dist": "exponential", "mean": 1000}


def _line(n_nodes, flows, *, capacity=1e6, buffer=5, delay=1e-3, duration=100.0, warmup=0.0):
    """A chain a0 -> a1 -> ... with one-way links, and flows given as (src, dst, traffic)."""
    nodes = [f"a{i}" for i in range(n_nodes)]
    links = [
        {
            "src": nodes[i],
            "dst": nodes[i + 1],
            "capacity": capacity,
            "buffer": buffer,
            "delay": delay,
            "bidirectional": False,
        }
        for i in range(n_nodes - 1)
    ]
    sc = parse_scenario(
        {
            "topology": {"nodes": nodes, "links": links},
            "flows": [{"src": nodes[s], "dst": nodes[d], "traffic": t} for s, d, t in flows],
            "simulation": {"duration": duration, "warmup": warmup},
        }
    )
    return build_network(sc)


def _poisson(rate, size=EXP_1000):
    return {"model": "poisson", "rate": rate, "packet_size": size}


def _nsfnet(max_load, n_flows=60, seed=0):
    """NSFNET with random flows scaled so that the busiest link is offered ``max_load`` of its capacity."""
    rng = np.random.default_rng(seed)
    pairs = [(s, d) for s in range(14) for d in range(14) if s != d]
    chosen = rng.choice(len(pairs), n_flows, replace=False)
    weights = rng.uniform(0.2, 1.0, n_flows)

    def build(scale):
        return build_network(
            parse_scenario(
                {
                    "topology": {"builtin": "nsfnet", "defaults": {"capacity": "10Mbps", "buffer": 16}},
                    "flows": [
                        {"src": pairs[i][0], "dst": pairs[i][1], "traffic": _poisson(float(1e5 * w * scale))}
                        for i, w in zip(chosen, weights, strict=True)
                    ],
                    "simulation": {"duration": 100, "warmup": 10},
                }
            )
        )

    probe = build(1.0)
    return build(max_load / float(np.max(probe.offered_load / probe.capacity)))


def test_single_link_equals_closed_forms():
    net = _line(2, [(0, 1, _poisson(0.9e6))], capacity=1e6, buffer=5, delay=2e-3, duration=110, warmup=10)
    r = QueueingModel().simulate(net)
    lam, mu, b = 0.9e6 / 8000, 1e6 / 8000, 5
    p = float(mm1b_blocking(lam, mu, b))
    w = float(mm1b_sojourn_mean(lam, mu, b))
    f, link = r.flows, r.links
    assert f["drop_rate"][0] == pytest.approx(p, rel=1e-12)
    assert p == pytest.approx(0.1 * 0.9**6 / (1 - 0.9**7), rel=1e-12)  # M/M/1/K, K = 6
    assert f["delay"][0] == pytest.approx(2e-3 + w, rel=1e-12)
    assert f["delay_std"][0] == pytest.approx(np.sqrt(float(mm1b_sojourn_var(lam, mu, b))), rel=1e-12)
    assert f["throughput"][0] == pytest.approx(0.9e6 * (1 - p), rel=1e-12)
    assert f["tx_packets"][0] == round(lam * 100)
    assert f["rx_packets"][0] == round(lam * 100 * (1 - p))
    assert link["utilisation"][0] == pytest.approx(lam * (1 - p) / mu, rel=1e-12)
    assert link["mean_queue"][0] == pytest.approx(float(mm1b_mean_waiting(lam, mu, b)), rel=1e-12)
    assert link["drops"][0] == round(lam * p * 100)
    assert r.meta["engine"] == "analytic" and r.meta["converged"] is True


def test_percentiles_exact_for_one_mm1_hop():
    # A huge buffer makes the link M/M/1: the sojourn is exponential (rate mu - lam), which the gamma matches.
    net = _line(2, [(0, 1, _poisson(0.5e6))], capacity=1e6, buffer=10_000, delay=1e-3)
    r = QueueingModel().simulate(net)
    rate = (1e6 - 0.5e6) / 8000
    for q in (50, 90, 99):
        assert r.flows[f"delay_p{q}"][0] == pytest.approx(1e-3 - np.log(1 - q / 100) / rate, rel=1e-9)
    assert r.flows["delay_std"][0] == pytest.approx(1 / rate, rel=1e-9)
    # Alone on its link, consecutive packets share the queue: jitter well below the independence value 1/rate.
    assert 0.3 / rate < r.flows["jitter"][0] < 0.9 / rate


def test_tandem_thins_traffic():
    net = _line(3, [(0, 2, _poisson(1.2e6)), (1, 2, _poisson(0.2e6, 500))], capacity=1e6, buffer=3)
    fp = QueueingModel().solve(net)
    lam0 = 1.2e6 / 8000
    p1 = float(mm1b_blocking(lam0, 1e6 / 8000, 3))
    assert fp.arrival[0] == pytest.approx(lam0, rel=1e-12)
    assert fp.blocking[0] == pytest.approx(p1, rel=1e-12)
    # The second link sees the first flow thinned by the first link, plus the second flow in full.
    lam2 = 0.2e6 / 4000
    assert fp.arrival[1] == pytest.approx(lam0 * (1 - p1) + lam2, rel=1e-9)
    # Its service rate follows the mix of packet sizes: carried bits over capacity is rho.
    bits = lam0 * (1 - p1) * 8000 + lam2 * 4000
    assert fp.arrival[1] / fp.service[1] == pytest.approx(bits / 1e6, rel=1e-9)
    r = QueueingModel().simulate(net)
    p2 = fp.blocking[1]
    assert r.flows["drop_rate"] == pytest.approx([1 - (1 - p1) * (1 - p2), p2], rel=1e-9)


def test_delay_spread_counts_own_size_across_hops():
    # A packet keeps its size, so its transmission times at two hops covary by Var(size) (8/C1)(8/C2).
    caps = (1e6, 2e6)
    nodes = ["a", "b", "c"]
    links = [
        {"src": "a", "dst": "b", "capacity": caps[0], "bidirectional": False},
        {"src": "b", "dst": "c", "capacity": caps[1], "bidirectional": False},
    ]
    flows = [
        {"src": "a", "dst": "c", "traffic": _poisson(2e5)},
        {"src": "a", "dst": "c", "traffic": _poisson(2e5, {"dist": "fixed", "mean": 1000})},
    ]
    net = build_network(parse_scenario({"topology": {"nodes": nodes, "links": links}, "flows": flows}))
    r = QueueingModel().simulate(net)
    fp = QueueingModel().solve(net)
    hops_var = float(np.sum(mm1b_sojourn_var(fp.arrival, fp.service, net.buffer)))
    covariance = 1000.0**2 * 2 * (8 / caps[0]) * (8 / caps[1])
    assert r.flows["delay_std"] ** 2 == pytest.approx([hops_var + covariance, hops_var], rel=1e-12)


def test_conservation_and_columns():
    net = _nsfnet(1.3)
    r = get_engine("analytic").simulate(net)
    f, link = r.flows, r.links
    assert set(FLOW_COLUMNS) <= set(f) and set(LINK_COLUMNS) <= set(link)
    for c in FLOW_COLUMNS:
        assert np.all(np.isfinite(f[c])), c
    assert np.array_equal(f["tx_packets"], f["rx_packets"] + f["dropped"])
    assert np.array_equal(f["drops"], f["dropped"].astype(float))
    assert f["drop_rate"].max() > 0.01  # the scenario is congested
    # Every dropped packet is dropped at some link (up to rounding of each count).
    assert abs(int(link["drops"].sum()) - int(f["dropped"].sum())) <= net.n_links + net.n_flows
    assert np.all(link["utilisation"] <= 1.0) and np.all(link["mean_queue"] <= net.buffer)
    assert np.all(f["delay_p50"] < f["delay_p90"]) and np.all(f["delay_p90"] < f["delay_p99"])
    # Carried bits on a link: each flow's mean rate, thinned by the links before and at it, over capacity.
    fp = QueueingModel().solve(net)
    carried = np.zeros(net.n_links)
    for flow in net.flows:
        survive = 1.0
        for link_id in flow.path:
            survive *= 1.0 - fp.blocking[link_id]
            carried[link_id] += flow.traffic.mean_rate * survive
    np.testing.assert_allclose(link["utilisation"], carried / net.capacity, rtol=1e-9)


def test_fixed_point_converges_on_nsfnet_load():
    net = _nsfnet(1.5)
    fp = QueueingModel().solve(net)
    assert fp.converged and fp.iterations < 200 and fp.residual <= 1e-10
    # The fixed point is one: the blocking is what the thinned load produces.
    np.testing.assert_allclose(fp.blocking, mm1b_blocking(fp.arrival, fp.service, net.buffer), atol=1e-9)
    undamped = QueueingModel(damping=1.0).solve(net)
    np.testing.assert_allclose(undamped.blocking, fp.blocking, atol=1e-8)
    stopped = QueueingModel(max_iter=1).simulate(net)
    assert stopped.meta["converged"] is False and stopped.meta["iterations"] == 1


def test_engine_registry_and_determinism():
    sc = parse_scenario(
        {
            "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
            "flows": [{"src": "a", "dst": "b", "traffic": _poisson("500kbps")}],
            "simulation": {"duration": "10s", "engine": "analytic"},
        }
    )
    assert isinstance(get_engine("analytic"), QueueingModel)
    [r0, r1] = simulate(sc, runs=2)
    [r2] = simulate(sc, engine="analytic", seed=99)
    assert isinstance(r0, SimResult) and r0.meta["engine"] == "analytic" and r1.meta["run"] == 1
    for c in FLOW_COLUMNS:
        assert np.array_equal(r0.flows[c], r1.flows[c]) and np.array_equal(r0.flows[c], r2.flows[c])
    assert {"wall_seconds", "iterations", "converged", "version", "seed"} <= set(r0.meta)
    assert repr(QueueingModel()) == "QueueingModel(damping=0.5, tol=1e-10, max_iter=1000)"


def test_onoff_and_cbr_enter_with_mean_rate():
    size = {"dist": "fixed", "mean": 500}
    onoff = {"model": "onoff", "rate": 0.8e6, "packet_size": size, "tau_on": 1.0, "tau_off": 3.0}
    cbr = {"model": "cbr", "rate": 0.2e6, "packet_size": size}
    r_onoff = QueueingModel().simulate(_line(2, [(0, 1, onoff)]))
    r_cbr = QueueingModel().simulate(_line(2, [(0, 1, cbr)]))
    r_poisson = QueueingModel().simulate(_line(2, [(0, 1, _poisson(0.2e6, size))]))
    for c in FLOW_COLUMNS:
        np.testing.assert_array_equal(r_onoff.flows[c], r_poisson.flows[c])
        np.testing.assert_array_equal(r_cbr.flows[c], r_poisson.flows[c])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"damping": 0.0}, r"damping must be in \(0, 1\], got 0.0"),
        ({"damping": 1.5}, r"damping must be in \(0, 1\], got 1.5"),
        ({"tol": -1e-3}, r"tol must be > 0, got -0.001"),
        ({"max_iter": 0}, r"max_iter must be an integer >= 1, got 0"),
        ({"max_iter": 2.5}, r"max_iter must be an integer >= 1, got 2.5"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QueueingModel(**kwargs)


def test_wireless_and_wrong_inputs_are_refused():
    sc = parse_scenario(
        {
            "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 20}, "medium": "wireless"},
            "flows": [{"src": 0, "dst": 3, "traffic": _poisson("100kbps")}],
        }
    )
    with pytest.raises(EngineError, match="wireless"):
        QueueingModel().simulate(build_network(sc))
    with pytest.raises(EngineError, match="expects a resolved Network .* got dict"):
        QueueingModel().solve({"flows": []})


def test_agrees_with_builtin_engine_where_exact():
    # One Poisson flow with exponential sizes on one link is an exact M/M/1/b queue (rho = 0.9, b = 5).
    net = _line(2, [(0, 1, _poisson(0.9e6))], capacity=1e6, buffer=5, duration=3010, warmup=10)
    qt = QueueingModel().simulate(net)
    sim = get_engine("builtin").simulate(net, seed=7)
    assert qt.flows["delay"][0] == pytest.approx(sim.flows["delay"][0], rel=0.03)
    assert qt.flows["drop_rate"][0] == pytest.approx(sim.flows["drop_rate"][0], rel=0.05)
    assert qt.flows["delay_std"][0] == pytest.approx(sim.flows["delay_std"][0], rel=0.05)
    assert qt.flows["throughput"][0] == pytest.approx(sim.flows["throughput"][0], rel=0.02)
    assert qt.links["mean_queue"][0] == pytest.approx(sim.links["mean_queue"][0], rel=0.05)
    assert qt.flows["jitter"][0] == pytest.approx(sim.flows["jitter"][0], rel=0.10)
    assert qt.flows["delay_p90"][0] == pytest.approx(sim.flows["delay_p90"][0], rel=0.05)
