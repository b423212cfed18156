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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FLOW_KPIS",
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
