"""Compiled core of the built-in engine: a packet-level discrete-event simulation of FIFO drop-tail links.

The model
---------
Every directed link ``l`` has one FIFO output queue holding at most ``buffer[l]`` waiting packets plus the
one being transmitted. A packet reaching link ``l`` at time ``t`` is dropped if ``buffer[l] + 1`` packets are
already in the link's system; otherwise it departs at ``max(t, last departure on l) + size·8 / capacity[l]``
and reaches the next node ``delay[l]`` later. Every time is known the moment a packet is accepted, so one
event per packet-hop suffices: *the packet arrives at a link*.

The event list
--------------
Departures on a link are FIFO and its propagation delay is constant, so the packets a link hands to the next
node arrive there in the order they entered the link. Each link therefore keeps its accepted packets in a ring
(a FIFO) until they reach the next node, and the scheduler needs only one entry per link (the arrival time of
its oldest packet at the next node) and one per flow (its next send): ``L + F`` *slots* in a tournament tree.
The tree's root is the slot with the smallest time; equal times go to the lower slot (links before flows,
lower indices first), so runs are reproducible. Memory depends on the number of packets in flight, never on
the simulated time.

Two event kinds share the loop:

- ``HOP``   (slot ``l < L``): the oldest packet of link ``l`` reaches ``link_dst[l]``: it enters the next link
  of its path, or is received if that node is its destination.
- ``SEND``  (slot ``L + f``): flow ``f`` emits a packet into the first link of its path and schedules the
  next one.

Measurement
-----------
Flow counters cover packets *sent* in ``[warmup, duration)``, followed until received or dropped (the
loop runs until the network is empty). Link ``busy_time`` and ``wait_time`` are the parts of each packet's
transmission and waiting intervals that fall inside ``[warmup, duration)`` (so ``wait_time / window`` is the
exact time-average number of packets waiting); link ``tx_packets`` counts transmissions that *start* inside
the window; link ``drops`` counts drops of measured packets, so that link drops add up to flow drops exactly.

Randomness
----------
Each flow draws from its own xoshiro256** generator (seeded by the caller): uniform doubles from the top
53 bits, exponentials by inversion. The draws of one flow are, in order: the size of its next packet, then
what its traffic model needs to time that packet.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "CBR",
    "POISSON",
    "ONOFF",
    "FIXED",
    "EXPONENTIAL",
    "BINOMIAL",
    "LinkArrays",
    "FlowArrays",
    "Counters",
    "run",
    "new_counters",
]

# Traffic models and packet-size distributions, as integer codes.
CBR, POISSON, ONOFF = 0, 1, 2
FIXED, EXPONENTIAL, BINOMIAL = 0, 1, 2

# Event kinds (for readability; the kind follows from the slot number).
HOP, SEND = 0, 1

INITIAL_RING = 16
"""Initial ring capacity of every link, in packets; a ring doubles when full."""

RING_DTYPE = np.dtype(
    [
        ("flow", np.int32),  # the packet's flow
        ("pos", np.int32),  # index into path_links of the link it is on
        ("size", np.float64),  # bytes
        ("birth", np.float64),  # send time, s
        ("depart", np.float64),  # end of its transmission on this link, s
    ]
)
"""A packet accepted by a link, kept in the link's ring until it reaches the next node."""


class LinkArrays(NamedTuple):
    """Per-link inputs, shape (L,)."""

    capacity: np.ndarray  # float64, bit/s
    delay: np.ndarray  # float64, s
    buffer: np.ndarray  # int64, packets waiting (excluding the one being sent)


class FlowArrays(NamedTuple):
    """Per-flow inputs, shape (F,) unless noted."""

    path_ptr: np.ndarray  # int64 (F+1,), CSR offsets into path_links
    path_links: np.ndarray  # int64, link indices of every path, concatenated
    model: np.ndarray  # int64, CBR / POISSON / ONOFF
    rate: np.ndarray  # float64, bit/s while sending
    tau_on: np.ndarray  # float64, mean on period (onoff only)
    tau_off: np.ndarray  # float64, mean off period (onoff only)
    size_dist: np.ndarray  # int64, FIXED / EXPONENTIAL / BINOMIAL
    size_mean: np.ndarray  # float64, mean size in bytes
    size_small: np.ndarray  # float64, binomial: first size, bytes
    size_large: np.ndarray  # float64, binomial: second size, bytes
    size_p: np.ndarray  # float64, binomial: probability of the first size


class Counters(NamedTuple):
    """What the kernel counts (see the module docstring for the window each counter covers)."""

    tx_packets: np.ndarray  # (F,) int64
    rx_packets: np.ndarray  # (F,) int64
    rx_bytes: np.ndarray  # (F,) float64
    delay_sum: np.ndarray  # (F,) float64
    delay_sq_sum: np.ndarray  # (F,) float64
    jitter_sum: np.ndarray  # (F,) float64
    delay_hist: np.ndarray  # (F, bins) int64
    busy_time: np.ndarray  # (L,) float64
    wait_time: np.ndarray  # (L,) float64
    link_drops: np.ndarray  # (L,) int64
    link_tx: np.ndarray  # (L,) int64


def new_counters(n_flows: int, n_links: int, hist_bins: int) -> Counters:
    """Zeroed counters for a network of ``n_flows`` flows and ``n_links`` links."""
    return Counters(
        tx_packets=np.zeros(n_flows, np.int64),
        rx_packets=np.zeros(n_flows, np.int64),
        rx_bytes=np.zeros(n_flows),
        delay_sum=np.zeros(n_flows),
        delay_sq_sum=np.zeros(n_flows),
        jitter_sum=np.zeros(n_flows),
        delay_hist=np.zeros((n_flows, hist_bins), np.int64),
        busy_time=np.zeros(n_links),
        wait_time=np.zeros(n_links),
        link_drops=np.zeros(n_links, np.int64),
        link_tx=np.zeros(n_links, np.int64),
    )


# ------------------------------------------------------------------------------------------------------------
# Random numbers: xoshiro256** (Blackman & Vigna, 2018), one generator per flow, state rng[f, 0:4].

_ONE_53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def next_u64(rng, f):
    """Next 64-bit output of flow ``f``'s generator."""
    s0, s1, s2, s3 = rng[f, 0], rng[f, 1], rng[f, 2], rng[f, 3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    rng[f, 0], rng[f, 1], rng[f, 2], rng[f, 3] = s0, s1, s2, s3
    return result


@njit(cache=True)
def uniform(rng, f):
    """A double uniform in [0, 1) from the top 53 bits of the next output."""
    return float(next_u64(rng, f) >> np.uint64(11)) * _ONE_53


@njit(cache=True)
def exponential(rng, f, mean):
    """An exponential variate with the given mean, by inversion (``1 - u`` is in (0, 1])."""
    return -mean * np.log(1.0 - uniform(rng, f))


# ------------------------------------------------------------------------------------------------------------
# Traffic: each flow draws the size of its next packet, then the time its model sends it at. The state of
# flow f's source is the record src[f] (SOURCE_DTYPE).

SOURCE_DTYPE = np.dtype(
    [
        ("size", np.float64),  # size of the next packet, bytes
        ("mark", np.float64),  # cbr: the random phase; onoff: when the countdown to the next packet began
        ("count", np.int64),  # cbr: packets scheduled so far
        ("on_end", np.float64),  # onoff: end of the current on period
        ("residual", np.float64),  # onoff: bits carried over from earlier on periods
    ]
)


@njit(cache=True)
def _draw_size(flows, rng, f):
    dist = flows.size_dist[f]
    if dist == FIXED:
        return flows.size_mean[f]
    if dist == EXPONENTIAL:
        return exponential(rng, f, flows.size_mean[f])
    return flows.size_small[f] if uniform(rng, f) < flows.size_p[f] else flows.size_large[f]


@njit(cache=True)
def _cbr_next(flows, f, src):
    """CBR: packet k at ``phase + k·interval``, interval = mean size · 8 / rate."""
    interval = flows.size_mean[f] * 8.0 / flows.rate[f]
    t = src[f].mark + src[f].count * interval
    src[f].count += 1
    return t


@njit(cache=True)
def _onoff_next(flows, rng, f, duration, src):
    """On/off as ns-3's OnOffApplication.

    The next packet goes out once its bits, less the carried-over bits, have been 'sent' at ``rate`` since the
    countdown began. If the on period ends first, the bits sent so far carry over and the countdown resumes
    when the next on period starts, after an exponential off period.
    """
    rate = flows.rate[f]
    s = src[f]
    while True:
        t = s.mark + (s.size * 8.0 - s.residual) / rate
        if t < s.on_end:
            s.mark = t
            s.residual = 0.0
            return t
        s.residual += (s.on_end - s.mark) * rate
        on_start = s.on_end + exponential(rng, f, flows.tau_off[f])
        s.on_end = on_start + exponential(rng, f, flows.tau_on[f])
        s.mark = on_start
        if on_start >= duration:
            return np.inf


@njit(cache=True)
def _start_source(flows, rng, f, src):
    """Initial source state: a random CBR phase, or a first off period and on period for onoff."""
    model = flows.model[f]
    if model == CBR:
        src[f].mark = uniform(rng, f) * flows.size_mean[f] * 8.0 / flows.rate[f]
    elif model == ONOFF:
        on_start = exponential(rng, f, flows.tau_off[f])
        src[f].on_end = on_start + exponential(rng, f, flows.tau_on[f])
        src[f].mark = on_start


@njit(cache=True)
def _schedule_send(flows, rng, f, now, duration, src):
    """Draw flow ``f``'s next packet size; return when it is sent (``inf`` if at or after ``duration``)."""
    src[f].size = _draw_size(flows, rng, f)
    model = flows.model[f]
    if model == CBR:
        t = _cbr_next(flows, f, src)
    elif model == POISSON:
        t = now + exponential(rng, f, flows.size_mean[f] * 8.0 / flows.rate[f])
    else:
        t = _onoff_next(flows, rng, f, duration, src)
    return t if t < duration else np.inf


# ------------------------------------------------------------------------------------------------------------
# The scheduler: a tournament tree over slots. `key[s]` is slot s's next event time; `tree[j]` the winning
# slot of internal node j (leaves at size..2·size−1). Ties go to the left child, i.e. to the lower slot.


@njit(cache=True)
def _tree_new(n_slots):
    size = 1
    while size < n_slots:
        size *= 2
    key = np.full(size, np.inf)
    tree = np.empty(2 * size, np.int64)
    for s in range(size):
        tree[size + s] = s
    for j in range(size - 1, 0, -1):
        tree[j] = tree[2 * j]
    return key, tree


@njit(cache=True)
def _tree_set(key, tree, slot, t):
    key[slot] = t
    j = (slot + key.shape[0]) >> 1
    while j > 0:
        a = tree[2 * j]
        b = tree[2 * j + 1]
        tree[j] = a if key[a] <= key[b] else b
        j >>= 1


# ------------------------------------------------------------------------------------------------------------
# Link rings: link l's packets live in pool[ring_off[l] : ring_off[l] + ring_cap[l]] (a power of two),
# addressed by ever-increasing counters: ring_head (oldest packet), ring_queue (oldest packet still being sent
# or waiting; older ones are propagating), ring_tail (next free). ring_head <= ring_queue <= ring_tail.


@njit(cache=True)
def _slot(ring_off, ring_cap, link, counter):
    return ring_off[link] + (counter & (ring_cap[link] - 1))


@njit(cache=True)
def _grow_rings(pool, ring_off, ring_cap, ring_head, ring_tail, full_link):
    """Double the ring of ``full_link``: a new pool, every ring copied in order. Returns the new pool."""
    new_cap = ring_cap.copy()
    new_cap[full_link] *= 2
    new_off = np.zeros_like(ring_off)
    for j in range(1, ring_off.shape[0]):
        new_off[j] = new_off[j - 1] + new_cap[j - 1]
    new_pool = np.empty(new_off[-1] + new_cap[-1], dtype=pool.dtype)
    for j in range(ring_off.shape[0]):
        for c in range(ring_head[j], ring_tail[j]):
            new_pool[new_off[j] + (c & (new_cap[j] - 1))] = pool[ring_off[j] + (c & (ring_cap[j] - 1))]
    ring_off[:] = new_off
    ring_cap[:] = new_cap
    return new_pool


@njit(cache=True)
def _overlap(a, b, lo, hi):
    """Length of [a, b) ∩ [lo, hi)."""
    return max(0.0, min(b, hi) - max(a, lo))


# ------------------------------------------------------------------------------------------------------------
# The event loop.


@njit(cache=True)
def run(links, flows, rng, duration, warmup, hist_min, hist_ratio, out):
    """Simulate until every sent packet is received or dropped; fill ``out`` (a :class:`Counters`).

    ``rng`` is the (F, 4) uint64 generator state, advanced in place. Returns
    ``(packets, packet_hops, events)``: packets generated, packet arrivals at links (transmissions plus
    drops), events processed.
    """
    n_links = links.capacity.shape[0]
    n_flows = flows.rate.shape[0]
    hist_bins = out.delay_hist.shape[1]
    inv_log_ratio = 1.0 / np.log(hist_ratio)

    key, tree = _tree_new(n_links + n_flows)

    pool = np.empty(INITIAL_RING * n_links, dtype=RING_DTYPE)
    ring_cap = np.full(n_links, INITIAL_RING, np.int64)
    ring_off = np.arange(n_links) * INITIAL_RING
    ring_head = np.zeros(n_links, np.int64)
    ring_queue = np.zeros(n_links, np.int64)
    ring_tail = np.zeros(n_links, np.int64)
    last_depart = np.zeros(n_links)

    src = np.zeros(n_flows, dtype=SOURCE_DTYPE)
    last_delay = np.full(n_flows, np.nan)  # delay of the flow's previous received measured packet

    for f in range(n_flows):
        _start_source(flows, rng, f, src)
        t = _schedule_send(flows, rng, f, 0.0, duration, src)
        _tree_set(key, tree, n_links + f, t)

    packets = 0
    hops = 0
    events = 0
    while True:
        slot = tree[1]
        now = key[slot]
        if now == np.inf:
            break
        events += 1
        kind = HOP if slot < n_links else SEND

        if kind == HOP:
            # The oldest packet of link `slot` reaches the link's far end.
            link = slot
            p = pool[_slot(ring_off, ring_cap, link, ring_head[link])]
            f = p.flow
            pos = p.pos
            size = p.size
            birth = p.birth
            ring_head[link] += 1
            if ring_queue[link] < ring_head[link]:
                ring_queue[link] = ring_head[link]
            if ring_head[link] < ring_tail[link]:
                nxt = pool[_slot(ring_off, ring_cap, link, ring_head[link])].depart + links.delay[link]
            else:
                nxt = np.inf
            _tree_set(key, tree, link, nxt)
            pos += 1
            if pos == flows.path_ptr[f + 1]:
                # Received at the destination.
                if birth >= warmup:
                    d = now - birth
                    out.rx_packets[f] += 1
                    out.rx_bytes[f] += size
                    out.delay_sum[f] += d
                    out.delay_sq_sum[f] += d * d
                    if not np.isnan(last_delay[f]):
                        out.jitter_sum[f] += abs(d - last_delay[f])
                    last_delay[f] = d
                    k = 0
                    if d >= hist_min:
                        k = min(int(np.log(d / hist_min) * inv_log_ratio) + 1, hist_bins - 1)
                    out.delay_hist[f, k] += 1
                continue
        else:
            # Flow `f` sends a packet and schedules its next one.
            f = slot - n_links
            size = src[f].size
            birth = now
            pos = flows.path_ptr[f]
            packets += 1
            if birth >= warmup:
                out.tx_packets[f] += 1
            t = _schedule_send(flows, rng, f, now, duration, src)
            _tree_set(key, tree, slot, t)

        # The packet arrives at the link path_links[pos]: drop it, or queue it behind the link's last packet.
        link = flows.path_links[pos]
        hops += 1
        while (
            ring_queue[link] < ring_tail[link] and pool[_slot(ring_off, ring_cap, link, ring_queue[link])].depart <= now
        ):
            ring_queue[link] += 1
        if ring_tail[link] - ring_queue[link] > links.buffer[link]:
            if birth >= warmup:
                out.link_drops[link] += 1
            continue
        start = max(now, last_depart[link])
        depart = start + size * 8.0 / links.capacity[link]
        last_depart[link] = depart
        out.busy_time[link] += _overlap(start, depart, warmup, duration)
        out.wait_time[link] += _overlap(now, start, warmup, duration)
        if warmup <= start < duration:
            out.link_tx[link] += 1
        if ring_tail[link] - ring_head[link] == ring_cap[link]:
            pool = _grow_rings(pool, ring_off, ring_cap, ring_head, ring_tail, link)
        i = _slot(ring_off, ring_cap, link, ring_tail[link])
        pool[i].flow = f
        pool[i].pos = pos
        pool[i].size = size
        pool[i].birth = birth
        pool[i].depart = depart
        ring_tail[link] += 1
        if ring_tail[link] - ring_head[link] == 1:
            _tree_set(key, tree, link, depart + links.delay[link])

    return packets, hops, events
