"""M/M/1/b closed forms: textbook values, limits, invariants and numerical stability."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from nettwin.sim.analytic import (
    mm1b_blocking,
    mm1b_mean_system,
    mm1b_mean_waiting,
    mm1b_sojourn_mean,
    mm1b_sojourn_var,
    mm1b_state_probs,
    mm1b_utilisation,
)

RHOS = np.array([0.0, 1e-6, 0.05, 0.5, 0.9, 0.999, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1.001, 1.3, 4.0, 1e3])
BUFFERS = np.array([0, 1, 2, 5, 31, 300])


def _exact(rho: Fraction, buffer: int) -> dict[str, float]:
    """All quantities by summing the truncated geometric law in exact rational arithmetic."""
    k = buffer + 1
    w = [rho**n for n in range(k + 1)]
    z = sum(w)
    p = [x / z for x in w]
    accepted = [p[n] / (1 - p[k]) for n in range(k)]
    found = sum(n * a for n, a in enumerate(accepted))
    found_sq = sum(n * n * a for n, a in enumerate(accepted))
    return {
        "blocking": float(p[k]),
        "system": float(sum(n * x for n, x in enumerate(p))),
        "waiting": float(sum((n - 1) * p[n] for n in range(1, k + 1))),
        "sojourn": float(1 + found),
        "var": float(1 + found + found_sq - found**2),
        "busy": float(1 - p[0]),
    }


@pytest.mark.parametrize("rho", ["1/1000", "1/2", "9/10", "999999/1000000", "1", "1000001/1000000", "3/2", "7"])
@pytest.mark.parametrize("buffer", [0, 1, 5, 40])
def test_matches_exact_summation(rho, buffer):
    r = Fraction(rho)
    exact = _exact(r, buffer)
    lam, mu = float(r), 1.0
    got = {
        "blocking": mm1b_blocking(lam, mu, buffer),
        "system": mm1b_mean_system(lam, mu, buffer),
        "waiting": mm1b_mean_waiting(lam, mu, buffer),
        "sojourn": mm1b_sojourn_mean(lam, mu, buffer),
        "var": mm1b_sojourn_var(lam, mu, buffer),
        "busy": mm1b_utilisation(lam, mu, buffer),
    }
    for key, value in exact.items():
        assert float(got[key]) == pytest.approx(value, rel=1e-11, abs=1e-300), key


def test_textbook_blocking_rho_09_k6():
    rho, k = 0.9, 6
    expected = (1 - rho) * rho**k / (1 - rho ** (k + 1))
    assert float(mm1b_blocking(0.9, 1.0, k - 1)) == pytest.approx(expected, rel=1e-13)
    assert float(mm1b_blocking(90.0, 100.0, k - 1)) == pytest.approx(expected, rel=1e-13)  # only rho matters


@pytest.mark.parametrize("buffer", [0, 1, 5, 1000])
def test_rho_one_limits(buffer):
    k = buffer + 1
    assert float(mm1b_blocking(2.0, 2.0, buffer)) == pytest.approx(1 / (k + 1), rel=1e-14)
    assert float(mm1b_mean_system(2.0, 2.0, buffer)) == pytest.approx(k / 2, rel=1e-14)
    # Continuous across rho = 1, where the textbook formulas are 0/0.
    near = np.array([1 - 1e-13, 1 + 1e-13])
    np.testing.assert_allclose(mm1b_blocking(near, 1.0, buffer), 1 / (k + 1), rtol=1e-9)
    np.testing.assert_allclose(mm1b_sojourn_var(near, 1.0, buffer), mm1b_sojourn_var(1.0, 1.0, buffer), rtol=1e-9)


def test_large_buffer_tends_to_mm1():
    lam, mu = np.array([1.0, 5.0, 9.0, 9.9]), 10.0
    buffer = 10_000
    np.testing.assert_allclose(mm1b_blocking(lam, mu, buffer), 0.0, atol=1e-40)
    np.testing.assert_allclose(mm1b_sojourn_mean(lam, mu, buffer), 1 / (mu - lam), rtol=1e-12)
    np.testing.assert_allclose(mm1b_sojourn_var(lam, mu, buffer), 1 / (mu - lam) ** 2, rtol=1e-12)
    rho = lam / mu
    np.testing.assert_allclose(mm1b_mean_system(lam, mu, buffer), rho / (1 - rho), rtol=1e-12)
    np.testing.assert_allclose(mm1b_mean_waiting(lam, mu, buffer), rho**2 / (1 - rho), rtol=1e-12)


def test_overload_tends_to_fluid_limit():
    # rho > 1 with a huge buffer: P -> 1 - 1/rho and the queue is almost full.
    buffer = 10**6
    assert float(mm1b_blocking(1.5, 1.0, buffer)) == pytest.approx(1 / 3, rel=1e-14)
    assert float(mm1b_utilisation(1.5, 1.0, buffer)) == pytest.approx(1.0, rel=1e-14)
    assert float(mm1b_mean_system(1.5, 1.0, buffer)) == pytest.approx(buffer + 1 - 2.0, rel=1e-14)


def test_littles_law_and_invariants():
    lam, buf = np.meshgrid(RHOS * 3.0, BUFFERS, indexing="ij")
    mu = 3.0
    p = mm1b_blocking(lam, mu, buf)
    big_l = mm1b_mean_system(lam, mu, buf)
    lq = mm1b_mean_waiting(lam, mu, buf)
    w = mm1b_sojourn_mean(lam, mu, buf)
    var = mm1b_sojourn_var(lam, mu, buf)
    busy = mm1b_utilisation(lam, mu, buf)
    for a in (p, big_l, lq, w, var, busy):
        assert a.shape == lam.shape
        assert np.all(np.isfinite(a))
    np.testing.assert_allclose(big_l, lam * (1 - p) * w, rtol=1e-10, atol=1e-300)  # Little, accepted packets
    np.testing.assert_allclose(lq, big_l - busy, rtol=1e-8, atol=1e-12)  # L = Lq + P(busy)
    np.testing.assert_allclose(busy, lam / mu * (1 - p), rtol=1e-12)  # flow balance
    assert np.all((p >= 0) & (p <= 1)) and np.all(busy <= 1)
    assert np.all(var > 0) and np.all(lq >= 0) and np.all(big_l <= buf + 1)
    # Sojourn of an accepted packet lies between one and K = b + 1 services.
    assert np.all(w >= 1 / mu * (1 - 1e-12)) and np.all(w <= (buf + 1) / mu * (1 + 1e-12))
    # Blocking grows with the load and falls with the buffer.
    assert np.all(np.diff(p, axis=0) >= -1e-15) and np.all(np.diff(p, axis=1) <= 1e-15)


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0, 2.5])
def test_state_distribution(rho):
    buffer = 7
    n = np.arange(-1, buffer + 4)
    pi = mm1b_state_probs(rho, 1.0, buffer, n)
    assert pi[0] == 0 and np.all(pi[-2:] == 0)  # outside 0..K
    assert pi.sum() == pytest.approx(1.0, rel=1e-14)
    assert float(mm1b_blocking(rho, 1.0, buffer)) == pytest.approx(pi[n == buffer + 1][0], rel=1e-14)
    assert float(mm1b_mean_system(rho, 1.0, buffer)) == pytest.approx(float(n @ pi), rel=1e-12, abs=1e-300)
    # Whole distributions for several queues at once, by broadcasting.
    many = mm1b_state_probs(np.array([[0.5], [1.0], [4.0]]), 1.0, buffer, np.arange(buffer + 2))
    np.testing.assert_allclose(many.sum(axis=1), 1.0, rtol=1e-14)


def test_no_overflow_at_huge_buffer_and_load():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow or 0/0 left unhandled
        for f in (
            mm1b_blocking,
            mm1b_mean_system,
            mm1b_mean_waiting,
            mm1b_sojourn_mean,
            mm1b_sojourn_var,
            mm1b_utilisation,
        ):
            values = f(np.array([0.0, 0.5, 1.0, 1.5, 1e6]), 1.0, 10**6)
            assert np.all(np.isfinite(values)), f.__name__
        pi = mm1b_state_probs(1.5, 1.0, 10**6, np.arange(10**6 + 2))
    assert pi.sum() == pytest.approx(1.0, rel=1e-12)


def test_scalar_in_scalar_out_and_broadcast():
    assert mm1b_blocking(0.5, 1.0, 3).shape == ()
    out = mm1b_sojourn_mean(np.array([0.1, 0.2]), np.array([[1.0], [2.0]]), 4)
    assert out.shape == (2, 2)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1.0, 1.0, 3), r"lam \(arrival rate\) must be finite and >= 0, got -1.0"),
        ((np.nan, 1.0, 3), r"lam .* got nan"),
        ((1.0, 0.0, 3), r"mu \(service rate\) must be finite and > 0, got 0.0"),
        ((1.0, 1.0, 2.5), r"buffer must be an integer >= 0 .*got 2.5"),
        ((1.0, 1.0, [3, -1]), r"buffer must be .*got -1.0"),
    ],
)
def test_bad_inputs_are_named(args, match):
    with pytest.raises(ValueError, match=match):
        mm1b_blocking(*args)
