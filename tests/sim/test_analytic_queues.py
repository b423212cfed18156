"""The built-in engine against queueing theory on a single link (delay 0): M/M/1, M/D/1 and M/M/1/K.

The link serves 1 Mbit/s and packets average 125 bytes (1000 bits), so the service rate is μ = 1000 packets/s
and a Poisson flow of rate ρ·1 Mbit/s offers λ = ρ·μ. Seeds are fixed; the tolerances are several standard
errors wide (over seeds 1–8 the errors stayed below 1.5 %).
"""

from __future__ import annotations

import pytest

from nettwin.sim.builtin import BuiltinEngine

MU = 1000.0  # packets per second
CAPACITY = 1e6  # bit/s
SIZE = 125.0  # bytes


def run_queue(single_link_factory, rho: float, packets: float, *, sizes="exponential", buffer=10**6, queue=None):
    duration = packets / (rho * MU)
    warmup = 0.02 * duration
    network = single_link_factory(
        {"model": "poisson", "rate": rho * CAPACITY, "packet_size": {"dist": sizes, "mean": SIZE}},
        capacity=CAPACITY,
        buffer=buffer if queue is None else None,
        queue=queue,
        duration=duration,
        warmup=warmup,
        seed=7,
    )
    return BuiltinEngine().simulate(network)


def rel(value: float, expected: float) -> float:
    return abs(value / expected - 1.0)


@pytest.mark.parametrize(("rho", "packets"), [(0.5, 1e6), (0.8, 2e6)])
def test_mm1_sojourn_utilisation_and_queue(single_link_factory, rho, packets):
    result = run_queue(single_link_factory, rho, packets)
    lam = rho * MU
    assert result.flows["rx_packets"][0] >= 0.95 * packets
    assert result.flows["dropped"][0] == 0
    assert rel(result.kpi("delay")[0], 1.0 / (MU - lam)) < 0.03
    # The sojourn time of M/M/1 is exponential: its standard deviation equals its mean.
    assert rel(result.kpi("delay_std")[0], 1.0 / (MU - lam)) < 0.05
    assert rel(result.links["utilisation"][0], rho) < 0.02
    assert rel(result.links["mean_queue"][0], rho**2 / (1.0 - rho)) < 0.05


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_md1_pollaczek_khinchine(single_link_factory, rho):
    result = run_queue(single_link_factory, rho, 1e6, sizes="fixed")
    expected = 1.0 / MU + rho / (2.0 * MU * (1.0 - rho))
    assert rel(result.kpi("delay")[0], expected) < 0.03
    assert rel(result.links["mean_queue"][0], rho**2 / (2.0 * (1.0 - rho))) < 0.05


def test_mm1k_loss(single_link_factory):
    rho, buffer = 0.9, 5
    k = buffer + 1  # places in the system: the buffer plus the packet being sent
    result = run_queue(single_link_factory, rho, 1e6, buffer=buffer)
    expected = (1.0 - rho) * rho**k / (1.0 - rho ** (k + 1))
    assert rel(result.kpi("drop_rate")[0], expected) < 0.05
    # Accepted load only: λ(1 − loss)/μ.
    assert rel(result.links["utilisation"][0], rho * (1.0 - expected)) < 0.02
    assert result.links["drops"][0] == result.flows["dropped"][0]


def test_mm1k_loss_with_the_queue_counting_the_packet_in_service(single_link_factory):
    """``queue: K`` is the K of M/M/1/K: the same link as ``buffer: K - 1``, packet for packet."""
    rho, k = 0.9, 6
    by_queue = run_queue(single_link_factory, rho, 2e5, queue=k)
    by_buffer = run_queue(single_link_factory, rho, 2e5, buffer=k - 1)
    assert by_queue.flows["dropped"][0] == by_buffer.flows["dropped"][0] > 0
    expected = (1.0 - rho) * rho**k / (1.0 - rho ** (k + 1))
    assert rel(by_queue.kpi("drop_rate")[0], expected) < 0.05


def test_analytic_check_can_fail(single_link_factory):
    """A buffer of 0 (M/M/1/1) must lose far more than the M/M/1/6 formula allows."""
    rho = 0.9
    result = run_queue(single_link_factory, rho, 1e5, buffer=0)
    assert rel(result.kpi("drop_rate")[0], rho / (1.0 + rho)) < 0.03
    assert result.kpi("drop_rate")[0] > 3 * (1.0 - rho) * rho**6 / (1.0 - rho**7)
