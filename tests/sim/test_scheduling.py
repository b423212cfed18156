"""Scheduled output ports in the built-in engine, against closed forms and exact equivalences; the refusals of the
engines and models that do not schedule."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from nettwin.errors import EngineError
from nettwin.scenario import Scenario, build_network
from nettwin.scenario.network import Network
from nettwin.sim.analytic import QueueingModel
from nettwin.sim.builtin import BuiltinEngine, drr_quanta
from nettwin.sim.ns3 import Ns3Engine, Ns3Options
from nettwin.sim.ns3.job import make_job

CAPACITY = 1e6
MEAN = 1250.0  # bytes: 10 ms at 1 Mbps
SERVICE = 8 * MEAN / CAPACITY


def one_link(
    scheduler: dict | None,
    flows: list[tuple[int, str, Any]],
    *,
    duration: float = 300.0,
    warmup: float = 10.0,
    seed: int = 3,
) -> Network:
    """a→b at 1 Mbps, no propagation delay; ``flows`` as (tos, rate, packet size), Poisson each."""
    link: dict[str, Any] = {"src": "a", "dst": "b", "capacity": CAPACITY, "delay": 0, "bidirectional": False}
    if scheduler is not None:
        link["scheduler"] = scheduler
    return build_network(
        Scenario.model_validate(
            {
                "topology": {"nodes": ["a", "b"], "links": [link]},
                "flows": [
                    {"src": "a", "dst": "b", "tos": c, "traffic": {"model": "poisson", "rate": r, "packet_size": s}}
                    for c, r, s in flows
                ],
                "simulation": {"duration": duration, "warmup": warmup, "seed": seed},
            }
        )
    )


def cobham(rates: list[float], second_moment: float) -> np.ndarray:
    """Mean sojourn per class of the non-preemptive priority M/G/1 queue (class 0 first), every class with the
    service time law of mean SERVICE and second moment ``second_moment``: ``W_k = W0 / ((1 − σ_{k−1})(1 − σ_k))``
    with ``W0 = Σ λ_i E[S²] / 2`` and ``σ_k`` the load of classes 0..k (Cobham, 1954), plus the service."""
    lam = np.asarray(rates)
    sigma = np.cumsum(lam * SERVICE)
    above = np.concatenate([[0.0], sigma[:-1]])
    return lam.sum() * second_moment / 2 / ((1 - above) * (1 - sigma)) + SERVICE


@pytest.mark.parametrize(
    ("size", "second_moment"),
    [({"dist": "exponential", "mean": MEAN}, 2 * SERVICE**2), (MEAN, SERVICE**2)],
    ids=["exponential", "fixed"],
)
def test_strict_priority_matches_cobham(size, second_moment):
    # Loads 0.3 (class 0) and 0.5 (class 1), buffers too large to drop. Eight independent runs of ~80,000 packets:
    # the mean over runs must sit within 4 standard errors of the closed form, and the standard error (measured
    # at 1.4 % for class 1 with exponential sizes, 0.3 % for class 0) must be small enough for that to be sharp.
    net = one_link(
        {"policy": "sp", "queues": [{"buffer": 100_000}, {"buffer": 100_000}]},
        [(0, "300kbps", size), (1, "500kbps", size)],
        duration=1000.0,
        warmup=20.0,
        seed=11,
    )
    runs = np.array([BuiltinEngine().simulate(net, run=k).flows["delay"] for k in range(8)])
    expected = cobham([30.0, 50.0], second_moment)
    mean, stderr = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(stderr < 0.02 * expected), stderr / expected
    assert np.all(np.abs(mean - expected) < 4 * stderr), (mean, expected, stderr)
    # Priority matters: FIFO at the same total load would give both classes W0 / (1 − 0.8) + S.
    assert mean[0] < 0.5 * mean[1]


@pytest.mark.parametrize("policy", ["wfq", "drr"])
def test_weighted_shares_of_saturated_classes_follow_the_weights(policy):
    # Classes 0 and 1 each offer 0.9 Mbps, class 2 offers 0.1 Mbps: the link is saturated, class 2 (weight share
    # 20 %) gets its demand and the two backlogged classes split the rest 50 : 30. The ratio of their throughputs
    # is exact up to a packet per round (~1e-4 over 300 s); class 2's queue of 20 never overflows at half its share.
    size = {"dist": "uniform", "min": 100, "max": 1500}
    queues = [{"weight": 50, "buffer": 20}, {"weight": 30, "buffer": 20}, {"weight": 20, "buffer": 20}]
    net = one_link(
        {"policy": policy, "queues": queues}, [(0, "900kbps", size), (1, "900kbps", size), (2, "100kbps", size)]
    )
    r = BuiltinEngine().simulate(net)
    throughput = r.flows["throughput"]
    assert throughput[0] / throughput[1] == pytest.approx(50 / 30, rel=0.005)
    assert r.flows["dropped"][2] == 0 and r.flows["dropped"][0] > 0 and r.flows["dropped"][1] > 0
    assert r.links["utilisation"][0] == pytest.approx(1.0, abs=1e-3)
    assert throughput.sum() == pytest.approx(CAPACITY, rel=0.005)


def test_strict_priority_starves_the_low_class_under_overload():
    net = one_link(
        {"policy": "sp", "queues": [{"buffer": 20}, {"buffer": 20}]},
        [(0, "1.5Mbps", MEAN), (1, "300kbps", MEAN)],
        duration=100.0,
    )
    r = BuiltinEngine().simulate(net)
    assert r.flows["throughput"][0] > 0.999 * CAPACITY
    assert r.flows["throughput"][1] < 0.001 * 300e3
    assert r.flows["drop_rate"][1] > 0.999


def test_queues_drop_on_their_own_and_link_drops_add_up():
    # Class 1 overloads its queue of 3; class 0, first under strict priority with room for 1000, never drops.
    net = one_link(
        {"policy": "sp", "queues": [{"buffer": 1000}, {"buffer": 3}]},
        [(0, "300kbps", {"dist": "exponential", "mean": MEAN}), (1, "900kbps", {"dist": "exponential", "mean": MEAN})],
        duration=100.0,
    )
    r = BuiltinEngine().simulate(net)
    assert r.flows["dropped"][0] == 0 and r.flows["dropped"][1] > 1000
    assert r.links["drops"][0] == r.flows["dropped"].sum()
    assert np.array_equal(r.flows["tx_packets"], r.flows["rx_packets"] + r.flows["dropped"])


def _mixed(scheduler: dict | None, tos: int = 0) -> Network:
    """Three hops, five flows of varied traffic laws, buffers that drop: every link gets ``scheduler``."""
    link = {"capacity": "1Mbps", "delay": "1ms", "buffer": 6}
    if scheduler is not None:
        link["scheduler"] = scheduler
    laws = [
        {"model": "poisson", "rate": "400kbps", "packet_size": {"dist": "exponential", "mean": 800}},
        {"model": "cbr", "rate": "300kbps", "packet_size": 500},
        {
            "model": "onoff",
            "rate": "900kbps",
            "tau_on": 0.2,
            "tau_off": 0.3,
            "packet_size": {"dist": "uniform", "min": 100, "max": 1400},
        },
        {
            "model": "ppbp",
            "rate": "500kbps",
            "burst_arrivals": 5,
            "burst_min": "2kB",
            "burst_max": "100kB",
            "pareto_shape": 1.5,
        },
        {"model": "poisson", "rate": "200kbps", "packet_size": {"dist": "binomial", "sizes": [100, 1400]}},
    ]
    pairs = [("a", "d"), ("b", "d"), ("a", "c"), ("d", "a"), ("c", "a")]
    return build_network(
        Scenario.model_validate(
            {
                "topology": {
                    "nodes": ["a", "b", "c", "d"],
                    "defaults": link,
                    "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}],
                },
                "flows": [
                    {"src": s, "dst": t, "tos": tos, "traffic": tr} for (s, t), tr in zip(pairs, laws, strict=True)
                ],
                "simulation": {"duration": 20.0, "warmup": 1.0, "seed": 5},
            }
        )
    )


def _kpis(net: Network, run: int = 0) -> dict:
    out = BuiltinEngine().simulate(net, run=run).to_dict()
    out["meta"].pop("wall_seconds")
    return out


@pytest.mark.parametrize(
    "scheduler",
    [
        {"policy": "sp", "queues": [{}]},
        {"policy": "wfq", "queues": [{"weight": 3}]},
        {"policy": "drr", "queues": [{"weight": 1}]},
    ],
    ids=["sp", "wfq", "drr"],
)
def test_a_one_queue_scheduled_port_is_exactly_the_fifo_port(scheduler):
    # The scheduled path (a decision when each transmission ends) and the FIFO path (departures fixed on
    # acceptance) are two implementations of the same port when it has one queue: same drops, same times, bit
    # for bit, on a lossy multi-hop network with every traffic law.
    assert BuiltinEngine().simulate(_mixed(None)).flows["dropped"].sum() > 0
    assert _kpis(_mixed(scheduler)) == _kpis(_mixed(None))


def test_an_explicit_fifo_scheduler_and_classes_on_fifo_ports_change_nothing():
    assert _kpis(_mixed({"policy": "fifo"}, tos=7)) == _kpis(_mixed(None))


def test_scheduled_runs_are_reproducible_and_runs_differ():
    sched = {"policy": "drr", "queues": [{"weight": 2}, {"weight": 1, "buffer": 2}]}
    net = _mixed(sched, tos=1)
    first = _kpis(net)
    assert _kpis(net) == first
    assert _kpis(net, run=1) != first


def test_drr_quantum_is_the_largest_packet_times_the_weight_over_the_smallest():
    net = one_link(
        {"policy": "drr", "queues": [{"weight": 20}, {"weight": 50}]},
        [(0, "100kbps", {"dist": "uniform", "min": 100, "max": 1500}), (1, "100kbps", 700)],
    )
    assert drr_quanta(net).tolist() == [1500.0, 3750.0]


def _two_classes(policy: str) -> Network:
    queues = [{}, {}] if policy == "sp" else [{"weight": 1}, {"weight": 1}]
    return one_link({"policy": policy, "queues": queues}, [(0, "100kbps", MEAN), (1, "100kbps", MEAN)])


@pytest.mark.parametrize("policy", ["sp", "wfq", "drr"])
def test_ns3_refuses_scheduled_ports_before_any_worker(policy):
    net = _two_classes(policy)
    message = f"^link 0 \\(a→b\\) schedules its queues by {policy}; the ns-3 engine simulates one FIFO queue per port"
    with pytest.raises(EngineError, match=message):
        make_job(net, 1, 0, Ns3Options())
    engine = Ns3Engine()
    (out,) = engine.simulate_many([(net, 1, 0)])
    assert isinstance(out, EngineError) and engine._pool is None


@pytest.mark.parametrize("policy", ["wfq", "drr"])
def test_queueing_theory_refuses_weighted_scheduling(policy):
    with pytest.raises(EngineError, match=f"^the analytic model: it has no closed form for {policy} scheduling"):
        QueueingModel().simulate(_two_classes(policy))


@pytest.mark.parametrize(
    ("size", "second_moment"),
    [({"dist": "exponential", "mean": MEAN}, 2 * SERVICE**2), (MEAN, SERVICE**2)],
    ids=["exponential", "fixed"],
)
def test_queueing_theory_gives_cobham_for_strict_priority(size, second_moment):
    net = one_link(
        {"policy": "sp", "queues": [{"buffer": 100_000}, {"buffer": 100_000}]},
        [(0, "300kbps", size), (1, "500kbps", size)],
    )
    r = QueueingModel().simulate(net)
    assert r.flows["delay"] == pytest.approx(cobham([30.0, 50.0], second_moment), rel=1e-9)
    # Each class's own sojourn spread (an exponential law of its mean), not its link's first queue's.
    assert r.flows["delay_std"] == pytest.approx(r.flows["delay"], rel=1e-9)
    assert r.links["utilisation"][0] == pytest.approx(0.8, rel=1e-9)
    # Little's law per class, summed over the link's queues: packets waiting = Σ λ_k W_k.
    waiting = np.array([30.0, 50.0]) @ (r.flows["delay"] - SERVICE)
    assert r.links["mean_queue"][0] == pytest.approx(waiting, rel=1e-9)


def test_queueing_theory_starves_the_low_class_and_follows_the_simulation_under_overload():
    net = one_link(
        {"policy": "sp", "queues": [{"buffer": 10}, {"buffer": 10}]},
        [(0, "1.5Mbps", {"dist": "exponential", "mean": MEAN}), (1, "300kbps", {"dist": "exponential", "mean": MEAN})],
        duration=300.0,
    )
    qt, sim = QueueingModel().simulate(net), BuiltinEngine().simulate(net)
    # The model makes the high class an M/M/1/b queue of its own (leaving out the residual low-class service).
    rho = 1.5
    assert qt.flows["drop_rate"][0] == pytest.approx((1 - rho) * rho**11 / (1 - rho**12), rel=1e-9)
    assert qt.flows["drop_rate"][1] > 0.98 and sim.flows["drop_rate"][1] > 0.97
    assert qt.flows["drop_rate"][0] == pytest.approx(sim.flows["drop_rate"][0], abs=0.02)
    assert np.all(np.isfinite(qt.flows["delay"])) and qt.flows["delay"][1] > 100 * qt.flows["delay"][0]


def test_queueing_theory_maps_classes_to_queues_along_paths():
    # Every link strict priority, flows of both classes across three hops: finite, and class 0 faster than class 1
    # wherever both share their path.
    sched = {"policy": "sp", "queues": [{}, {}]}
    hi, lo = _mixed(sched, tos=0), _mixed(sched, tos=1)
    both = build_network(
        hi.scenario.model_copy(update={"flows": [*hi.scenario.flows[:3], *lo.scenario.flows[:3]]}, deep=True)
    )
    r = QueueingModel().simulate(both)
    assert np.all(np.isfinite(r.flows["delay"])) and np.all(np.isfinite(r.flows["jitter"]))
    assert np.all(r.flows["delay"][:3] < r.flows["delay"][3:])
    assert r.links["drops"].sum() == pytest.approx(r.flows["drops"].sum(), rel=0.01)


@pytest.mark.parametrize("policy", ["wfq", "drr"])
def test_shares_are_in_bits_whatever_the_packet_sizes(policy):
    # Equal weights, both classes backlogged, one with 1500 B packets and one with exponential sizes of mean 100 B
    # (most of them below DRR's quantum, some far above): each gets half the link in bits, up to a packet or so
    # (one 1500 B packet is 1e-4 of what a class sends in the window).
    net = one_link(
        {"policy": policy, "queues": [{"weight": 1, "buffer": 50}, {"weight": 1, "buffer": 50}]},
        [(0, "2Mbps", 1500), (1, "2Mbps", {"dist": "exponential", "mean": 100})],
        duration=100.0,
    )
    r = BuiltinEngine().simulate(net)
    assert r.flows["throughput"][0] / r.flows["throughput"][1] == pytest.approx(1.0, rel=0.002)
    assert r.flows["throughput"].sum() == pytest.approx(CAPACITY, rel=0.005)


def test_the_engine_refuses_a_class_without_a_queue_in_a_hand_made_network():
    net = _two_classes("sp")
    flows = (net.flows[0], dataclasses.replace(net.flows[1], tos=2))
    with pytest.raises(EngineError, match=r"^flow 1: class 2 has no queue at link 0 \(a→b\)$"):
        BuiltinEngine().simulate(dataclasses.replace(net, flows=flows))
