"""The ns-3 engine on tiny networks: exact values where queueing is deterministic, invariants elsewhere."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nettwin.errors import EngineError
from nettwin.scenario import Scenario, build_network
from nettwin.sim import BuiltinEngine, SimResult
from nettwin.sim.ns3 import MISSING_EXTRA, Ns3Engine

pytestmark = pytest.mark.ns3


def cbr(rate="100kbps", size="500B"):
    return {"model": "cbr", "rate": rate, "packet_size": size}


def test_unloaded_link_gives_transmission_plus_propagation_delay(ns3_engine, single_link_factory):
    net = single_link_factory(cbr(), capacity="1Mbps", delay="5ms", buffer=32, duration="10s", warmup="1s")
    r = ns3_engine.simulate(net)
    f = r.flows
    assert f["tx_packets"][0] == f["rx_packets"][0] > 0
    assert f["delay"][0] == pytest.approx(500 * 8 / 1e6 + 0.005, abs=1e-8)
    assert f["jitter"][0] == pytest.approx(0.0, abs=1e-8)
    assert f["throughput"][0] == pytest.approx(f["rx_packets"][0] * 500 * 8 / 9.0)
    assert f["throughput"][0] == pytest.approx(100e3, rel=0.01)
    assert r.links["utilisation"][0] == pytest.approx(0.1, rel=0.01)
    assert r.meta["engine"] == "ns3" and r.meta["packet_hops"] >= f["tx_packets"][0]


def test_queue_holds_buffer_packets_besides_the_one_being_sent(ns3_engine, single_link_factory):
    # Nearly twice the capacity: the queue is full but for the moments after a departure, so between 4 and 5
    # packets wait on average, as in the built-in engine (ns-3's point-to-point device takes the packet it
    # sends out of its queue). The rate is not exactly twice the capacity, so arrivals never tie departures.
    net = single_link_factory(
        cbr(rate="1.9Mbps", size="1000B"), capacity="1Mbps", buffer=5, duration="10s", warmup="1s"
    )
    n, b = ns3_engine.simulate(net), BuiltinEngine().simulate(net)
    assert 4.0 < n.links["mean_queue"][0] <= 5.0
    assert n.links["mean_queue"][0] == pytest.approx(b.links["mean_queue"][0], rel=0.01)
    assert n.links["utilisation"][0] == pytest.approx(1.0, abs=1e-3)
    assert abs(int(n.flows["rx_packets"][0]) - int(b.flows["rx_packets"][0])) <= 2
    assert n.flows["drop_rate"][0] == pytest.approx(1 - 1 / 1.9, abs=0.01)
    assert n.flows["delay"][0] == pytest.approx(b.flows["delay"][0], rel=0.01)
    assert int(n.links["drops"][0]) == int(n.flows["dropped"][0])


def test_a_seed_fixes_a_run_and_runs_differ(ns3_engine, single_link_factory):
    net = single_link_factory(
        {"model": "poisson", "rate": "300kbps", "packet_size": {"dist": "exponential", "mean": "400B"}}, duration="5s"
    )
    a, b, c = (
        ns3_engine.simulate(net, seed=7),
        ns3_engine.simulate(net, seed=7),
        ns3_engine.simulate(net, seed=7, run=1),
    )
    for col in ("tx_packets", "delay", "jitter", "throughput"):
        np.testing.assert_array_equal(a.flows[col], b.flows[col])
    assert a.flows["delay"][0] != c.flows["delay"][0]


def test_static_routes_follow_each_flows_own_path(ns3_engine, scenario_factory):
    # Two flows a→c on different paths: destination routing alone could not tell them apart.
    net = scenario_factory(
        ["a", "b", "c", "d"],
        [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}, {"src": "d", "dst": "a"}],
        [
            {"src": "a", "dst": "c", "path": ["a", "b", "c"], "traffic": cbr()},
            {"src": "a", "dst": "c", "path": ["a", "d", "c"], "traffic": cbr(rate="50kbps")},
        ],
        duration="5s",
    )
    r = ns3_engine.simulate(net)
    tx = r.links["tx_packets"]
    used = {ln for f in net.flows for ln in f.path}
    assert all(tx[ln] == 0 for ln in range(net.n_links) if ln not in used)
    f0, f1 = net.flows
    assert tx[f0.path[0]] == pytest.approx(r.flows["tx_packets"][0], abs=1)
    assert tx[f1.path[0]] == pytest.approx(r.flows["tx_packets"][1], abs=1)
    np.testing.assert_array_equal(r.flows["rx_packets"], r.flows["tx_packets"])


def test_counters_are_consistent_under_congestion(ns3_engine, example):
    net = example("nsfnet-congested")
    net = dataclasses.replace(net, simulation=net.simulation.model_copy(update={"duration": 15.0}))
    r = ns3_engine.simulate(net)
    f = r.flows
    assert f["dropped"].sum() > 0
    assert int(r.links["drops"].sum()) == int(f["dropped"].sum())  # every loss is a queue drop on some link
    assert np.all(f["rx_packets"] <= f["tx_packets"])
    assert np.all((r.links["utilisation"] >= 0) & (r.links["utilisation"] <= 1 + 1e-9))
    assert np.all(f["delay_p50"] <= f["delay_p99"])
    again = SimResult.from_dict(r.to_dict())
    np.testing.assert_allclose(again.flows["delay"], f["delay"])


def test_global_routing_records_the_paths_taken(ns3_engine, example):
    net = example("nsfnet-light")
    net = dataclasses.replace(net, simulation=net.simulation.model_copy(update={"duration": 5.0}))
    engine = Ns3Engine(routing="global", pool=ns3_engine.pool)
    r = engine.simulate(net)
    assert r.meta["routing"] == "global" and r.meta["paths_unobserved"] == []
    for f, path in enumerate(r.paths):
        assert path[0] == net.flows[f].src and path[-1] == net.flows[f].dst
        assert len(path) == len(net.path_nodes(f))  # shortest-hop paths, like the scenario's
    assert r.flows["rx_packets"].sum() > 0
    assert all(share == 1.0 for share in r.meta["main_path_share"])  # static routes never change


def test_wireless_grid_runs_olsr_and_records_paths(ns3_engine, example):
    net = example("wireless-reggrid")
    net = dataclasses.replace(net, simulation=net.simulation.model_copy(update={"duration": 20.0}))
    r = Ns3Engine(olsr_warmup=20.0, pool=ns3_engine.pool).simulate(net)
    links = set(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True))
    assert r.meta["routing"] == "olsr" and len(r.meta["path_changes"]) == net.n_flows
    assert r.flows["rx_packets"].sum() > 0
    for f in range(net.n_flows):
        if f in r.meta["paths_unobserved"]:
            continue
        path = r.paths[f]
        assert path[0] == net.flows[f].src and path[-1] == net.flows[f].dst
        assert all((u, v) in links for u, v in zip(path, path[1:], strict=False))
        assert len(set(path)) == len(path)
        assert 0 < r.meta["main_path_share"][f] <= 1
    assert np.isnan(r.links["utilisation"]).all()
    assert r.links["tx_packets"].sum() >= r.flows["rx_packets"].sum()


def test_a_faster_radio_rate_shortens_wireless_delays(ns3_engine, example):
    net = example("wireless-reggrid")
    delays = []
    for rate in (1e6, 11e6):
        radio = net.scenario.topology.wireless.model_copy(update={"rate": rate})
        topology = net.scenario.topology.model_copy(update={"wireless": radio})
        scenario = net.scenario.model_copy(
            update={"topology": topology, "simulation": net.simulation.model_copy(update={"duration": 20.0})}
        )
        r = Ns3Engine(olsr_warmup=20.0, pool=ns3_engine.pool).simulate(build_network(scenario))
        delays.append(np.nanmedian(r.kpi("delay")))
    # 210-byte packets take about 2 ms of air time at 1 Mb/s and well under 1 ms at 11 Mb/s
    assert delays[1] < 0.5 * delays[0]


def test_engine_without_the_extra_says_how_to_install_it(monkeypatch, single_link_factory):
    import nettwin.sim.ns3.engine as mod

    monkeypatch.setattr(mod, "ns3_available", lambda: False)
    with pytest.raises(EngineError, match=r"pip install 'nettwin\[ns3\]'"):
        Ns3Engine(workers=3).simulate(single_link_factory(cbr()))
    assert "nettwin[ns3]" in MISSING_EXTRA


@pytest.mark.parametrize(("links", "path"), [(None, [0, 2]), ([("a", "b"), ("b", "c")], [0, 1, 2])])
def test_olsr_routes_over_the_given_neighbour_graph(ns3_engine, links, path):
    # Three nodes 20 m apart in a line all hear each other by radio range; a neighbour graph without a-c makes
    # OLSR relay through b.
    nodes = [{"name": n, "x": 20.0 * i, "y": 0.0} for i, n in enumerate("abc")]
    topology = {"nodes": nodes, "medium": "wireless"}
    if links is not None:
        topology["links"] = [{"src": u, "dst": v} for u, v in links]
    traffic = {"model": "cbr", "rate": "50kbps", "packet_size": "500B"}
    scenario = Scenario.model_validate(
        {"topology": topology, "flows": [{"src": "a", "dst": "c", "traffic": traffic}], "simulation": {"duration": 5}}
    )
    r = Ns3Engine(olsr_warmup=15.0, pool=ns3_engine.pool).simulate(build_network(scenario))
    assert r.flows["rx_packets"][0] > 0 and r.meta["paths_unobserved"] == []
    assert list(r.paths[0]) == path
