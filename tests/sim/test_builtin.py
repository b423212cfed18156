"""The built-in engine: exact delays, conservation, traffic models, reproducibility, warm-up, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numba import njit

from nettwin.errors import EngineError
from nettwin.scenario import Scenario, build_network
from nettwin.sim import _kernel
from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import get_engine
from nettwin.sim.kpi import FLOW_COLUMNS, HIST_RATIO, LINK_COLUMNS

TANDEM = [
    {"src": "a", "dst": "b", "capacity": "1Mbps", "delay": "1ms", "bidirectional": False},
    {"src": "b", "dst": "c", "capacity": "2Mbps", "delay": "2ms", "bidirectional": False},
    {"src": "c", "dst": "d", "capacity": "500kbps", "delay": "3ms", "bidirectional": False},
]


@pytest.fixture(scope="module")
def engine() -> BuiltinEngine:
    return BuiltinEngine()


@pytest.fixture
def congested(scenario_factory):
    """A 5-node network whose middle link b→c carries ~1.3× its capacity, plus lightly loaded side flows."""
    links = [
        {"src": "a", "dst": "b", "capacity": "4Mbps"},
        {"src": "b", "dst": "c", "capacity": "1Mbps", "buffer": 8},
        {"src": "c", "dst": "d", "capacity": "4Mbps"},
        {"src": "b", "dst": "e", "capacity": "2Mbps"},
        {"src": "e", "dst": "d", "capacity": "2Mbps"},
    ]
    exp = {"dist": "exponential", "mean": 500}
    flows = [
        {
            "src": "a",
            "dst": "d",
            "path": ["a", "b", "c", "d"],
            "traffic": {"model": "poisson", "rate": "700kbps", "packet_size": exp},
        },
        {
            "src": "a",
            "dst": "c",
            "traffic": {
                "model": "onoff",
                "rate": "1.2Mbps",
                "tau_on": 0.2,
                "tau_off": 0.2,
                "packet_size": {"dist": "binomial", "sizes": [100, 1000], "p": 0.5},
            },
        },
        {"src": "b", "dst": "c", "traffic": {"model": "cbr", "rate": "100kbps", "packet_size": 400}},
        {"src": "a", "dst": "e", "traffic": {"model": "poisson", "rate": "300kbps"}},
        {"src": "d", "dst": "a", "traffic": {"model": "cbr", "rate": "200kbps", "packet_size": exp}},
    ]
    return scenario_factory(
        ["a", "b", "c", "d", "e"], links, flows, duration=20.0, warmup=2.0, defaults={"delay": "1ms", "buffer": 32}
    )


def test_tandem_delays_are_exact(scenario_factory, engine):
    size = 500.0
    network = scenario_factory(
        ["a", "b", "c", "d"],
        TANDEM,
        [{"src": "a", "dst": "d", "traffic": {"model": "cbr", "rate": "10kbps", "packet_size": size}}],
        duration=20.0,
        warmup=1.0,
    )
    expected = sum(size * 8 / c + d for c, d in ((1e6, 1e-3), (2e6, 2e-3), (500e3, 3e-3)))
    result = engine.simulate(network)
    assert result.flows["rx_packets"][0] == result.flows["tx_packets"][0] > 40
    assert result.kpi("delay")[0] == pytest.approx(expected, rel=1e-12)
    assert result.kpi("jitter")[0] == pytest.approx(0.0, abs=1e-12)
    assert result.kpi("delay_std")[0] == pytest.approx(0.0, abs=1e-7)
    assert result.kpi("delay_p50")[0] == pytest.approx(expected, rel=HIST_RATIO - 1)
    assert result.kpi("delay_p99")[0] == pytest.approx(expected, rel=HIST_RATIO - 1)


def test_conservation_and_drops(congested, engine):
    result = engine.simulate(congested)
    f, lk = result.flows, result.links
    assert np.array_equal(f["tx_packets"], f["rx_packets"] + f["dropped"])
    assert lk["drops"].sum() == f["dropped"].sum() > 0
    bc = congested.link_index(1, 2)
    assert lk["drops"][bc] == lk["drops"].sum()  # only the overloaded link drops
    assert 0.9 < lk["utilisation"][bc] <= 1.0 + 1e-9  # idle now and then while the on/off flow is off
    assert np.all(lk["utilisation"] <= 1.0 + 1e-9)
    assert lk["mean_queue"][bc] > 4  # a buffer of 8 mostly full
    assert np.all(lk["mean_queue"] <= congested.buffer + 1e-9)
    assert np.all(f["drop_rate"][[3, 4]] == 0)  # flows avoiding b→c lose nothing


def test_throughput_matches_offered_rate_when_uncongested(scenario_factory, engine):
    flows = [
        {"src": "a", "dst": "d", "traffic": {"model": "poisson", "rate": "300kbps"}},
        {"src": "b", "dst": "d", "traffic": {"model": "cbr", "rate": "100kbps", "packet_size": 200}},
        {
            "src": "a",
            "dst": "c",
            "traffic": {"model": "poisson", "rate": "400kbps", "packet_size": {"dist": "exponential", "mean": 800}},
        },
    ]
    network = scenario_factory(
        ["a", "b", "c", "d"], [{**lk, "capacity": "2Mbps"} for lk in TANDEM], flows, duration=400.0, warmup=5.0
    )
    result = engine.simulate(network)
    assert np.all(result.flows["dropped"] == 0)
    np.testing.assert_allclose(result.kpi("throughput"), [300e3, 100e3, 400e3], rtol=0.03)
    offered = network.offered_load / network.capacity
    np.testing.assert_allclose(result.links["utilisation"], offered, rtol=0.03)


@pytest.mark.parametrize(("tau_on", "tau_off"), [(0.02, 0.06), (0.002, 0.006)])
def test_onoff_long_run_rate(single_link_factory, engine, tau_on, tau_off):
    """Long on periods, and on periods shorter than a packet interval (8 ms): there only the bits carried over
    from one on period to the next let the flow reach rate·τon/(τon+τoff)."""
    network = single_link_factory(
        {"model": "onoff", "rate": "1Mbps", "packet_size": 1000, "tau_on": tau_on, "tau_off": tau_off},
        capacity="100Mbps",
        buffer=1000,
        duration=1000.0,
        warmup=1.0,
    )
    result = engine.simulate(network)
    assert result.kpi("throughput")[0] == pytest.approx(1e6 * tau_on / (tau_on + tau_off), rel=0.02)


def test_same_seed_identical_other_run_different(congested, engine):
    a = engine.simulate(congested)
    b = BuiltinEngine().simulate(congested, seed=congested.simulation.seed, run=0)
    for c in FLOW_COLUMNS:
        assert np.array_equal(a.flows[c], b.flows[c], equal_nan=True), c
    for c in LINK_COLUMNS:
        assert np.array_equal(a.links[c], b.links[c]), c
    assert a.meta["events"] == b.meta["events"]
    other_run = engine.simulate(congested, run=1)
    other_seed = engine.simulate(congested, seed=2)
    for other in (other_run, other_seed):
        assert not np.array_equal(a.kpi("delay"), other.kpi("delay"))
        assert not np.array_equal(a.flows["tx_packets"], other.flows["tx_packets"])


def test_flow_stream_does_not_depend_on_other_flows(scenario_factory, engine):
    """Flow 0's packets (times and sizes) come from its own stream: a disjoint extra flow changes nothing."""
    links = [{"src": "a", "dst": "b"}, {"src": "c", "dst": "d"}]
    f0 = {
        "src": "a",
        "dst": "b",
        "traffic": {"model": "poisson", "rate": "2Mbps", "packet_size": {"dist": "exponential", "mean": 600}},
    }
    f1 = {"src": "c", "dst": "d", "traffic": {"model": "cbr", "rate": "1Mbps"}}
    alone = engine.simulate(scenario_factory(["a", "b", "c", "d"], links, [f0], duration=5.0))
    both = engine.simulate(scenario_factory(["a", "b", "c", "d"], links, [f0, f1], duration=5.0))
    for c in FLOW_COLUMNS:
        assert np.array_equal(alone.flows[c][0], both.flows[c][0], equal_nan=True), c


def test_warmup_is_excluded(single_link_factory, engine):
    # 80 kbit/s of 1000-byte packets: one packet every 0.1 s, so 60 in the window [4 s, 10 s).
    network = single_link_factory(
        {"model": "cbr", "rate": "80kbps", "packet_size": 1000}, delay="5ms", duration=10.0, warmup=4.0
    )
    result = engine.simulate(network)
    assert abs(int(result.flows["tx_packets"][0]) - 60) <= 1
    assert result.meta["packets"] in (99, 100, 101)
    assert result.kpi("throughput")[0] == pytest.approx(80e3, rel=0.02)
    assert result.links["utilisation"][0] == pytest.approx(0.08, rel=0.02)
    assert result.links["tx_packets"][0] == result.flows["tx_packets"][0]


def test_meta(congested, engine):
    result = engine.simulate(congested, seed=5, run=2)
    m = result.meta
    assert m["engine"] == "builtin" and m["seed"] == 5 and m["run"] == 2
    assert isinstance(m["version"], str) and m["wall_seconds"] > 0
    # One event per send and one per accepted packet-hop; link drops count measured packets only, so the
    # drops of packets sent during warm-up make up the difference.
    all_drops = m["packets"] + m["packet_hops"] - m["events"]
    assert all_drops >= result.links["drops"].sum() > 0
    assert m["packet_hops"] >= m["packets"] >= result.flows["tx_packets"].sum()


def test_ring_growth_keeps_fifo(scenario_factory, engine):
    """A burst fills a huge buffer on the first of two links (rings must grow far beyond their first size)."""
    network = scenario_factory(
        ["a", "b", "c"],
        [
            {"src": "a", "dst": "b", "capacity": "1Mbps", "buffer": 10**6, "bidirectional": False},
            {"src": "b", "dst": "c", "capacity": "1Mbps", "delay": "50ms", "bidirectional": False},
        ],
        [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "2Mbps", "packet_size": 125}}],
        duration=2.0,
    )
    result = engine.simulate(network)
    sent = int(result.flows["tx_packets"][0])
    assert sent == 4000 and result.flows["rx_packets"][0] == sent
    # Packet k waits k·0.5 ms (the queue grows to 2000 packets), then two 1 ms transmissions, 1 ms + 50 ms
    # propagation: the mean wait is 0.5 ms × 1999.5.
    assert result.kpi("delay")[0] == pytest.approx(0.5e-3 * 1999.5 + 0.053, rel=1e-9)
    assert result.kpi("jitter")[0] == pytest.approx(0.5e-3, rel=0.01)


def test_registered_and_repr():
    assert isinstance(get_engine("builtin"), BuiltinEngine)
    assert repr(BuiltinEngine()) == "BuiltinEngine()"


def test_wireless_is_refused(engine):
    scenario = Scenario.model_validate(
        {
            "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 50}, "medium": "wireless"},
            "flows": [{"src": 0, "dst": 3, "traffic": {"model": "cbr", "rate": "100kbps"}}],
        }
    )
    with pytest.raises(EngineError, match=r"wired links only.*--engine ns3 \(simulation.engine: ns3\)"):
        engine.simulate(build_network(scenario))


def test_invalid_networks_are_refused(single_link_factory, engine):
    network = single_link_factory({"model": "cbr", "rate": "1Mbps"})
    with pytest.raises(EngineError, match="no flows"):
        engine.simulate(dataclasses.replace(network, flows=()))
    with pytest.raises(EngineError, match=r"capacity must be finite and > 0, got 0.0 for link 0 \(a→b\)"):
        engine.simulate(dataclasses.replace(network, capacity=np.array([0.0])))
    with pytest.raises(EngineError, match="buffer"):
        engine.simulate(dataclasses.replace(network, buffer=np.array([-1])))
    broken = dataclasses.replace(network.flows[0], path=())
    with pytest.raises(EngineError, match="empty path"):
        engine.simulate(dataclasses.replace(network, flows=(broken,)))
    with pytest.raises(EngineError, match="run must be >= 0"):
        engine.simulate(network, run=-1)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ((), r"flow 37 \(a→c\) has an empty path"),
        ((0, 5), r"flow 37: path \[0, 5\] names a link that does not exist"),
        ((1,), r"flow 37: path \[1\] does not lead from node 0 to node 2"),
        ((0,), r"flow 37: path \[0\] does not lead from node 0 to node 2"),
        ((0, 0), r"flow 37: path \[0, 0\] does not lead from node 0 to node 2"),
        ("rate", r"flow 37: traffic rate must be finite and > 0, got nan"),
    ],
)
def test_the_first_bad_flow_among_many_is_named(scenario_factory, engine, path, message):
    links = [
        {"src": "a", "dst": "b", "capacity": "10Mbps", "bidirectional": False},
        {"src": "b", "dst": "c", "capacity": "10Mbps", "bidirectional": False},
    ]
    flows = [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "10kbps"}}] * 60
    network = scenario_factory(["a", "b", "c"], links, flows)
    good = network.flows[0]
    if path == "rate":
        bad = dataclasses.replace(good, traffic=good.traffic.model_copy(update={"rate": float("nan")}))
    else:
        bad = dataclasses.replace(good, path=path)
    broken = [good] * 37 + [bad] + [good] * 12 + [dataclasses.replace(good, path=())] + [good] * 9
    with pytest.raises(EngineError, match=message):
        engine.simulate(dataclasses.replace(network, flows=tuple(broken)))


@njit
def _next_u64(state):
    return _kernel.next_u64(state[0])


@njit
def _uniform(state):
    return _kernel.uniform(state[0])


def test_rng_is_xoshiro256starstar():
    """The kernel's generator against a plain-Python xoshiro256** written from its definition."""
    mask = (1 << 64) - 1

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    s = [0x0123456789ABCDEF, 0xDEADBEEFCAFEF00D, 0x1, 0xFFFFFFFFFFFFFFFF]
    state = np.zeros(1, dtype=_kernel.FLOW_DTYPE)
    for name, word in zip(("s0", "s1", "s2", "s3"), s, strict=True):
        state[name] = word
    for _ in range(20):
        want = (rotl((s[1] * 5) & mask, 7) * 9) & mask
        t = (s[1] << 17) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        assert int(_next_u64(state)) == want
    u = _uniform(state)
    assert 0.0 <= u < 1.0
