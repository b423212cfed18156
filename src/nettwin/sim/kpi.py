"""KPI definitions shared by every engine and baseline, computed from per-flow and per-link counters.

An engine counts; this module defines what the counts mean, so that two engines cannot disagree on a definition.

Per flow (packets *sent* during the measurement window ``[warmup, duration)``, after the network has drained):
- ``delay``: mean one-way delay of received packets (s); ``delay_std`` its standard deviation;
  ``delay_p50/p90/p99`` percentiles read from a log-binned histogram (relative resolution :data:`HIST_RATIO` − 1).
- ``jitter``: mean of ``|Dᵢ − Dᵢ₋₁|`` over consecutive received packets (ns-3 FlowMonitor's definition).
- ``throughput``: received bits (packets sized as in the scenario) divided by the window length (bit/s).
- ``tx_packets``, ``rx_packets``, ``dropped`` (= tx − rx), ``drop_rate`` (= dropped / tx).
Per link (over the window): ``utilisation`` (busy time / window), ``drops`` (packets), ``mean_queue`` (time-average
number of packets waiting, excluding the one being sent), ``tx_packets`` (packets that started transmission).

A flow split over several paths has the same KPIs; a model that takes each path as a flow of its own
(:meth:`~nettwin.scenario.network.Network.subflows`) turns its per-path figures into them with
:func:`aggregate_routes`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import erf, gammainc, gammaincinv, gammaln

__all__ = [
    "FLOW_KPIS",
    "DEFAULT_KPIS",
    "FLOW_COLUMNS",
    "LINK_COLUMNS",
    "HIST_MIN",
    "HIST_RATIO",
    "HIST_BINS",
    "FlowCounters",
    "HistogramRows",
    "LinkCounters",
    "flow_kpis",
    "link_stats",
    "histogram_percentile",
    "aggregate_routes",
    "gamma_mixture_quantile",
]

FLOW_KPIS: dict[str, str] = {
    "delay": "s",
    "jitter": "s",
    "throughput": "bit/s",
    "drops": "packets",
    "drop_rate": "",
    "delay_std": "s",
    "delay_p50": "s",
    "delay_p90": "s",
    "delay_p99": "s",
}
"""Per-flow KPIs (name → SI unit). ``drops`` is the same count as ``dropped``."""

DEFAULT_KPIS = ("delay", "jitter", "throughput", "drops")
"""The per-flow KPIs twins learn and reports compare when none are named."""

FLOW_COLUMNS = (*FLOW_KPIS, "tx_packets", "rx_packets", "dropped")
LINK_COLUMNS = ("utilisation", "drops", "mean_queue", "tx_packets")

HIST_MIN = 1e-7
HIST_RATIO = 1.01
HIST_BINS = int(np.ceil(np.log(1e4 / HIST_MIN) / np.log(HIST_RATIO))) + 1
"""Delay histogram: bin 0 holds delays below HIST_MIN; bin k ≥ 1 holds [HIST_MIN·r^(k−1), HIST_MIN·r^k)."""


@dataclass
class HistogramRows:
    """Delay histograms of F flows, each kept as one stretch of bins: flow f's counts of bins ``first[f]``,
    ``first[f] + 1``, ... are ``counts[ptr[f]:ptr[f + 1]]``, and every other bin holds 0."""

    counts: np.ndarray  # int64
    ptr: np.ndarray  # (F+1,) int64
    first: np.ndarray  # (F,) int64

    @classmethod
    def dense(cls, hist: np.ndarray) -> HistogramRows:
        """The rows of an (F, bins) histogram array, each stretch the whole row."""
        hist = np.atleast_2d(hist)
        n, bins = hist.shape
        return cls(counts=hist.ravel(), ptr=np.arange(n + 1, dtype=np.int64) * bins, first=np.zeros(n, np.int64))


@dataclass
class FlowCounters:
    """What an engine counts per flow over the measurement window; arrays of shape (F,) unless noted."""

    tx_packets: np.ndarray
    rx_packets: np.ndarray
    rx_bytes: np.ndarray
    delay_sum: np.ndarray
    delay_sq_sum: np.ndarray
    jitter_sum: np.ndarray
    delay_hist: np.ndarray | HistogramRows | None = None  # (F, HIST_BINS) counts or their stretches, optional


@dataclass
class LinkCounters:
    """What an engine counts per link over the measurement window; arrays of shape (L,)."""

    busy_time: np.ndarray
    wait_time: np.ndarray
    drops: np.ndarray
    tx_packets: np.ndarray


def histogram_percentile(hist: np.ndarray | HistogramRows, q: float) -> np.ndarray:
    """Percentile ``q`` (0–100) of each row of a delay histogram, interpolated geometrically within a bin: bin k of
    the first cumulative count that reaches ``q / 100 × total``, at fraction (target − count below k) / count of k."""
    rows = hist if isinstance(hist, HistogramRows) else HistogramRows.dense(hist)
    ptr = np.asarray(rows.ptr, np.int64)
    cum = np.concatenate([[0], np.cumsum(rows.counts, dtype=np.int64)])  # cum[j]: counts before position j
    base = cum[ptr[:-1]]
    total = cum[ptr[1:]] - base
    out = np.full(len(total), np.nan)
    f = np.nonzero(total > 0)[0]
    target = q / 100.0 * total[f]
    # Counts are integers, so a cumulative count reaches the target exactly when it reaches its ceiling.
    j = np.searchsorted(cum, base[f] + np.ceil(target).astype(np.int64), side="left")
    m = np.maximum(j - 1 - ptr[f], 0)  # position of bin k in its row's stretch
    k = np.where(target > 0, np.asarray(rows.first, np.int64)[f] + m, 0)
    count = np.asarray(rows.counts, np.int64)[ptr[f] + m]
    below = cum[ptr[f] + m] - base[f]
    frac = np.where(count > 0, (target - below) / np.maximum(count, 1), 0.0)
    exponent = (k - 1) + frac
    out[f] = [HIST_MIN if kk == 0 else HIST_MIN * HIST_RATIO**e for kk, e in zip(k, exponent, strict=True)]
    return out


def flow_kpis(c: FlowCounters, window: float) -> dict[str, np.ndarray]:
    """Per-flow KPI columns (see module docstring) from counters over a window of ``window`` seconds."""
    tx = c.tx_packets.astype(np.int64)
    rx = c.rx_packets.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(rx > 0, c.delay_sum / np.maximum(rx, 1), np.nan)
        var = np.where(rx > 1, (c.delay_sq_sum - rx * mean**2) / np.maximum(rx - 1, 1), np.nan)
        jitter = np.where(rx > 1, c.jitter_sum / np.maximum(rx - 1, 1), np.nan)
        drop_rate = np.where(tx > 0, (tx - rx) / np.maximum(tx, 1), 0.0)
    out = {
        "delay": mean,
        "jitter": jitter,
        "throughput": c.rx_bytes * 8.0 / window,
        "drops": (tx - rx).astype(float),
        "drop_rate": drop_rate,
        "delay_std": np.sqrt(np.maximum(var, 0.0)),
    }
    for q in (50, 90, 99):
        out[f"delay_p{q}"] = (
            histogram_percentile(c.delay_hist, q) if c.delay_hist is not None else np.full(len(tx), np.nan)
        )
    out["tx_packets"] = tx
    out["rx_packets"] = rx
    out["dropped"] = tx - rx
    return out


def link_stats(c: LinkCounters, window: float) -> dict[str, np.ndarray]:
    """Per-link columns (see module docstring) from counters over a window of ``window`` seconds."""
    return {
        "utilisation": c.busy_time / window,
        "drops": c.drops.astype(np.int64),
        "mean_queue": c.wait_time / window,
        "tx_packets": c.tx_packets.astype(np.int64),
    }


_PERCENTILES = {"delay_p50": 0.5, "delay_p90": 0.9, "delay_p99": 0.99}
_MEAN_KPIS = ("delay", *_PERCENTILES)
_SUMMED = ("throughput", "drops", "tx_packets", "rx_packets", "dropped")


def aggregate_routes(
    routes: Mapping[str, Any],
    route_flow: Any,
    route_share: Any,
    n_flows: int,
    received: Any | None = None,
) -> dict[str, Any]:
    r"""Per-flow KPIs of flows split over several paths, from the KPIs of each path taken as a flow of its own.

    Route :math:`r` carries the share :math:`s_r` of its flow's packets (:attr:`Network.route_flow
    <nettwin.scenario.network.Network.route_flow>`, :attr:`~nettwin.scenario.network.Network.route_share`). The
    flow's received packets come from route :math:`r` with weight :math:`w_r = s_r (1 - \mathrm{loss}_r)`
    (``received`` when given, else from ``drop_rate``, else :math:`s_r`), normalised per flow to :math:`\hat w_r`:

    - ``delay``: :math:`\mu = \sum \hat w_r \mu_r`, the mean over received packets (NaN where none is received).
    - ``delay_std``: the mixture's, exactly: :math:`\sigma^2 = \sum \hat w_r (\sigma_r^2 + (\mu_r - \mu)^2)` (the
      second term left out without ``delay``).
    - ``delay_p50/p90/p99``: the quantile of the mixture of the routes' delay laws, each route's taken as the gamma
      law of its ``delay`` and ``delay_std``, shifted to have the route's own percentile
      (:func:`gamma_mixture_quantile`); by bisection, between the routes' percentiles, which bound it. In torch its
      gradient is the exact one with respect to the routes' percentiles, :math:`\hat w_r f_r / \sum_s \hat w_s f_s`
      (:math:`f_r` the route's density there; the laws' shapes held fixed). Without ``delay`` and ``delay_std``,
      :math:`\sum \hat w_r q_r`, which also lies between them.
    - ``jitter`` (mean :math:`|D_i - D_{i-1}|` over consecutive received packets): each packet takes a path drawn
      by the shares, independently, so two consecutive ones took routes :math:`r, s` with probability
      :math:`\hat w_r \hat w_s`. On the same route they are consecutive packets of it: its jitter :math:`J_r`. On
      different routes their delays are taken independent and their difference normal (mean
      :math:`m = \mu_r - \mu_s`, variance :math:`v = \sigma_r^2 + \sigma_s^2`): the folded normal's mean
      :math:`\sqrt{2v/\pi}\, e^{-m^2/2v} + m\,\mathrm{erf}(m/\sqrt{2v})`. Without ``delay_std``, a route's
      :math:`\sigma_r` is taken as :math:`\tfrac{\sqrt\pi}{2} J_r` (two independent normal draws of deviation
      :math:`\sigma` differ by :math:`2\sigma/\sqrt\pi` on average); without ``delay``, :math:`m = 0`. Pairs are
      taken in sending order, delays as independent draws; an engine pairs packets in the order they arrive, and a
      packet received next from another path is not a typical one of it (it often follows an idle spell there), so
      it measures less: a fifth to a third less in the cases measured (21 % on a 70/30 split over two loaded
      two-hop paths, where the mean, the deviation and the percentiles agree within 4 %:
      ``benchmarks/split_flow_aggregation.py``; 31-35 % on lightly loaded ECMP paths of a 2 × 3 grid).
    - ``throughput``, ``drops``, ``tx_packets``, ``rx_packets``, ``dropped``: summed.
    - ``drop_rate``: :math:`\sum s_r\, \mathrm{loss}_r` (the share of the flow's packets lost).

    Parameters
    ----------
    routes : (R,) arrays of KPIs (names of :data:`FLOW_COLUMNS`), per route; NumPy arrays or torch tensors (then
        every operation is differentiable, by ``index_add``).
    route_flow : (R,) the flow of each route, in increasing order (a flow's routes contiguous), in the type of
        ``routes``' arrays.
    route_share : (R,) each route's share of its flow's packets (summing to 1 per flow).
    n_flows : the number of flows F.
    received : (R,) weights of each route's received packets (any scale per flow), optional.

    Returns
    -------
    The same KPIs, (F,) per flow. Without split flows (R = F) the arrays are returned as they are.

    Raises
    ------
    ValueError
        If a KPI has no aggregation rule.

    Examples
    --------
    >>> import numpy as np
    >>> out = aggregate_routes({"delay": np.array([1.0, 3.0]), "drops": np.array([2.0, 1.0])},
    ...                        np.array([0, 0]), np.array([0.75, 0.25]), 1)
    >>> out["delay"], out["drops"]
    (array([1.5]), array([3.]))
    """
    unknown = [k for k in routes if k not in (*_MEAN_KPIS, *_SUMMED, "delay_std", "jitter", "drop_rate")]
    if unknown:
        raise ValueError(f"no rule aggregates '{unknown[0]}' over a flow's paths")
    if len(route_flow) == n_flows:
        return dict(routes)
    ops = _Ops(route_share)
    if ops.torch is None:
        routes = {k: np.asarray(v) for k, v in routes.items()}
        received = None if received is None else np.asarray(received, dtype=float)
    flow = route_flow if ops.torch is not None else np.asarray(route_flow, dtype=np.int64)
    share = route_share if ops.torch is not None else np.asarray(route_share, dtype=float)

    def per_flow(values: Any) -> Any:
        return ops.scatter(values, flow, n_flows)

    if received is None:
        received = share * (1.0 - routes["drop_rate"]) if "drop_rate" in routes else share
    total = per_flow(received)
    weight = received / ops.where(total > 0, total, 1.0)[flow]
    none = total <= 0

    def weighted(w: Any, values: Any) -> Any:
        """``w · values``, 0 where ``w`` is (a route that received nothing has no delay to weigh)."""
        return ops.where(w > 0, w * values, 0.0)

    out: dict[str, Any] = {}
    for k in _MEAN_KPIS:
        if k in routes:
            out[k] = ops.nan_where(none, per_flow(weighted(weight, routes[k])))
    if "delay" in routes and "delay_std" in routes:
        for k in (k for k in _PERCENTILES if k in routes):
            out[k] = _percentile(ops, k, routes, weight, flow, n_flows)
    for k in _SUMMED:
        if k in routes:
            out[k] = ops.same_kind(per_flow(routes[k]), routes[k])
    if "drop_rate" in routes:
        out["drop_rate"] = per_flow(share * routes["drop_rate"])
    mean = routes.get("delay")
    spread = (
        routes["delay_std"]
        if "delay_std" in routes
        else (routes["jitter"] * (math.sqrt(math.pi) / 2.0) if "jitter" in routes else None)
    )
    if "delay_std" in routes:
        apart = 0.0 if mean is None else (mean - ops.nan_to_zero(out["delay"])[flow]) ** 2
        var = per_flow(weighted(weight, routes["delay_std"] ** 2 + apart))
        out["delay_std"] = ops.nan_where(none, ops.sqrt(ops.clamp0(var)))
    if "jitter" in routes:
        i, j = ops.pairs(flow)
        v = spread[i] ** 2 + spread[j] ** 2
        m = 0.0 * v if mean is None else mean[i] - mean[j]
        safe = ops.where(v > 0, v, 1.0)
        folded = ops.where(
            v > 0,
            ops.sqrt(2.0 * safe / math.pi) * ops.exp(-(m**2) / (2.0 * safe)) + m * ops.erf(m / ops.sqrt(2.0 * safe)),
            abs(m),
        )
        same = per_flow(weighted(weight**2, routes["jitter"]))
        across = ops.scatter(weighted(weight[i] * weight[j], folded), flow[i], n_flows)
        out["jitter"] = ops.nan_where(none, same + across)
    return {k: out[k] for k in routes}


def gamma_mixture_quantile(
    q: float,
    shape: np.ndarray,
    scale: np.ndarray,
    shift: np.ndarray,
    weight: np.ndarray,
    route_flow: np.ndarray,
    n_flows: int,
    iterations: int = 64,
) -> np.ndarray:
    """(F,) the ``q``-quantile (0 < q < 1) of each flow's mixture of its routes' laws, route ``r``'s being
    ``shift[r]`` plus a gamma law of ``shape[r]`` and ``scale[r]`` (a point mass at ``shift[r]`` where the shape is
    infinite or the scale 0), with weights ``weight`` summing to 1 per flow; NaN where a flow's weights are all 0.

    By bisection between the smallest and the largest of the routes' own quantiles, which bound the mixture's;
    ``iterations`` halvings of that bracket.

    Examples
    --------
    >>> import numpy as np
    >>> one = np.ones(2)
    >>> x = gamma_mixture_quantile(0.5, one, one, np.array([0.0, 1.0]), 0.5 * one, np.zeros(2, int), 1)
    >>> round(float(x[0]), 6)  # Exp(1) and 1 + Exp(1), evenly: x = log(1 + e)
    1.313262
    """
    point = ~np.isfinite(shape) | (scale <= 0)
    shape, scale = np.where(point, 1.0, shape), np.where(point, 1.0, scale)
    own = np.where(point, shift, shift + scale * gammaincinv(shape, q))
    counted = weight > 0
    lo, hi = np.full(n_flows, np.inf), np.full(n_flows, -np.inf)
    np.minimum.at(lo, route_flow[counted], own[counted])
    np.maximum.at(hi, route_flow[counted], own[counted])
    found = np.isfinite(lo) & np.isfinite(hi)
    lo, hi = np.where(found, lo, 0.0), np.where(found, hi, 0.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        x = mid[route_flow] - shift
        cdf = np.where(point, x >= 0, gammainc(shape, np.maximum(x, 0.0) / scale))
        below = np.bincount(route_flow, weights=np.where(counted, weight * cdf, 0.0), minlength=n_flows) < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(found, 0.5 * (lo + hi), np.nan)


def _percentile(ops: _Ops, kpi: str, routes: Mapping[str, Any], weight: Any, flow: Any, n_flows: int) -> Any:
    """A split flow's delay percentile ``kpi`` (see :func:`aggregate_routes`): the quantile of the mixture of its
    routes' gamma laws, each shifted to its own percentile; in torch with the gradient of the implicit quantile."""
    q = _PERCENTILES[kpi]
    own, mean, std, w, f = (
        ops.numpy(routes[kpi]),
        *(ops.numpy(routes[k]) for k in ("delay", "delay_std")),
        ops.numpy(weight),
        ops.numpy(flow),
    )
    ok = np.isfinite(own) & np.isfinite(std) & (mean > 0)
    w = np.where(ok, w, 0.0)
    point = ~ok | (std <= 0)  # a constant delay: a point mass at its percentile
    shape = np.where(point, 1.0, (mean / np.where(point, 1.0, std)) ** 2)
    scale = np.where(point, 1.0, std**2 / np.where(point, 1.0, mean))
    shift = np.where(point, own, own - scale * gammaincinv(shape, q))
    x = gamma_mixture_quantile(q, np.where(point, np.inf, shape), scale, shift, w, f, n_flows)
    if ops.torch is None:
        return x
    # dx / d own_r = w_r f_r(x) / sum_s w_s f_s(x): the implicit quantile's sensitivity to each route's percentile
    z = np.maximum(x[f] - shift, 0.0) / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.exp((shape - 1.0) * np.log(z) - z - gammaln(shape)) / scale
    pull = np.where(point | ~np.isfinite(density), 0.0, w * density)
    total = np.bincount(f, weights=pull, minlength=n_flows)[f]
    sensitivity = np.where(total > 0, pull / np.where(total > 0, total, 1.0), w)
    values = routes[kpi]
    like = {"dtype": values.dtype, "device": values.device}
    linear = ops.scatter(ops.torch.as_tensor(sensitivity, **like) * ops.torch.nan_to_num(values), flow, n_flows)
    return linear + (ops.torch.as_tensor(x, **like) - linear).detach()


class _Ops:
    """The few array operations :func:`aggregate_routes` needs, for NumPy arrays or (differentiably) torch
    tensors, without importing torch where it is not used."""

    def __init__(self, like: Any) -> None:
        torch = sys.modules.get("torch")  # a tensor's module is loaded; without one, torch need not be
        self.torch = torch if torch is not None and isinstance(like, torch.Tensor) else None

    def scatter(self, values: Any, index: Any, n: int) -> Any:
        if self.torch is None:
            return np.bincount(index, weights=np.asarray(values, dtype=float), minlength=n)
        return values.new_zeros(n).index_add(0, index, values)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if self.torch is None:
            return np.where(cond, a, b)
        b = b if isinstance(b, self.torch.Tensor) else self.torch.full_like(a, b)
        return self.torch.where(cond, a, b)

    def nan_where(self, cond: Any, values: Any) -> Any:
        if self.torch is None:
            return np.where(cond, np.nan, values)
        return self.torch.where(cond, self.torch.full_like(values, math.nan), values)

    def nan_to_zero(self, values: Any) -> Any:
        return np.nan_to_num(values, nan=0.0) if self.torch is None else self.torch.nan_to_num(values, nan=0.0)

    def same_kind(self, summed: Any, like: Any) -> Any:
        """Sums of integer counts stay integers (NumPy)."""
        if self.torch is None and np.issubdtype(np.asarray(like).dtype, np.integer):
            return np.rint(summed).astype(np.int64)
        return summed

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x) if self.torch is None else self.torch.sqrt(x)

    def exp(self, x: Any) -> Any:
        return np.exp(x) if self.torch is None else self.torch.exp(x)

    def erf(self, x: Any) -> Any:
        return erf(x) if self.torch is None else self.torch.special.erf(x)

    def clamp0(self, x: Any) -> Any:
        return np.maximum(x, 0.0) if self.torch is None else x.clamp_min(0.0)

    def numpy(self, x: Any) -> np.ndarray:
        """A detached NumPy copy of an array."""
        return np.asarray(x if self.torch is None else x.detach().cpu().numpy())

    def pairs(self, flow: Any) -> tuple[Any, Any]:
        """Every ordered pair of distinct routes of one flow (routes of a flow contiguous)."""
        f = flow if self.torch is None else flow.detach().cpu().numpy()
        f = np.asarray(f, dtype=np.int64)
        start = np.searchsorted(f, f, side="left")
        count = np.searchsorted(f, f, side="right") - start
        i = np.repeat(np.arange(len(f)), count)
        j = np.repeat(start, count) + (np.arange(len(i)) - np.repeat(np.cumsum(count) - count, count))
        keep = i != j
        i, j = i[keep], j[keep]
        if self.torch is None:
            return i, j
        return self.torch.as_tensor(i, device=flow.device), self.torch.as_tensor(j, device=flow.device)
