"""The traffic and packet-size laws of the built-in engine against their closed forms and queueing theory.

Source laws are checked on the packets a source emits (its send times and sizes, read from the kernel's own
source functions), with tolerances of 5 standard errors estimated from the sample itself (for a mean: s/√n; for
a variance: √((m₄ − s⁴)/n), m₄ the fourth central moment). Seeds are fixed, so every check is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy import integrate
from scipy.stats import norm

from nettwin.errors import EngineError
from nettwin.scenario import parse_scenario
from nettwin.scenario.network import build_network
from nettwin.scenario.traffic import Traffic, truncated_pareto_mean
from nettwin.sim import _kernel
from nettwin.sim.builtin import BuiltinEngine, _flow_arrays
from nettwin.sim.ns3.job import Ns3Options, make_job
from nettwin.sim.seeds import flow_seeds

Z = 5.0  # standard errors


@njit
def _trace(flows, rng, duration, times, sizes):
    """Send times and sizes of flow 0's packets in [0, duration), as the event loop would send them."""
    fl, table, _ = _kernel.pack_flows(flows, rng)
    r = fl[0]
    burst_end = np.empty(flows.burst_ptr[1])
    _kernel._start_source(r)
    t = _kernel._schedule_send(r, 0.0, duration, burst_end, table)
    n = 0
    while t < np.inf and n < times.shape[0]:
        times[n] = t
        sizes[n] = r.size
        n += 1
        t = _kernel._schedule_send(r, t, duration, burst_end, table)
    return n


def network(traffic: dict, *, duration: float = 10.0, warmup: float = 0.0, capacity="1Gbps", buffer=10**6, seed=3):
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["a", "b"],
                    "links": [
                        {
                            "src": "a",
                            "dst": "b",
                            "capacity": capacity,
                            "delay": 0,
                            "buffer": buffer,
                            "bidirectional": False,
                        }
                    ],
                },
                "flows": [{"src": "a", "dst": "b", "traffic": traffic}],
                "simulation": {"duration": duration, "warmup": warmup, "seed": seed},
            }
        )
    )


def trace(traffic: dict, duration: float, *, seed: int = 3, burst_room: int | None = None):
    """(send times, sizes) of one source over ``duration`` seconds."""
    flows = _flow_arrays(network(traffic, duration=duration, seed=seed))
    if burst_room is not None:
        flows = flows._replace(burst_ptr=np.array([0, burst_room], dtype=np.int64))
    rng = np.ascontiguousarray(flow_seeds(seed, 0, 1))
    cap = 4_000_000
    times, sizes = np.empty(cap), np.empty(cap)
    n = _trace(flows, rng, duration, times, sizes)
    assert n < cap
    return times[:n], sizes[:n]


def assert_moments(x: np.ndarray, mean: float, var: float) -> None:
    n = len(x)
    m, s2 = x.mean(), x.var()
    m4 = np.mean((x - m) ** 4)
    # Plus rounding: send times up to 200 s are differenced into gaps of 1 ms (relative error ~ 1e-11).
    assert abs(m - mean) < Z * math.sqrt(s2 / n) + 1e-9 * abs(mean), (m, mean)
    assert abs(s2 - var) < Z * math.sqrt(max(m4 - s2 * s2, 0.0) / n) + 1e-9 * mean**2, (s2, var)


G = 1e-3  # mean gap, s: 1000-byte packets at 8 Mbit/s
BASE = {"rate": "8Mbps", "packet_size": 1000}


def clipped_normal(g: float, s: float) -> tuple[float, float]:
    """Mean and variance of max(0, X), X ~ Normal(g, s²)."""
    a = g / s
    m1 = g * norm.cdf(a) + s * norm.pdf(a)
    m2 = (g * g + s * s) * norm.cdf(a) + g * s * norm.pdf(a)
    return m1, m2 - m1 * m1


@pytest.mark.parametrize(
    ("extra", "mean", "var"),
    [
        ({"model": "uniform"}, G, G**2 / 3),  # spread 1 by default: uniform on [0, 2g]
        ({"model": "uniform", "spread": 0.3}, G, (0.3 * G) ** 2 / 3),
        ({"model": "uniform", "spread": 0.0}, G, 0.0),
        ({"model": "normal", "gap_std": "0.25ms"}, *clipped_normal(G, 0.25 * G)),
        ({"model": "normal", "gap_std": "1ms"}, *clipped_normal(G, G)),
        ({"model": "poisson"}, G, G**2),
    ],
)
def test_gap_mean_and_variance(extra, mean, var):
    traffic = {**BASE, **extra}
    times, _ = trace(traffic, duration=200.0)  # about 200,000 gaps
    gaps = np.diff(times)
    assert len(gaps) > 150_000
    assert_moments(gaps, mean, var)
    # The long-run rate the scenario reports is the one the source sends at.
    rate = Traffic.model_validate(traffic).packet_rate
    assert abs(len(times) / 200.0 - rate) < Z * math.sqrt(var / mean**3 / 200.0) + 1e-9 * rate


def test_uniform_gaps_stay_within_their_bounds():
    gaps = np.diff(trace({**BASE, "model": "uniform", "spread": 0.4}, duration=20.0)[0])
    assert 0.6 * G <= gaps.min() < 0.61 * G and 1.39 * G < gaps.max() <= 1.4 * G


def test_a_negative_normal_draw_sends_at_once_rather_than_being_redrawn():
    gaps = np.diff(trace({**BASE, "model": "normal", "gap_std": "1ms"}, duration=200.0)[0])
    share, expected = np.mean(gaps == 0.0), norm.cdf(-1.0)  # P(Normal(g, g) < 0)
    assert abs(share - expected) < Z * math.sqrt(expected * (1 - expected) / len(gaps))
    # Clipping lengthens the mean gap: the mean rate is below `rate`, as Traffic.mean_rate says (by 7.7 % here).
    t = Traffic.model_validate({**BASE, "model": "normal", "gap_std": "1ms"})
    assert t.mean_rate == pytest.approx(8e6 / (norm.cdf(1.0) + norm.pdf(1.0)), rel=1e-12)


@pytest.mark.parametrize(
    ("size", "values", "probs"),
    [
        ({"dist": "discrete", "sizes": [64, 576, 1500], "probs": [0.5, 0.2, 0.3]}, [64, 576, 1500], [0.5, 0.2, 0.3]),
        ({"dist": "discrete", "sizes": [300], "probs": [1.0]}, [300], [1.0]),
        ({"dist": "binomial", "sizes": [100, 1400], "p": 0.3}, [100, 1400], [0.3, 0.7]),
    ],
)
def test_discrete_sizes_have_their_probabilities(size, values, probs):
    _, sizes = trace({"model": "poisson", "rate": "8Mbps", "packet_size": size}, duration=100.0)
    n = len(sizes)
    assert set(np.unique(sizes)) == set(map(float, values))
    for v, p in zip(values, probs, strict=True):
        assert abs(np.mean(sizes == v) - p) < Z * math.sqrt(p * (1 - p) / n) + 1e-12
    ps = Traffic.model_validate({"model": "poisson", "rate": "8Mbps", "packet_size": size}).packet_size
    assert_moments(sizes, ps.mean_bytes, ps.second_moment - ps.mean_bytes**2)


def test_uniform_sizes_have_their_moments_and_bounds():
    ps = {"dist": "uniform", "min": 100, "max": 1400}
    _, sizes = trace({"model": "poisson", "rate": "8Mbps", "packet_size": ps}, duration=200.0)
    assert 100 <= sizes.min() < 101 and 1399 < sizes.max() <= 1400
    assert_moments(sizes, 750.0, 1300.0**2 / 12)
    law = Traffic.model_validate({"model": "cbr", "rate": "1Mbps", "packet_size": ps}).packet_size
    assert (law.mean_bytes, law.second_moment) == (750.0, pytest.approx(750.0**2 + 1300.0**2 / 12, rel=1e-12))


def test_binomial_sizes_are_drawn_as_before():
    """Binomial sizes now go through the discrete law: the same draws, so the same packets."""
    times, sizes = trace(
        {"model": "poisson", "rate": "8Mbps", "packet_size": {"dist": "binomial", "sizes": [100, 1400], "p": 0.3}}, 1.0
    )
    same = trace(
        {
            "model": "poisson",
            "rate": "8Mbps",
            "packet_size": {"dist": "discrete", "sizes": [100, 1400], "probs": [0.3, 0.7]},
        },
        1.0,
    )
    assert np.array_equal(times, same[0]) and np.array_equal(sizes, same[1])


# --- PPBP --------------------------------------------------------------------------------------------------

PPBP = {
    "model": "ppbp",
    "rate": "8Mbps",  # one burst: a 1000-byte packet per ms
    "burst_arrivals": 50,
    "burst_min": "2kB",
    "burst_max": "200kB",
    "pareto_shape": 1.3,
    "packet_size": 1000,
}


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.0 + 1e-9, 1.3, 2.0, 3.5])
def test_truncated_pareto_mean_is_the_integral(shape):
    low, high = 2.0, 200.0
    density = lambda x: shape * low**shape * x ** (-shape - 1) / (1 - (low / high) ** shape)  # noqa: E731
    expected = integrate.quad(lambda x: x * density(x), low, high, epsabs=0, epsrel=1e-12)[0]
    assert truncated_pareto_mean(low, high, shape) == pytest.approx(expected, rel=1e-9)
    assert truncated_pareto_mean(5.0, 5.0, shape) == 5.0


def test_ppbp_long_run_rate_is_burst_arrivals_times_the_mean_burst():
    t = Traffic.model_validate(PPBP)
    bits = 8.0 * truncated_pareto_mean(2000.0, 200_000.0, 1.3)
    assert t.mean_rate == pytest.approx(50 * bits, rel=1e-12)
    duration = 2000.0  # 100,000 bursts
    times, sizes = trace(PPBP, duration=duration)
    sent = 8.0 * sizes.sum() / duration
    # Bits sent are a compound Poisson sum of burst sizes: relative error sqrt(E[B²]/(λT)) / E[B].
    second = integrate.quad(
        lambda x: x * x * 1.3 * 2000.0**1.3 * x**-2.3 / (1 - 0.01**1.3), 2000.0, 200_000.0, epsrel=1e-10
    )[0]
    sd = math.sqrt(64.0 * second / (50 * duration)) / bits
    assert abs(sent / t.mean_rate - 1.0) < Z * sd
    assert abs(len(times) / duration / t.packet_rate - 1.0) < Z * sd + 1e-3
    # Overlapping bursts add their rates: some packets follow each other faster than one burst sends them.
    gaps = np.diff(times)
    assert gaps.min() < 0.6 * G


def test_ppbp_bursts_beyond_the_room_are_sent_after_the_last_active_burst():
    """With room for one active burst, bursts queue up: no two send at once, and no bit is lost."""
    duration = 400.0
    times, sizes = trace(PPBP, duration=duration, burst_room=1)
    gaps = np.diff(times)
    assert gaps.min() >= G * (1 - 1e-9)
    t = Traffic.model_validate(PPBP)
    assert 8.0 * sizes.sum() / duration == pytest.approx(t.mean_rate, rel=0.1)


def test_ppbp_room_covers_the_active_bursts():
    from nettwin.sim.builtin import burst_room

    t = Traffic.model_validate(PPBP)
    mean_active = t.mean_rate / t.rate  # M/G/∞: Poisson number of active bursts
    room = burst_room(t)
    assert mean_active + 4 * math.sqrt(mean_active) < room < mean_active + 12 * math.sqrt(mean_active) + 10
    crowded = {**PPBP, "rate": "1bps"}
    with pytest.raises(EngineError, match=r"flow 0: ppbp traffic keeps about .* bursts active at once"):
        BuiltinEngine().simulate(network(crowded))


# --- Queueing results on one link -----------------------------------------------------------------------------


def test_uniform_gaps_longer_than_the_service_never_wait():
    """D/D/1-like: gaps at least 0.5 ms, every packet served in 0.4 ms: no packet ever waits."""
    traffic = {"model": "uniform", "spread": 0.5, "rate": "8Mbps", "packet_size": 1000}
    result = BuiltinEngine().simulate(network(traffic, duration=20.0, warmup=1.0, capacity="20Mbps"))
    service = 8000 / 20e6
    assert result.flows["rx_packets"][0] > 15_000 and result.flows["dropped"][0] == 0
    assert result.kpi("delay")[0] == pytest.approx(service, rel=1e-9)
    assert result.kpi("delay_p99")[0] == pytest.approx(service, rel=0.02)  # histogram bin width
    assert result.links["mean_queue"][0] == 0.0
    assert result.links["utilisation"][0] == pytest.approx(0.4, rel=0.01)


@pytest.mark.parametrize(
    "size",
    [
        {"dist": "uniform", "min": 50, "max": 200},
        {"dist": "discrete", "sizes": [40, 125, 400], "probs": [0.5, 0.3, 0.2]},
    ],
)
def test_poisson_arrivals_match_pollaczek_khinchine(size):
    """M/G/1 at ρ = 0.5: mean sojourn E[S] + λE[S²]/(2(1 − ρ)), S the transmission time (1 Mbit/s)."""
    ps = Traffic.model_validate({"model": "poisson", "rate": "1Mbps", "packet_size": size}).packet_size
    capacity, rho = 1e6, 0.5
    lam = rho * capacity / (8 * ps.mean_bytes)
    mean_s, second_s = 8 * ps.mean_bytes / capacity, 64 * ps.second_moment / capacity**2
    expected = mean_s + lam * second_s / (2 * (1 - rho))
    duration = 300_000 / lam
    traffic = {"model": "poisson", "rate": rho * capacity, "packet_size": size}
    result = BuiltinEngine().simulate(network(traffic, duration=duration, warmup=0.02 * duration, capacity=capacity))
    # Over seeds 1-6 the error stayed below 0.7 %.
    assert result.kpi("delay")[0] == pytest.approx(expected, rel=0.03)
    assert result.links["utilisation"][0] == pytest.approx(rho, rel=0.02)


# --- Reproducibility and the ns-3 engine -------------------------------------------------------------------


def every_law() -> dict:
    return {
        "topology": {
            "nodes": ["a", "b", "c"],
            "links": [
                {"src": "a", "dst": "b", "capacity": "4Mbps", "buffer": 20},
                {"src": "b", "dst": "c", "capacity": "3Mbps", "buffer": 10},
            ],
        },
        "flows": [
            {"src": "a", "dst": "c", "traffic": {"model": "uniform", "rate": "500kbps", "spread": 0.5}},
            {"src": "a", "dst": "c", "traffic": {"model": "normal", "rate": "400kbps", "gap_std": "5ms"}},
            {"src": "a", "dst": "b", "traffic": {**PPBP, "rate": "2Mbps", "burst_arrivals": 2}},
            {
                "src": "b",
                "dst": "c",
                "traffic": {
                    "model": "poisson",
                    "rate": "600kbps",
                    "packet_size": {"dist": "uniform", "min": 64, "max": 1500},
                },
            },
            {
                "src": "a",
                "dst": "c",
                "traffic": {
                    "model": "cbr",
                    "rate": "300kbps",
                    "packet_size": {"dist": "discrete", "sizes": [64, 1500], "probs": [0.6, 0.4]},
                },
            },
        ],
        "simulation": {"duration": "10s", "warmup": "1s", "seed": 11},
    }


def test_same_seed_same_kpis_other_run_other_kpis():
    net = build_network(parse_scenario(every_law()))
    a, b = BuiltinEngine().simulate(net), BuiltinEngine().simulate(net)
    for name in ("delay", "jitter", "throughput", "drops", "delay_p99"):
        assert np.array_equal(a.kpi(name), b.kpi(name), equal_nan=True)
    assert np.array_equal(a.links["utilisation"], b.links["utilisation"])
    other = BuiltinEngine().simulate(net, run=1)
    assert not np.array_equal(a.kpi("delay"), other.kpi("delay"))
    assert np.all(a.flows["rx_packets"] > 0)


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        (0, r"flow 0 \(a→c\): the ns-3 engine cannot generate uniform traffic \(it generates cbr, poisson, onoff\)"),
        (2, r"flow 0 \(a→b\): the ns-3 engine cannot generate ppbp traffic"),
        (3, r"flow 0 \(b→c\): the ns-3 engine cannot draw uniform packet sizes .*--engine builtin"),
        (4, r"flow 0 \(a→c\): the ns-3 engine cannot draw discrete packet sizes"),
    ],
)
def test_the_ns3_engine_refuses_what_its_sources_cannot_generate(flow, message):
    spec = every_law()
    spec["flows"] = [spec["flows"][flow]]
    with pytest.raises(EngineError, match=message):
        make_job(build_network(parse_scenario(spec)), 1, 0, Ns3Options())
