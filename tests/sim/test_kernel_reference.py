"""The compiled event loop against a plain-Python reference of the same model, bit for bit.

The kernel keeps its state in layouts chosen for speed (one record per flow, two event trees, per-link rings, delay
histograms stored as each flow's stretch of bins); the reference keeps every packet as its own heap entry and every
histogram as a full row. Both use the kernel's traffic sources, so any difference is in the event loop: which event
comes first (links before flows at equal times, lower indices first), drops, the counters and the histogram.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from numba import njit

from nettwin.sim import _kernel
from nettwin.sim.builtin import _flow_arrays
from nettwin.sim.kpi import HIST_BINS, HIST_MIN, HIST_RATIO, HistogramRows, histogram_percentile
from nettwin.sim.seeds import flow_seeds


@njit
def _start(fl, f, duration, burst_end, sizes):
    _kernel._start_source(fl[f])
    return _kernel._schedule_send(fl[f], 0.0, duration, burst_end, sizes)


@njit
def _next(fl, f, now, duration, burst_end, sizes):
    return _kernel._schedule_send(fl[f], now, duration, burst_end, sizes)


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def reference(network, seed: int = 0) -> dict[str, np.ndarray]:
    """The FIFO drop-tail model of :mod:`nettwin.sim._kernel`, one heap entry per event."""
    sim = network.simulation
    duration, warmup = float(sim.duration), float(sim.warmup)
    flows = _flow_arrays(network)
    rng = np.ascontiguousarray(flow_seeds(seed, 0, network.n_flows))
    rng[~rng.any(axis=1), 0] = 1
    fl, sizes, _ = _kernel.pack_flows(flows, rng)
    burst_end = np.empty(flows.burst_ptr[-1])
    n_flows, n_links = network.n_flows, network.n_links
    paths = [list(f.path) for f in network.flows]
    c = {
        name: np.zeros(n)
        for name, n in [
            ("tx", n_flows),
            ("rx", n_flows),
            ("rx_bytes", n_flows),
            ("delay_sum", n_flows),
            ("delay_sq_sum", n_flows),
            ("jitter_sum", n_flows),
            ("busy", n_links),
            ("wait", n_links),
            ("drops", n_links),
            ("link_tx", n_links),
        ]
    }
    hist = np.zeros((n_flows, HIST_BINS), np.int64)
    last_delay = [math.nan] * n_flows
    departs: list[list[float]] = [[] for _ in range(n_links)]  # departures of the packets still on each link
    last_depart = [0.0] * n_links
    seq = [0] * n_links
    # (time, 0, link, seq, flow, hop, size, birth) for a packet reaching a link's far end; (time, 1, flow) for a send.
    heap: list[tuple] = []
    for f in range(n_flows):
        t = _start(fl, f, duration, burst_end, sizes)
        if t < math.inf:
            heapq.heappush(heap, (t, 1, f))
    inv_log_ratio = 1.0 / np.log(HIST_RATIO)
    counts = {"packets": 0, "hops": 0, "events": 0}
    while heap:
        event = heapq.heappop(heap)
        now = event[0]
        counts["events"] += 1
        if event[1] == 0:
            _, _, link, _, f, hop, size, birth = event
            departs[link].pop(0)
            hop += 1
            if hop == len(paths[f]):
                if birth >= warmup:
                    d = now - birth
                    c["rx"][f] += 1
                    c["rx_bytes"][f] += size
                    c["delay_sum"][f] += d
                    c["delay_sq_sum"][f] += d * d
                    if not math.isnan(last_delay[f]):
                        c["jitter_sum"][f] += abs(d - last_delay[f])
                    last_delay[f] = d
                    k = 0
                    if d >= HIST_MIN:
                        k = min(int(np.log(d / HIST_MIN) * inv_log_ratio) + 1, HIST_BINS - 1)
                    hist[f, k] += 1
                continue
        else:
            f = event[2]
            size, birth, hop = float(fl[f]["size"]), now, 0
            counts["packets"] += 1
            if birth >= warmup:
                c["tx"][f] += 1
            t = _next(fl, f, now, duration, burst_end, sizes)
            if t < math.inf:
                heapq.heappush(heap, (t, 1, f))
        link = paths[f][hop]
        counts["hops"] += 1
        if sum(1 for x in departs[link] if x > now) > network.buffer[link]:
            if birth >= warmup:
                c["drops"][link] += 1
            continue
        start = max(now, last_depart[link])
        depart = start + size * 8.0 / network.capacity[link]
        last_depart[link] = depart
        c["busy"][link] += _overlap(start, depart, warmup, duration)
        c["wait"][link] += _overlap(now, start, warmup, duration)
        if warmup <= start < duration:
            c["link_tx"][link] += 1
        departs[link].append(depart)
        seq[link] += 1
        heapq.heappush(heap, (depart + network.delay[link], 0, link, seq[link], f, hop, size, birth))
    return {**c, "hist": hist, **counts}


def kernel(network, seed: int = 0) -> dict[str, np.ndarray]:
    sim = network.simulation
    flows = _flow_arrays(network)
    rng = np.ascontiguousarray(flow_seeds(seed, 0, network.n_flows))
    rng[~rng.any(axis=1), 0] = 1
    links = _kernel.LinkArrays(
        capacity=network.capacity.astype(float),
        delay=network.delay.astype(float),
        buffer=network.buffer.astype(np.int64),
        policy=network.policy.astype(np.int64),
        queue_ptr=network.queue_ptr.astype(np.int64),
        queue_buffer=network.queue_buffer.astype(np.int64),
        queue_weight=network.queue_weight.astype(float),
        quantum=np.zeros(len(network.queue_weight)),
    )
    out = _kernel.new_counters(network.n_flows, network.n_links)
    packets, hops, events, counts = _kernel.run(
        links, flows, rng, float(sim.duration), float(sim.warmup), HIST_MIN, HIST_RATIO, HIST_BINS, out
    )
    hist = np.zeros((network.n_flows, HIST_BINS), np.int64)
    for f in range(network.n_flows):
        stretch = counts[out.hist_ptr[f] : out.hist_ptr[f + 1]]
        assert out.hist_first[f] >= 0 and out.hist_first[f] + len(stretch) <= HIST_BINS
        hist[f, out.hist_first[f] : out.hist_first[f] + len(stretch)] = stretch
    return {
        "tx": out.tx_packets,
        "rx": out.rx_packets,
        "rx_bytes": out.rx_bytes,
        "delay_sum": out.delay_sum,
        "delay_sq_sum": out.delay_sq_sum,
        "jitter_sum": out.jitter_sum,
        "busy": out.busy_time,
        "wait": out.wait_time,
        "drops": out.link_drops,
        "link_tx": out.link_tx,
        "hist": hist,
        "rows": HistogramRows(counts=counts, ptr=out.hist_ptr, first=out.hist_first),
        "packets": packets,
        "hops": hops,
        "events": events,
    }


def _mixed(make_network, *, warmup: float, delay: str):
    exp = {"dist": "exponential", "mean": 400}
    links = [
        {"src": "a", "dst": "b", "capacity": "2Mbps", "delay": delay, "buffer": 3},
        {"src": "b", "dst": "c", "capacity": "1Mbps", "delay": delay, "buffer": 2},
        {"src": "c", "dst": "d", "capacity": "3Mbps", "delay": delay, "buffer": 5},
        {"src": "b", "dst": "d", "capacity": "500kbps", "delay": delay, "buffer": 1},
    ]
    flows = [
        {
            "src": "a",
            "dst": "d",
            "path": ["a", "b", "c", "d"],
            "traffic": {"model": "poisson", "rate": "600kbps", "packet_size": exp},
        },
        {
            "src": "a",
            "dst": "d",
            "path": ["a", "b", "d"],
            "traffic": {"model": "cbr", "rate": "300kbps", "packet_size": 500},
        },
        {
            "src": "b",
            "dst": "c",
            "traffic": {"model": "onoff", "rate": "900kbps", "tau_on": 0.3, "tau_off": 0.2, "packet_size": 200},
        },
        {
            "src": "c",
            "dst": "d",
            "traffic": {"model": "uniform", "rate": "800kbps", "spread": 0.9, "packet_size": 1000},
        },
        {
            "src": "a",
            "dst": "c",
            "traffic": {
                "model": "normal",
                "rate": "400kbps",
                "gap_std": "4ms",
                "packet_size": {"dist": "uniform", "min": 64, "max": 1500},
            },
        },
        {"src": "d", "dst": "a", "traffic": {"model": "poisson", "rate": "100kbps", "packet_size": 300}},
    ]
    return make_network(["a", "b", "c", "d"], links, flows, duration=20.0, warmup=warmup, seed=4)


@pytest.mark.parametrize(("warmup", "delay"), [(0.0, "1ms"), (2.0, "0ms")], ids=["no-warmup", "no-delay"])
def test_the_event_loop_matches_a_plain_reference_bit_for_bit(scenario_factory, warmup, delay):
    network = _mixed(scenario_factory, warmup=warmup, delay=delay)
    want, got = reference(network), kernel(network)
    assert got["drops"].sum() > 0 and got["rx"].sum() > 1000  # lossy and busy enough to mean something
    for name, value in want.items():
        assert np.array_equal(np.asarray(got[name]), np.asarray(value)), name
    for q in (50, 90, 99):
        assert np.array_equal(
            histogram_percentile(got["rows"], q), histogram_percentile(want["hist"], q), equal_nan=True
        )


def test_histogram_stretches_grow_both_ways_and_survive_compaction(scenario_factory):
    """Delays that keep widening in both directions on many flows move and compact the stretches; the counts stay
    those of a full histogram."""
    links = [{"src": "a", "dst": "b", "capacity": "1Mbps", "delay": "1ms", "buffer": 200, "bidirectional": False}]
    flows = [
        {
            "src": "a",
            "dst": "b",
            "traffic": {
                "model": "onoff",
                "rate": "1.5Mbps",
                "tau_on": 0.5,
                "tau_off": 1.0,
                "packet_size": {"dist": "exponential", "mean": 300},
            },
        }
        for _ in range(40)
    ]
    network = scenario_factory(["a", "b"], links, flows, duration=30.0)
    want, got = reference(network), kernel(network)
    assert np.array_equal(got["hist"], want["hist"])
    widths = np.diff(got["rows"].ptr)
    assert widths.max() > _kernel.HIST_START  # some stretch grew
    assert np.all(got["hist"].sum(axis=1) == got["rx"])


def test_percentiles_of_stretches_equal_those_of_full_rows():
    rng = np.random.default_rng(5)
    hist = np.zeros((50, HIST_BINS), np.int64)
    for f in range(1, 50):  # row 0 stays empty
        lo = int(rng.integers(0, HIST_BINS - 1))
        n = int(rng.integers(1, 40))
        hist[f, lo : lo + n] = rng.integers(0, 7, size=len(hist[f, lo : lo + n]))
    hist[3, 0] = 4  # delays below HIST_MIN
    hist[4, -1] = 9
    first = np.array([np.argmax(row > 0) if row.any() else 0 for row in hist])
    last = np.array([HIST_BINS - np.argmax(row[::-1] > 0) if row.any() else 0 for row in hist])
    widths = np.maximum(last - first, 0)
    rows = HistogramRows(
        counts=np.concatenate([hist[f, first[f] : first[f] + widths[f]] for f in range(50)]),
        ptr=np.concatenate([[0], np.cumsum(widths)]),
        first=first,
    )

    def per_row(h, q):  # the definition, row by row
        out = np.full(len(h), np.nan)
        for f in range(len(h)):
            total = h[f].sum()
            if total == 0:
                continue
            cum = np.cumsum(h[f])
            target = q / 100.0 * total
            k = int(np.searchsorted(cum, target, side="left"))
            out[f] = HIST_MIN if k == 0 else HIST_MIN * HIST_RATIO ** (k - 1 + (target - cum[k - 1]) / h[f, k])
        return out

    for q in (1, 50, 90, 99, 100):
        want = per_row(hist, q)
        assert np.array_equal(histogram_percentile(rows, q), want, equal_nan=True)
        assert np.array_equal(histogram_percentile(hist, q), want, equal_nan=True)


def test_memory_per_flow_is_bounded(scenario_factory):
    """A flow record is a few cache lines; flows whose delays do not vary keep one first stretch of histogram."""
    assert _kernel.FLOW_BYTES <= 6 * 64
    n_flows = 200
    links = [{"src": "a", "dst": "b", "capacity": "100Mbps", "delay": "1ms", "bidirectional": False}]
    flows = [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "50kbps", "packet_size": 100}}] * n_flows
    result = kernel(scenario_factory(["a", "b"], links, flows, duration=5.0))
    assert np.all(result["rx"] > 0)
    assert len(result["rows"].counts) == _kernel.HIST_START * n_flows
