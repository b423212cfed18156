r"""Closed forms of the M/M/1/b queue, vectorised and numerically stable.

A link is a single exponential server of rate :math:`\mu` fed by Poisson arrivals of rate :math:`\lambda`,
with room for ``buffer`` = :math:`b` packets waiting besides the one in service, so the system holds at most
:math:`K = b + 1`. With :math:`\rho = \lambda/\mu` the number in system :math:`N` has the truncated geometric
distribution

.. math::  \pi_n = \frac{(1-\rho)\,\rho^n}{1-\rho^{K+1}}, \qquad n = 0, \dots, K

(:math:`\pi_n = 1/(K+1)` at :math:`\rho = 1`). Every quantity below is a moment of a truncated geometric law,
evaluated without forming :math:`\rho^K`:

* with :math:`x = |\ln\rho|` the law for :math:`\rho > 1` is the mirror image (:math:`n \mapsto K - n`) of the
  law for :math:`1/\rho`, so only ratios :math:`e^{-x} \le 1` are ever raised to powers;
* the mean and variance of the truncated geometric on :math:`0..M` are

  .. math::  m_M(x) = \frac{1}{e^x - 1} - \frac{M+1}{e^{(M+1)x} - 1}, \qquad
             v_M(x) = \frac{1}{4\sinh^2(x/2)} - \frac{(M+1)^2}{4\sinh^2((M+1)x/2)},

  whose two terms cancel as :math:`x \to 0`; below :math:`x = 1` they are rewritten with the smooth functions
  :math:`f(y) = 1/(e^y-1) - 1/y` and :math:`g(y) = 1/(4\sinh^2(y/2)) - 1/y^2` (Bernoulli series near 0), in
  which the singular parts cancel exactly: :math:`m_M = f(x) - (M+1) f((M+1)x)` and
  :math:`v_M = g(x) - (M+1)^2 g((M+1)x)`. At :math:`x = 0` they give the uniform law's :math:`M/2` and
  :math:`((M+1)^2-1)/12`.

By PASTA an arrival sees the stationary law; it is accepted when :math:`N < K`, and an accepted arrival finds
:math:`N = n` with probability :math:`\pi_n / (1 - \pi_K)`, a truncated geometric on :math:`0..K-1`. Its
sojourn is then Erlang(:math:`n+1`, :math:`\mu`) by memorylessness of the service.

Every function takes ``lam`` (arrivals per second, ``>= 0``), ``mu`` (services per second, ``> 0``) and
``buffer`` (integer ``>= 0``), broadcast against each other as numpy arrays, and returns a float array of the
broadcast shape (a 0-d array for scalar inputs).

References
----------
L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley, 1975, §3.6 (M/M/1/K).
K. Rusek et al., "RouteNet: Leveraging Graph Neural Networks for network modeling and optimization in SDN",
IEEE JSAC 38(10), 2020 (the M/M/1/b baseline).

Examples
--------
>>> round(float(mm1b_blocking(0.9, 1.0, 5)), 6)    # K = 6
0.101867
>>> float(mm1b_blocking(1.0, 1.0, 5)) == 1 / 7
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "mm1b_blocking",
    "mm1b_utilisation",
    "mm1b_mean_system",
    "mm1b_mean_waiting",
    "mm1b_sojourn_mean",
    "mm1b_sojourn_var",
    "mm1b_state_probs",
    "SERIES_C",
    "SERIES_DC",
    "SERIES_BELOW",
]

# Bernoulli numbers B_2, B_4, ..., B_20 over (2k)!: f(y) = -1/2 + sum_k C_k y^(2k-1) for |y| < 2 pi.
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)
_FACT = np.cumprod(np.arange(1, 21, dtype=float))
SERIES_C = np.array([b / _FACT[2 * k + 1] for k, b in enumerate(_B2K)])  # C_k = B_2k / (2k)!
SERIES_DC = np.array([-(2 * k + 1) * c for k, c in enumerate(SERIES_C)])  # g(y) = -f'(y) = sum_k DC_k y^(2k-2)
SERIES_BELOW = 1.0  # the first dropped term is below 1e-16 there; the direct forms lose < 1e-14 above


def _poly(coef: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.zeros_like(z)
    for c in coef[::-1]:
        out = out * z + c
    return out


def _f(y: np.ndarray) -> np.ndarray:
    """f(y) = 1/(e^y - 1) - 1/y, smooth at 0 (f(0) = -1/2); y >= 0."""
    small = y < SERIES_BELOW
    ys = np.where(small, y, 0.0)
    yl = np.where(small, 1.0, y)
    series = -0.5 + ys * _poly(SERIES_C, ys * ys)
    direct = np.exp(-yl) / -np.expm1(-yl) - 1.0 / yl
    return np.where(small, series, direct)


def _g(y: np.ndarray) -> np.ndarray:
    """g(y) = 1/(4 sinh^2(y/2)) - 1/y^2, smooth at 0 (g(0) = -1/12); y >= 0."""
    small = y < SERIES_BELOW
    ys = np.where(small, y, 0.0)
    yl = np.where(small, 1.0, y)
    series = _poly(SERIES_DC, ys * ys)
    direct = np.exp(-yl) / np.expm1(-yl) ** 2 - 1.0 / (yl * yl)
    return np.where(small, series, direct)


def _trunc_geom_moments(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of P(n) ∝ e^{-n x} on n = 0..m, for x in [0, inf] and integer m >= 0."""
    m1 = m + 1.0
    y = x * m1
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        near = x < SERIES_BELOW
        xn = np.where(near, x, 0.0)
        yn = np.where(near, y, 0.0)
        mean_near = _f(xn) - m1 * _f(yn)
        var_near = _g(xn) - m1 * m1 * _g(yn)
        # Away from rho = 1 the direct forms are safe (e^{-x} <= e^{-1}); x = inf (rho = 0) gives 0 and 0.
        xf = np.where(near, 1.0, x)
        yf = np.where(near, 1.0, y)
        ex, ey = np.exp(-xf), np.exp(-yf)
        mean_far = ex / -np.expm1(-xf) - m1 * ey / -np.expm1(-yf)
        var_far = ex / np.expm1(-xf) ** 2 - m1 * m1 * ey / np.expm1(-yf) ** 2
    mean = np.where(near, mean_near, mean_far)
    var = np.where(near, var_near, var_far)
    return np.clip(mean, 0.0, m), np.maximum(var, 0.0)


def _prepare(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> tuple[np.ndarray, ...]:
    """Broadcast and check inputs; return (rho, x = |ln rho|, up = rho > 1, K, mu) as float arrays."""
    lam_a = np.asarray(lam, dtype=float)
    mu_a = np.asarray(mu, dtype=float)
    buf_a = np.asarray(buffer)
    if np.any(~np.isfinite(lam_a)) or np.any(lam_a < 0):
        raise ValueError(f"mm1b: lam (arrival rate) must be finite and >= 0, got {_first_bad(lam_a, lam_a >= 0)}")
    if np.any(~np.isfinite(mu_a)) or np.any(mu_a <= 0):
        raise ValueError(f"mm1b: mu (service rate) must be finite and > 0, got {_first_bad(mu_a, mu_a > 0)}")
    buf_f = buf_a.astype(float)
    if np.any(~np.isfinite(buf_f)) or np.any(buf_f < 0) or np.any(buf_f != np.floor(buf_f)):
        ok = (buf_f >= 0) & (buf_f == np.floor(buf_f))
        raise ValueError(f"mm1b: buffer must be an integer >= 0 (packets waiting), got {_first_bad(buf_f, ok)}")
    lam_b, mu_b, buf_b = np.broadcast_arrays(lam_a, mu_a, buf_f)
    rho = lam_b / mu_b
    with np.errstate(divide="ignore"):
        log_rho = np.log(rho)
    return rho, np.abs(log_rho), log_rho > 0, buf_b + 1.0, mu_b


def _first_bad(values: np.ndarray, ok: np.ndarray) -> float:
    bad = ~(np.isfinite(values) & ok)
    return float(values[bad].flat[0]) if values.ndim else float(values)


def _end_mass(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """(1 - s)/(1 - s^{K+1}), s = e^{-x}: the mass at the likely end of the truncated geometric on 0..K."""
    with np.errstate(invalid="ignore", over="ignore"):
        ratio = np.expm1(-x) / np.expm1(-(k + 1.0) * x)
    return np.where(x == 0.0, 1.0 / (k + 1.0), ratio)


def mm1b_state_probs(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike, n: ArrayLike) -> np.ndarray:
    r"""Stationary probability :math:`\pi_n` that ``n`` packets are in the system (0 for ``n`` outside 0..K).

    .. math::  \pi_n = \frac{1-\rho}{1-\rho^{K+1}}\,\rho^n, \quad K = b + 1

    For a whole distribution pass ``n = np.arange(K + 1)`` (broadcast against the other arguments, e.g.
    ``lam[:, None]``); the values over ``0..K`` sum to 1.
    """
    _, x, up, k, _ = _prepare(lam, mu, buffer)
    n_a = np.asarray(n, dtype=float)
    x, up, k, n_a = np.broadcast_arrays(x, up, k, n_a)
    # Index counted from the end holding most mass: n for rho <= 1, K - n for rho > 1.
    j = np.where(up, k - n_a, n_a)
    with np.errstate(invalid="ignore", over="ignore"):
        p = _end_mass(x, k) * np.exp(-np.where(j == 0, 0.0, j * x))
    inside = (n_a >= 0) & (n_a <= k) & (n_a == np.floor(n_a))
    return np.where(inside, p, 0.0)


def mm1b_blocking(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Blocking (drop) probability :math:`P = \pi_K`, the chance that an arrival finds the system full.

    .. math::  P = \frac{(1-\rho)\rho^K}{1-\rho^{K+1}} \quad (\rho \ne 1), \qquad P = \frac{1}{K+1} \quad
    (\rho = 1)

    Examples
    --------
    >>> float(mm1b_blocking(1.5, 1.0, 10**6)) == 1 / 3   # overloaded: P -> 1 - 1/rho
    True
    """
    return mm1b_state_probs(lam, mu, buffer, np.asarray(buffer, dtype=float) + 1.0)


def _accept(x: np.ndarray, up: np.ndarray, k: np.ndarray) -> np.ndarray:
    """1 - P without cancellation: for rho > 1 it is s(1 - s^K)/(1 - s^{K+1}) with s = 1/rho."""
    with np.errstate(invalid="ignore", over="ignore"):
        low = 1.0 - _end_mass(x, k) * np.exp(-k * x)
        high = np.exp(-x) * np.expm1(-k * x) / np.expm1(-(k + 1.0) * x)
    return np.where(up, high, low)


def mm1b_utilisation(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Probability that the server is busy, :math:`1 - \pi_0 = \rho\,(1 - P)`: carried load over capacity."""
    rho, x, up, k, _ = _prepare(lam, mu, buffer)
    return np.minimum(rho * _accept(x, up, k), 1.0)  # the product can round just above 1 in overload


def mm1b_mean_system(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Mean number in system :math:`L = \sum_n n\,\pi_n`.

    .. math::  L = \frac{\rho}{1-\rho} - \frac{(K+1)\rho^{K+1}}{1-\rho^{K+1}} \quad (\rho \ne 1), \qquad
               L = K/2 \quad (\rho = 1)
    """
    _, x, up, k, _ = _prepare(lam, mu, buffer)
    mean, _ = _trunc_geom_moments(x, k)
    return np.where(up, k - mean, mean)


def _accepted_moments(x: np.ndarray, up: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the number an accepted arrival finds (truncated geometric on 0..K-1)."""
    mean, var = _trunc_geom_moments(x, k - 1.0)
    return np.where(up, k - 1.0 - mean, mean), var


def mm1b_mean_waiting(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Mean number waiting (excluding the packet in service), :math:`L_q = \sum_{n\ge1} (n-1)\,\pi_n`.

    Since :math:`\pi_{n+1} = \rho\,\pi_n`, :math:`L_q = \rho\,(1-P)\,E[N \mid \text{accepted}]`: the product
    of the utilisation and the mean number an accepted arrival finds, which avoids the cancellation in
    :math:`L - (1-\pi_0)`.
    """
    rho, x, up, k, _ = _prepare(lam, mu, buffer)
    found, _ = _accepted_moments(x, up, k)
    return rho * _accept(x, up, k) * found


def mm1b_sojourn_mean(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Mean sojourn (waiting + service) of accepted packets, in seconds.

    An accepted arrival finding :math:`n` packets leaves after an Erlang(:math:`n+1`, :math:`\mu`) time, so

    .. math::  W = \frac{1 + E[N \mid \text{accepted}]}{\mu} = \frac{L}{\lambda (1-P)} \quad\text{(Little)}.
    """
    _, x, up, k, mu_b = _prepare(lam, mu, buffer)
    found, _ = _accepted_moments(x, up, k)
    return (1.0 + found) / mu_b


def mm1b_sojourn_var(lam: ArrayLike, mu: ArrayLike, buffer: ArrayLike) -> np.ndarray:
    r"""Variance of the sojourn of accepted packets, in s².

    With :math:`N` the number an accepted arrival finds and :math:`S \mid N \sim` Erlang(:math:`N+1`,
    :math:`\mu`), the law of total variance gives

    .. math::  \operatorname{Var} S = \frac{E[N] + 1}{\mu^2} + \frac{\operatorname{Var} N}{\mu^2},

    which for :math:`K \to \infty`, :math:`\rho < 1` is :math:`1/(\mu-\lambda)^2`, the exponential sojourn of
    M/M/1.
    """
    _, x, up, k, mu_b = _prepare(lam, mu, buffer)
    found, var = _accepted_moments(x, up, k)
    return (1.0 + found + var) / (mu_b * mu_b)
