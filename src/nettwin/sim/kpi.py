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
class FlowCounters:
    """What an engine counts per flow over the measurement window; arrays of shape (F,) unless noted."""

    tx_packets: np.ndarray
    rx_packets: np.ndarray
    rx_bytes: np.ndarray
    delay_sum: np.ndarray
    delay_sq_sum: np.ndarray
    jitter_sum: np.ndarray
    delay_hist: np.ndarray | None = None  # (F, HIST_BINS) counts, optional


@dataclass
class LinkCounters:
    """What an engine counts per link over the measurement window; arrays of shape (L,)."""

    busy_time: np.ndarray
    wait_time: np.ndarray
    drops: np.ndarray
    tx_packets: np.ndarray


def histogram_percentile(hist: np.ndarray, q: float) -> np.ndarray:
    """Percentile ``q`` (0–100) of each row of a delay histogram, interpolated geometrically within a bin."""
    hist = np.atleast_2d(hist)
    out = np.full(hist.shape[0], np.nan)
    total = hist.sum(axis=1)
    cum = np.cumsum(hist, axis=1)
    for f in np.nonzero(total > 0)[0]:
        target = q / 100.0 * total[f]
        k = int(np.searchsorted(cum[f], target, side="left"))
        if k == 0:
            out[f] = HIST_MIN
            continue
        below = cum[f, k - 1]
        frac = (target - below) / hist[f, k] if hist[f, k] else 0.0
        out[f] = HIST_MIN * HIST_RATIO ** (k - 1 + frac)
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
