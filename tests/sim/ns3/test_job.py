"""What the engine checks and sends to workers; no ns-3 needed."""

from __future__ import annotations

import math

import pytest

from nettwin.errors import EngineError
from nettwin.scenario import build_network, parse_scenario
from nettwin.sim.ns3 import Ns3Engine, Ns3Options
from nettwin.sim.ns3.job import WIRED_HEADER_BYTES, make_job, ns3_seed
from nettwin.sim.ns3.wired import _channels


def cbr(size="500B", rate="100kbps"):
    return {"model": "cbr", "rate": rate, "packet_size": size}


def test_job_is_plain_data(single_link_factory):
    job = make_job(single_link_factory(cbr()), 3, 1, Ns3Options())
    assert job["medium"] == "wired" and job["run"] == 1 and job["scenario_seed"] == 3
    assert job["header_bytes"] == WIRED_HEADER_BYTES
    assert job["flows"][0]["path"] == [0] and job["flows"][0]["size_mean"] == 500.0
    assert all(isinstance(v, list) for v in job["links"].values())


@pytest.mark.parametrize(("rate", "mode"), [("1Mbps", "DsssRate1Mbps"), ("5.5Mbps", "DsssRate5_5Mbps")])
def test_wireless_job_names_the_radio_rate(rate, mode):
    topology = {"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless", "wireless": {"rate": rate}}
    flows = [{"src": 0, "dst": 3, "traffic": cbr()}]
    job = make_job(build_network(parse_scenario({"topology": topology, "flows": flows})), 1, 0, Ns3Options())
    assert job["radio"]["mode"] == mode and job["radio"]["exponent"] == 3.0


def test_seed_mapping_is_deterministic_and_valid():
    assert ns3_seed(1) == ns3_seed(1) != ns3_seed(2)
    assert all(1 <= ns3_seed(s) < 2**31 for s in range(50))
    with pytest.raises(EngineError, match=r"seed must be between 0 and 2\*\*63 - 1"):
        ns3_seed(-1)


def test_packets_smaller_than_headers_are_refused(single_link_factory):
    with pytest.raises(EngineError, match="smaller than the 30 B of headers"):
        make_job(single_link_factory(cbr(size="20B")), 1, 0, Ns3Options())


def test_zero_buffer_is_refused(single_link_factory):
    with pytest.raises(EngineError, match="buffer must be >= 1 for ns-3"):
        make_job(single_link_factory(cbr(), buffer=0), 1, 0, Ns3Options())


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"routing": "ospf"}, "routing must be one of"),
        ({"olsr_warmup": -1.0}, "olsr_warmup"),
        ({"drain": 0.0}, "drain"),
    ],
)
def test_bad_options(kw, match):
    with pytest.raises(EngineError, match=match):
        Ns3Engine(**kw)


def test_invalid_items_fail_alone_without_workers(single_link_factory):
    # Both items are refused before any worker starts, each with its own error.
    engine = Ns3Engine()
    out = engine.simulate_many(
        [(single_link_factory(cbr(size="10B")), 1, 0), (single_link_factory(cbr(), buffer=0), 1, 0)]
    )
    assert [type(o) for o in out] == [EngineError, EngineError]
    assert engine._pool is None


def test_reverse_links_share_a_channel_when_delays_match(scenario_factory):
    net = scenario_factory(
        ["a", "b", "c"],
        [
            {"src": "a", "dst": "b"},
            {"src": "b", "dst": "c", "delay": "5ms", "bidirectional": False},
            {"src": "c", "dst": "b", "delay": "7ms", "bidirectional": False},
        ],
        [{"src": "a", "dst": "c", "traffic": cbr()}],
    )
    job = make_job(net, 1, 0, Ns3Options())
    pairs = _channels(job)
    # a→b and b→a share a channel; b→c (5 ms) and c→b (7 ms) cannot, so each gets its own.
    assert sorted(len([x for x in p if x is not None]) for p in pairs) == [1, 1, 2]
    assert sorted(ln for p in pairs for ln in p if ln is not None) == list(range(net.n_links))


LINE = [{"name": n, "x": 20.0 * i, "y": 0.0} for i, n in enumerate("abc")]


def line_job(links, wireless=None):
    topology = {"nodes": LINE, "links": links, "medium": "wireless", "wireless": wireless or {}}
    flows = [{"src": "a", "dst": "c", "traffic": cbr()}]
    return make_job(build_network(parse_scenario({"topology": topology, "flows": flows})), 1, 0, Ns3Options())


def test_radio_range_links_need_no_loss_matrix():
    topology = {"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless", "wireless": {"range": "35m"}}
    flows = [{"src": 0, "dst": 3, "traffic": cbr()}]
    job = make_job(build_network(parse_scenario({"topology": topology, "flows": flows})), 1, 0, Ns3Options())
    assert job["radio"]["graph"] == {"src": [], "dst": [], "loss": []}
    assert job["radio"]["rx_sensitivity"] == pytest.approx(16.0206 - 46.67 - 30 * math.log10(35))


def test_a_neighbour_graph_travels_as_a_loss_matrix():
    # Within the default range (~221 m) all three nodes hear each other; the graph keeps only a-b and b-c.
    graph = line_job([{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}])["radio"]["graph"]
    assert (graph["src"], graph["dst"]) == ([0, 1], [1, 2])
    assert graph["loss"] == pytest.approx([46.67 + 30 * math.log10(20)] * 2)


@pytest.mark.parametrize(
    ("links", "wireless", "match"),
    [
        (
            [{"src": "a", "dst": "b", "bidirectional": False}, {"src": "b", "dst": "c"}],
            {},
            r"^link 0 \(a→b\) has no link back: 802\.11 acknowledges every frame",
        ),
        (
            [{"src": "a", "dst": "c"}],
            {"range": "35m"},
            r"^link 0 \(a→c\) is 40 m long, beyond the radio range of 35 m: ns-3 Wi-Fi cannot carry",
        ),
    ],
)
def test_neighbour_graphs_ns3_cannot_carry_are_refused(links, wireless, match):
    with pytest.raises(EngineError, match=match):
        line_job(links, wireless)
