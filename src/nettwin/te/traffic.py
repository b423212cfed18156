"""Demand matrices: measured (SNDlib), gravity, bimodal, and temporal sequences built on them.

All generators return dense ``(N, N)`` matrices (``(T, N, N)`` for sequences) of non-negative demands with a zero
diagonal, in arbitrary units; :func:`scale_to_mlu` later turns them into bit/s for a given graph.

* :func:`sndlib_demands` — the demand matrix shipped with an SNDlib topology in topohub.
* :func:`gravity` — ``d_ij ∝ m_i m_j`` with node masses ``m`` drawn log-normally (or given).
* :func:`bimodal` — every pair is an elephant with probability ``p_large`` (mean 10× a mouse's), each demand
  drawn from a normal around its class mean, truncated at 0.
* :func:`temporal` — a sequence around a base matrix: a diurnal sinusoid per source node (period ``period``
  steps, amplitude ``amplitude``, a random phase per node within ``±phase_spread`` of the period), log-normal
  noise per entry (σ = ``noise``) and bursts (with probability ``burst_rate`` per step a random source node's
  demands are multiplied by ``burst_scale`` for ``burst_len`` steps).

Train/test splits are by time: :func:`split_by_time` keeps the first part for training and the rest for testing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from nettwin._validation import COUNT, plain_int
from nettwin.errors import TEError

__all__ = [
    "sndlib_demands",
    "gravity",
    "bimodal",
    "temporal",
    "split_by_time",
    "check_steps",
    "TRAFFIC_MODELS",
    "MAX_SEQUENCE_BYTES",
]

TRAFFIC_MODELS = ("sndlib", "gravity", "bimodal")
"""Base matrices the instance builders accept."""

MAX_SEQUENCE_BYTES = 2**30
"""Largest demand sequence (``steps × N × N`` float64) built in memory, 1 GiB: about 277,000 steps of GÉANT's 22
nodes or 134 steps of a 1,000-node topology. Drawing its noise takes about three times as much at the peak, and the
instances built from it hold their demands as well, so the limit keeps a sequence within a few GiB."""


def check_steps(steps: object, n: int) -> int:
    """``steps`` as an int after checking that ``steps`` demand matrices of ``n × n`` fit in
    :data:`MAX_SEQUENCE_BYTES`.

    Raises
    ------
    TEError
        If ``steps`` is not a whole number ≥ 1, or the sequence would not fit, saying how much it would take.

    Examples
    --------
    >>> check_steps(96, 22)
    96
    """
    value = plain_int(steps)
    if not COUNT.ok(value):
        raise TEError(f"steps must be a whole number ≥ 1, got {steps!r}")
    need = value * n * n * 8
    if need > MAX_SEQUENCE_BYTES:
        most = max(1, MAX_SEQUENCE_BYTES // (n * n * 8))
        raise TEError(
            f"steps: {steps} time steps of {n}×{n} demand matrices need {need / 2**30:,.1f} GiB, more than the "
            f"{MAX_SEQUENCE_BYTES / 2**30:g} GiB nettwin builds; use at most {most:,} steps on this topology"
        )
    return value


T = TypeVar("T")


def sndlib_demands(key: str) -> np.ndarray:
    """The ``(N, N)`` demand matrix topohub ships with ``key`` (node order as in :func:`~nettwin.te.graph.te_graph`).

    Raises
    ------
    TEError
        If the topology has no demands (only SNDlib ones do).

    Examples
    --------
    >>> d = sndlib_demands("sndlib/abilene")
    >>> d.shape, bool(d[0, 0] == 0), int((d > 0).sum())
    ((12, 12), True, 132)
    """
    import topohub

    try:
        doc = topohub.get(key)
    except KeyError as err:
        raise TEError(f"unknown topohub topology {key!r}") from err
    demands = (doc.get("graph") or {}).get("demands") or {}
    if not demands:
        raise TEError(f"topology {key!r} ships no demand matrix; use traffic 'gravity' or 'bimodal'")
    index = {str(n["id"]): i for i, n in enumerate(doc["nodes"])}
    n = len(index)
    out = np.zeros((n, n))
    for s, row in demands.items():
        for t, value in row.items():
            if s != t:
                out[index[str(s)], index[str(t)]] += float(value)
    return out


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def gravity(
    n: int, seed: int | np.random.Generator | None = None, masses: np.ndarray | None = None, sigma: float = 1.0
) -> np.ndarray:
    """Gravity-model matrix ``d_ij = m_i m_j`` (``i ≠ j``), normalised to sum 1.

    ``masses`` default to log-normal draws with shape ``sigma``.

    Examples
    --------
    >>> d = gravity(4, seed=0)
    >>> d.shape, round(float(d.sum()), 9), float(d.trace())
    ((4, 4), 1.0, 0.0)
    """
    if n < 2:
        raise TEError(f"a demand matrix needs at least 2 nodes, got {n}")
    m = _rng(seed).lognormal(0.0, sigma, n) if masses is None else np.asarray(masses, np.float64)
    if m.shape != (n,) or np.any(m < 0):
        raise TEError(f"gravity masses must be {n} numbers ≥ 0")
    d = np.outer(m, m)
    np.fill_diagonal(d, 0.0)
    total = d.sum()
    return d / total if total > 0 else d


def bimodal(
    n: int, seed: int | np.random.Generator | None = None, p_large: float = 0.2, ratio: float = 10.0, cv: float = 0.25
) -> np.ndarray:
    """Bimodal matrix: elephants (probability ``p_large``, mean ``ratio``) and mice (mean 1), spread ``cv``.

    Examples
    --------
    >>> d = bimodal(5, seed=1)
    >>> d.shape, bool((d >= 0).all()), float(d.trace())
    ((5, 5), True, 0.0)
    """
    if not 0 <= p_large <= 1:
        raise TEError(f"p_large must be in [0, 1], got {p_large!r}")
    rng = _rng(seed)
    mean = np.where(rng.random((n, n)) < p_large, ratio, 1.0)
    d = np.clip(rng.normal(mean, cv * mean), 0.0, None)
    np.fill_diagonal(d, 0.0)
    return d / d.sum()


def temporal(
    base: np.ndarray,
    steps: int,
    seed: int | np.random.Generator | None = None,
    period: int = 96,
    amplitude: float = 0.5,
    phase_spread: float = 0.1,
    noise: float = 0.15,
    burst_rate: float = 0.05,
    burst_scale: float = 3.0,
    burst_len: int = 4,
) -> np.ndarray:
    """A ``(steps, N, N)`` sequence around ``base``: diurnal cycle × log-normal noise × bursts.

    With the default ``period = 96`` a step is 15 minutes and a sequence of 96 steps is one day.

    Examples
    --------
    >>> seq = temporal(gravity(5, seed=0), steps=10, seed=0)
    >>> seq.shape, bool((seq >= 0).all())
    ((10, 5, 5), True)
    """
    base = np.asarray(base, dtype=np.float64)
    if base.ndim != 2 or base.shape[0] != base.shape[1] or np.any(base < 0):
        raise TEError(f"the base matrix must be square and ≥ 0, got shape {base.shape}")
    steps = check_steps(steps, base.shape[0])
    if not 0 <= amplitude < 1:
        raise TEError(f"amplitude must be in [0, 1), got {amplitude!r}")
    rng = _rng(seed)
    n = base.shape[0]
    t = np.arange(steps)[:, None]
    phase = rng.uniform(-phase_spread, phase_spread, n)[None, :] * 2 * np.pi
    diurnal = 1.0 + amplitude * np.sin(2 * np.pi * t / period + phase)  # (T, N) per source
    seq = base[None] * diurnal[:, :, None]
    seq *= rng.lognormal(-0.5 * noise**2, noise, seq.shape)
    burst = np.ones((steps, n))
    for s in np.nonzero(rng.random(steps) < burst_rate)[0]:
        burst[s : s + burst_len, rng.integers(n)] *= burst_scale
    seq *= burst[:, :, None]
    seq[:, np.arange(n), np.arange(n)] = 0.0
    return seq


def split_by_time(items: Sequence[T], train_fraction: float = 0.75) -> tuple[list[T], list[T]]:
    """The first ``train_fraction`` of a time-ordered sequence for training, the rest for testing.

    Examples
    --------
    >>> split_by_time(list(range(8)), 0.75)
    ([0, 1, 2, 3, 4, 5], [6, 7])
    """
    if not 0 < train_fraction < 1:
        raise TEError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    cut = int(round(len(items) * train_fraction))
    return list(items[:cut]), list(items[cut:])
