"""Compiled core of the built-in engine: a packet-level discrete-event simulation of drop-tail output ports.

The model
---------
Every directed link ``l`` is an output port. A FIFO port has one queue holding at most ``buffer[l]`` waiting
packets plus the one being transmitted. A packet reaching link ``l`` at time ``t`` is dropped if ``buffer[l] + 1``
packets are already in the link's system; otherwise it departs at ``max(t, last departure on l) + size·8 /
capacity[l]`` and reaches the next node ``delay[l]`` later. Every time is known the moment a packet is accepted,
so one event per packet-hop suffices: *the packet arrives at a link*.

Scheduled ports
---------------
A port with policy SP, WFQ or DRR has several queues (``queue_ptr[l]:queue_ptr[l+1]``); a packet of class ``c``
(its flow's ``tos``) goes to the port's queue ``c``, which holds at most ``queue_buffer`` waiting packets (the
packet being transmitted, of whatever class, is in no queue). A packet arriving while the link is idle is sent at
once; one arriving while it transmits is dropped if its queue is full, else it waits. When a transmission ends,
the policy picks the queue whose head packet is sent next (non-preemptive):

- SP: the lowest-numbered non-empty queue.
- WFQ, as self-clocked fair queueing (Golestani, 1994): a packet of ``s`` bytes arriving at queue ``q`` gets the
  finish tag ``max(F_q, v) + 8·s / weight[q]``, with ``F_q`` the tag of the packet that arrived at ``q`` before
  it and ``v`` the tag of the packet last put into transmission; the head packet with the smallest tag is sent
  (the lower queue at equal tags). ``v`` and every ``F_q`` restart from 0 when a packet finds the port idle.
- DRR (Shreedhar & Varghese, 1996): the queues are visited in turn; a visit adds ``quantum[q]`` bytes to the
  queue's deficit and sends head packets while the head fits in the deficit, taking its size off; a queue that
  empties loses its deficit. Long-run shares of backlogged queues follow the quanta for any quantum; a quantum
  below a packet's size only takes that queue more visits to send it.

A scheduled port's departures are not known when a packet is accepted, only when the transmission before it ends;
that choice is made lazily, by the next event that touches the link (a packet arriving at it, or the link's oldest
packet reaching the next node, which happens no earlier than that end): every transmission end up to the event's
time is then decided in order, with the queues as they were (every packet in them arrived before that end, as its
own arrival decided the ends before it). Transmissions on a link stay sequential, so its ring below still holds
its packets in transmission order; the waiting packets live in per-queue rings (``qpool``) until they are sent.

The event list
--------------
Departures on a link are FIFO and its propagation delay is constant, so the packets a link hands to the next
node arrive there in the order they entered the link. Each link therefore keeps its accepted packets in a ring
(a FIFO) until they reach the next node, and the scheduler needs only one entry per link (the arrival time of
its oldest packet at the next node) and one per flow (its next send): ``L + F`` *slots*, held in two tournament
trees, one over the links and one over the flows, so that the link events (most of them) replay matches in a tree
whose depth does not grow with the number of flows. The next event is the earlier of the two roots; equal times
go to the lower slot (links before flows, lower indices first), so runs are reproducible. Memory depends on the
number of packets in flight, never on the simulated time.

Two event kinds share the loop:

- ``HOP``   (slot ``l < L``): the oldest packet of link ``l`` reaches ``link_dst[l]``: it enters the next link
  of its path, or is received if that node is its destination.
- ``SEND``  (slot ``L + f``): flow ``f`` emits a packet into the first link of its path and schedules the
  next one.

Split flows
-----------
A flow may split its packets over several routes (``route_ptr[f]:route_ptr[f+1]``, each a path of its own in
``path_ptr``/``path_links``): each packet takes one route, drawn at its send by the routes' shares, and keeps it to
its destination. A flow on one route draws nothing for it, so its stream and results are those of a network
without split flows. The loop's path array ends each route with a marker that names it (-1 for a flow's only
route, ``-2 - k`` for route ``k`` of a split flow), so that a received packet's route costs no lookup; a split
flow's record holds ``-1 -`` its first route in place of its first link. Route counters (``route_*``) cover the
routes of split flows as the flow counters cover flows; a flow on one route has its flow counters copied to its
route at the end.

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
53 bits, exponentials by inversion, normals by Box–Muller (two uniforms, the cosine branch), truncated Pareto
variates by inversion. Sizes: fixed draws nothing, exponential, uniform and discrete one uniform each.

Flows in memory
---------------
Everything the loop reads or writes about one flow (generator state, traffic parameters, source state, counters) is
one record of ``FLOW_DTYPE`` (``FLOW_BYTES`` bytes). A flow's delay histogram holds only the stretch of bins
between its smallest and largest delays so far, with some room: the stretch starts at 32 bins around the first
delay, and a delay outside it moves it to a stretch at least twice as long that covers both, at the end of a shared
pool (``_hist_grow``). A full pool is compacted into one twice the size of the stretches it then holds (the new one
included), so the pool is at most twice the sum of the flows' stretches, each of which is at most about twice its
span of delays and at most ``bins``. At the end the stretches are handed back packed in flow order
(``Counters.hist_ptr``, ``hist_first``).

The draws of one flow are, in order: what its source needs to start (cbr, uniform, normal: a phase uniform in
[0, g), g the mean gap; onoff: the first off period, then the first on period; ppbp: the first burst's start),
then for every packet the size of the packet, then what its traffic model needs to time it: nothing (cbr, and
the first packet of uniform and normal, sent at the phase), one exponential gap (poisson), one uniform gap
(uniform), one normal gap (normal), per on/off cycle crossed an off then an on period (onoff), per burst started
on the way its size then the next burst's start (ppbp). A split flow draws, as each packet is sent and before
the next packet's size, one uniform that picks the packet's route (the first route whose cumulative share exceeds
it).

PPBP bursts
-----------
A ppbp flow keeps the end times of its active bursts in its own stretch of ``burst_end``
(``burst_ptr[f]:burst_ptr[f+1]``, sized by the caller so that it is full with negligible probability). A burst
that starts while the stretch is full is appended to the active burst that ends last: its bits are sent after
that burst's, so every burst's bits are still sent at ``rate`` and the long-run rate is kept; only the number
of bursts sending at once is capped.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "FIFO",
    "SP",
    "WFQ",
    "DRR",
    "CBR",
    "POISSON",
    "ONOFF",
    "UNIFORM_GAP",
    "NORMAL_GAP",
    "PPBP",
    "FIXED",
    "EXPONENTIAL",
    "UNIFORM_SIZE",
    "DISCRETE",
    "LinkArrays",
    "FlowArrays",
    "Counters",
    "run",
    "new_counters",
]

# Traffic models and packet-size distributions, as integer codes.
CBR, POISSON, ONOFF, UNIFORM_GAP, NORMAL_GAP, PPBP = 0, 1, 2, 3, 4, 5
FIXED, EXPONENTIAL, DISCRETE, UNIFORM_SIZE = 0, 1, 2, 3

# Scheduling policies, as nettwin.scenario.network codes them.
FIFO, SP, WFQ, DRR = 0, 1, 2, 3

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

QUEUE_DTYPE = np.dtype(
    [
        ("flow", np.int32),
        ("pos", np.int32),
        ("size", np.float64),  # bytes
        ("birth", np.float64),  # send time, s
        ("arrive", np.float64),  # arrival at the link, s
        ("tag", np.float64),  # WFQ finish tag
    ]
)
"""A packet waiting in a queue of a scheduled port."""


class LinkArrays(NamedTuple):
    """Per-link inputs, shape (L,)."""

    capacity: np.ndarray  # float64, bit/s
    delay: np.ndarray  # float64, s
    buffer: np.ndarray  # int64, packets waiting (excluding the one being sent)
    policy: np.ndarray  # int64, FIFO / SP / WFQ / DRR
    queue_ptr: np.ndarray  # int64 (L+1,), CSR offsets of each link's queues
    queue_buffer: np.ndarray  # int64 (Q,), packets waiting in each queue (scheduled links)
    queue_weight: np.ndarray  # float64 (Q,), WFQ weights
    quantum: np.ndarray  # float64 (Q,), DRR quanta, bytes


class FlowArrays(NamedTuple):
    """Per-flow inputs, shape (F,) unless noted."""

    route_ptr: np.ndarray  # int64 (F+1,), CSR offsets of each flow's routes (R routes in all; R = F without splits)
    route_cum: np.ndarray  # float64 (R,), cumulative share of each flow's routes up to each one (its last is 1)
    path_ptr: np.ndarray  # int64 (R+1,), CSR offsets of each route's links into path_links
    path_links: np.ndarray  # int64, link indices of every route, concatenated
    tos: np.ndarray  # int64, traffic class: the queue it uses at scheduled links
    model: np.ndarray  # int64, CBR / POISSON / ONOFF / UNIFORM_GAP / NORMAL_GAP / PPBP
    rate: np.ndarray  # float64, bit/s while sending (one burst's rate for ppbp)
    tau_on: np.ndarray  # float64, mean on period (onoff only)
    tau_off: np.ndarray  # float64, mean off period (onoff only)
    spread: np.ndarray  # float64, uniform: half-width of the gap law over the mean gap
    gap_std: np.ndarray  # float64, normal: standard deviation of the gap, s
    burst_rate: np.ndarray  # float64, ppbp: bursts started per second
    burst_min: np.ndarray  # float64, ppbp: smallest burst, bits
    burst_max: np.ndarray  # float64, ppbp: largest burst, bits
    pareto_shape: np.ndarray  # float64, ppbp: shape of the truncated Pareto law of burst sizes
    burst_ptr: np.ndarray  # int64 (F+1,), CSR offsets of each flow's active-burst buffer (empty unless ppbp)
    size_dist: np.ndarray  # int64, FIXED / EXPONENTIAL / DISCRETE / UNIFORM_SIZE
    size_mean: np.ndarray  # float64, mean size in bytes
    size_lo: np.ndarray  # float64, uniform: smallest size, bytes
    size_hi: np.ndarray  # float64, uniform: largest size, bytes
    size_ptr: np.ndarray  # int64 (F+1,), CSR offsets into size_values / size_cum (discrete only)
    size_values: np.ndarray  # float64, discrete: the sizes, bytes
    size_cum: np.ndarray  # float64, discrete: cumulative probabilities (the last one is 1)


class Counters(NamedTuple):
    """What the kernel counts (see the module docstring for the window each counter covers)."""

    tx_packets: np.ndarray  # (F,) int64
    rx_packets: np.ndarray  # (F,) int64
    rx_bytes: np.ndarray  # (F,) float64
    delay_sum: np.ndarray  # (F,) float64
    delay_sq_sum: np.ndarray  # (F,) float64
    jitter_sum: np.ndarray  # (F,) float64
    hist_ptr: np.ndarray  # (F+1,) int64: flow f's delay histogram is counts[hist_ptr[f]:hist_ptr[f+1]] of run's
    hist_first: np.ndarray  # (F,) int64: ... whose first count is of bin hist_first[f] (bins outside hold 0)
    busy_time: np.ndarray  # (L,) float64
    wait_time: np.ndarray  # (L,) float64
    link_drops: np.ndarray  # (L,) int64
    link_tx: np.ndarray  # (L,) int64
    route_tx: np.ndarray  # (R,) int64
    route_rx: np.ndarray  # (R,) int64
    route_rx_bytes: np.ndarray  # (R,) float64
    route_delay_sum: np.ndarray  # (R,) float64
    route_delay_sq_sum: np.ndarray  # (R,) float64


def new_counters(n_flows: int, n_links: int, n_routes: int | None = None) -> Counters:
    """Zeroed counters for a network of ``n_flows`` flows, ``n_links`` links and ``n_routes`` routes (default: one
    per flow)."""
    n_routes = n_flows if n_routes is None else n_routes
    return Counters(
        tx_packets=np.zeros(n_flows, np.int64),
        rx_packets=np.zeros(n_flows, np.int64),
        rx_bytes=np.zeros(n_flows),
        delay_sum=np.zeros(n_flows),
        delay_sq_sum=np.zeros(n_flows),
        jitter_sum=np.zeros(n_flows),
        hist_ptr=np.zeros(n_flows + 1, np.int64),
        hist_first=np.zeros(n_flows, np.int64),
        busy_time=np.zeros(n_links),
        wait_time=np.zeros(n_links),
        link_drops=np.zeros(n_links, np.int64),
        link_tx=np.zeros(n_links, np.int64),
        route_tx=np.zeros(n_routes, np.int64),
        route_rx=np.zeros(n_routes, np.int64),
        route_rx_bytes=np.zeros(n_routes),
        route_delay_sum=np.zeros(n_routes),
        route_delay_sq_sum=np.zeros(n_routes),
    )


# ------------------------------------------------------------------------------------------------------------
# Flows: everything the event loop reads or writes about flow f is the one record fl[f] (FLOW_DTYPE), its generator
# state, parameters, source state and counters side by side, so that a send touches a few cache lines of one
# record rather than one line in each of twenty arrays, and a compiled call takes one array instead of twenty (each
# array a call takes costs reference counting, two atomic operations, on every call).

FLOW_DTYPE = np.dtype(
    [
        # xoshiro256** state
        ("s0", np.uint64),
        ("s1", np.uint64),
        ("s2", np.uint64),
        ("s3", np.uint64),
        # read on every send
        ("model", np.int64),  # CBR / POISSON / ONOFF / UNIFORM_GAP / NORMAL_GAP / PPBP
        ("size_dist", np.int64),  # FIXED / EXPONENTIAL / DISCRETE / UNIFORM_SIZE
        ("rate", np.float64),  # bit/s while sending (one burst's rate for ppbp)
        ("size_mean", np.float64),  # bytes
        # source state
        ("size", np.float64),  # size of the next packet, bytes
        ("mark", np.float64),  # cbr/uniform/normal: the random phase; onoff/ppbp: when the countdown began
        ("count", np.int64),  # cbr/uniform/normal: packets scheduled so far
        ("on_end", np.float64),  # onoff: end of the current on period; ppbp: start of the next burst
        ("residual", np.float64),  # onoff/ppbp: bits of the next packet already sent
        ("bursts", np.int64),  # ppbp: active bursts (their end times are in burst_end)
        ("first_hop", np.int64),  # index of its first link in the loop's path array (split flow: -1 - first route)
        ("tos", np.int64),
        # the other laws' parameters (see FlowArrays)
        ("spread", np.float64),
        ("gap_std", np.float64),
        ("tau_on", np.float64),
        ("tau_off", np.float64),
        ("size_lo", np.float64),
        ("size_hi", np.float64),
        ("sizes_at", np.int64),  # discrete sizes: the flow's stretch of the size table
        ("sizes_end", np.int64),
        ("burst_rate", np.float64),
        ("burst_min", np.float64),
        ("burst_max", np.float64),
        ("pareto_shape", np.float64),
        ("burst_at", np.int64),  # ppbp: the flow's stretch of burst_end
        ("burst_room", np.int64),
        # counters over the window
        ("tx_packets", np.int64),
        ("rx_packets", np.int64),
        ("rx_bytes", np.float64),
        ("delay_sum", np.float64),
        ("delay_sq_sum", np.float64),
        ("jitter_sum", np.float64),
        ("last_delay", np.float64),  # delay of the previous received measured packet (NaN before the first)
        ("hist_at", np.int64),  # the flow's stretch of the histogram pool: its offset,
        ("hist_lo", np.int64),  # the bin of its first count
        ("hist_len", np.int64),  # and its length (0 before the first measured packet is received)
    ]
)
"""One flow in the event loop (FLOW_BYTES bytes)."""

FLOW_BYTES = FLOW_DTYPE.itemsize


@njit(cache=True)
def pack_flows(flows, rng):
    """The flow records of ``flows`` (a :class:`FlowArrays`) with generator states ``rng`` (F, 4); the (2, K)
    table of discrete sizes (values, cumulative probabilities); and the loop's path array: each route's links
    followed by its end marker (see "Split flows" above), so that a packet's next link tells whether it has
    arrived. Route ``k`` starts at ``path_ptr[k] + k`` in it."""
    n = flows.rate.shape[0]
    n_routes = flows.path_ptr.shape[0] - 1
    fl = np.zeros(n, dtype=FLOW_DTYPE)
    hops = np.empty(flows.path_links.shape[0] + n_routes, np.int32)
    for f in range(n):
        r = fl[f]
        r.s0 = rng[f, 0]
        r.s1 = rng[f, 1]
        r.s2 = rng[f, 2]
        r.s3 = rng[f, 3]
        r.model = flows.model[f]
        r.size_dist = flows.size_dist[f]
        r.rate = flows.rate[f]
        r.size_mean = flows.size_mean[f]
        r.tos = flows.tos[f]
        r.spread = flows.spread[f]
        r.gap_std = flows.gap_std[f]
        r.tau_on = flows.tau_on[f]
        r.tau_off = flows.tau_off[f]
        r.size_lo = flows.size_lo[f]
        r.size_hi = flows.size_hi[f]
        r.sizes_at = flows.size_ptr[f]
        r.sizes_end = flows.size_ptr[f + 1]
        r.burst_rate = flows.burst_rate[f]
        r.burst_min = flows.burst_min[f]
        r.burst_max = flows.burst_max[f]
        r.pareto_shape = flows.pareto_shape[f]
        r.burst_at = flows.burst_ptr[f]
        r.burst_room = flows.burst_ptr[f + 1] - flows.burst_ptr[f]
        r.last_delay = np.nan
        first, end = flows.route_ptr[f], flows.route_ptr[f + 1]
        r.first_hop = flows.path_ptr[first] + first if end - first == 1 else -1 - first
        for k in range(first, end):
            at = flows.path_ptr[k] + k
            for j in range(flows.path_ptr[k], flows.path_ptr[k + 1]):
                hops[at] = flows.path_links[j]
                at += 1
            hops[at] = -1 if end - first == 1 else -2 - k
    sizes = np.empty((2, flows.size_values.shape[0]))
    sizes[0] = flows.size_values
    sizes[1] = flows.size_cum
    return fl, sizes, hops


# ------------------------------------------------------------------------------------------------------------
# Random numbers: xoshiro256** (Blackman & Vigna, 2018), one generator per flow, its state in the flow's record.

_ONE_53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def next_u64(r):
    """Next 64-bit output of the generator of flow record ``r``."""
    s0, s1, s2, s3 = r.s0, r.s1, r.s2, r.s3
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    r.s0, r.s1, r.s2, r.s3 = s0, s1, s2, s3
    return result


@njit(cache=True)
def uniform(r):
    """A double uniform in [0, 1) from the top 53 bits of the next output."""
    return float(next_u64(r) >> np.uint64(11)) * _ONE_53


@njit(cache=True)
def exponential(r, mean):
    """An exponential variate with the given mean, by inversion (``1 - u`` is in (0, 1])."""
    return -mean * np.log(1.0 - uniform(r))


@njit(cache=True)
def normal(r):
    """A standard normal variate by Box–Muller: two uniforms, the cosine branch."""
    radius = np.sqrt(-2.0 * np.log(1.0 - uniform(r)))
    return radius * np.cos(2.0 * np.pi * uniform(r))


@njit(cache=True)
def truncated_pareto(r, low, high, shape):
    """A Pareto variate of ``shape`` and scale ``low`` truncated to [low, high], by inversion of its CDF
    ``(1 − (low/x)^shape) / (1 − (low/high)^shape)``."""
    u = uniform(r)
    tail = -np.expm1(shape * np.log(low / high))  # 1 − (low/high)^shape
    return min(high, low * np.exp(-np.log1p(-u * tail) / shape))


# ------------------------------------------------------------------------------------------------------------
# Traffic: each flow draws the size of its next packet, then the time its model sends it at, from and into its
# record r.


@njit(cache=True)
def _draw_size(r, sizes):
    dist = r.size_dist
    if dist == FIXED:
        return r.size_mean
    if dist == EXPONENTIAL:
        return exponential(r, r.size_mean)
    if dist == UNIFORM_SIZE:
        return r.size_lo + (r.size_hi - r.size_lo) * uniform(r)
    u = uniform(r)
    last = r.sizes_end - 1
    for k in range(r.sizes_at, last):
        if u < sizes[1, k]:
            return sizes[0, k]
    return sizes[0, last]


@njit(cache=True)
def _cbr_next(r):
    """CBR: packet k at ``phase + k·interval``, interval = mean size · 8 / rate."""
    interval = r.size_mean * 8.0 / r.rate
    t = r.mark + r.count * interval
    r.count += 1
    return t


@njit(cache=True)
def _onoff_next(r, duration):
    """On/off as ns-3's OnOffApplication.

    The next packet goes out once its bits, less the carried-over bits, have been 'sent' at ``rate`` since the
    countdown began. If the on period ends first, the bits sent so far carry over and the countdown resumes
    when the next on period starts, after an exponential off period.
    """
    rate = r.rate
    while True:
        t = r.mark + (r.size * 8.0 - r.residual) / rate
        if t < r.on_end:
            r.mark = t
            r.residual = 0.0
            return t
        r.residual += (r.on_end - r.mark) * rate
        on_start = r.on_end + exponential(r, r.tau_off)
        r.on_end = on_start + exponential(r, r.tau_on)
        r.mark = on_start
        if on_start >= duration:
            return np.inf


@njit(cache=True)
def _ppbp_next(r, duration, burst_end):
    """PPBP: the active bursts send ``rate`` each; the next packet goes out once its bits, less those already
    sent, have been sent at the bursts' summed rate. Between packets the number of active bursts changes when a
    burst ends or the next one starts (an end first at equal times)."""
    rate = r.rate
    base = r.burst_at
    room = r.burst_room
    while True:
        first_end = np.inf
        ending = -1
        for k in range(base, base + r.bursts):
            if burst_end[k] < first_end:
                first_end = burst_end[k]
                ending = k
        change = min(first_end, r.on_end)
        if r.bursts > 0:
            sending = r.bursts * rate
            t = r.mark + (r.size * 8.0 - r.residual) / sending
            if t <= change:
                r.mark = t
                r.residual = 0.0
                return t
            r.residual += (change - r.mark) * sending
        r.mark = change
        if change >= duration:
            return np.inf
        if first_end <= r.on_end:
            r.bursts -= 1
            burst_end[ending] = burst_end[base + r.bursts]
            continue
        length = truncated_pareto(r, r.burst_min, r.burst_max, r.pareto_shape) / rate
        if r.bursts < room:
            burst_end[base + r.bursts] = change + length
            r.bursts += 1
        else:
            latest = base
            for k in range(base + 1, base + r.bursts):
                if burst_end[k] > burst_end[latest]:
                    latest = k
            burst_end[latest] += length
        r.on_end = change + exponential(r, 1.0 / r.burst_rate)


@njit(cache=True)
def _draw_route(r, first, end, route_cum):
    """The route, among ``first .. end - 1``, of the packet a split flow sends: the first whose cumulative share
    exceeds a uniform draw (binary search; the last cumulative share is 1)."""
    u = uniform(r)
    lo, hi = first, end - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < route_cum[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def _start_source(r):
    """Initial source state: a random phase (cbr, uniform, normal), a first off and on period (onoff), or the
    first burst's start (ppbp)."""
    model = r.model
    if model in (CBR, UNIFORM_GAP, NORMAL_GAP):
        r.mark = uniform(r) * r.size_mean * 8.0 / r.rate
    elif model == ONOFF:
        on_start = exponential(r, r.tau_off)
        r.on_end = on_start + exponential(r, r.tau_on)
        r.mark = on_start
    elif model == PPBP:
        r.on_end = exponential(r, 1.0 / r.burst_rate)


@njit(cache=True)
def _schedule_send(r, now, duration, burst_end, sizes):
    """Draw the next packet size of flow record ``r``; return when it is sent (``inf`` if at or after
    ``duration``)."""
    r.size = _draw_size(r, sizes)
    model = r.model
    gap = r.size_mean * 8.0 / r.rate
    if model == CBR:
        t = _cbr_next(r)
    elif model == POISSON:
        t = now + exponential(r, gap)
    elif model == ONOFF:
        t = _onoff_next(r, duration)
    elif model == PPBP:
        t = _ppbp_next(r, duration, burst_end)
    elif r.count == 0:
        # uniform and normal: the first packet at the random phase, each later one a drawn gap after the last.
        r.count = 1
        t = r.mark
    elif model == UNIFORM_GAP:
        t = now + gap * (1.0 + r.spread * (2.0 * uniform(r) - 1.0))
    else:
        t = now + max(0.0, gap + r.gap_std * normal(r))
    return t if t < duration else np.inf


# ------------------------------------------------------------------------------------------------------------
# The scheduler: two tournament trees, one over the links' slots and one over the flows'. Node j holds the time
# `tkey[j]` and slot `tslot[j]` of the winner of its subtree (leaves at size..2·size−1, padded with inf), so that an
# update reads each sibling's stored winner instead of looking its time up; ties go to the left child, i.e. to the
# lower slot. A link event updates only the links' tree, whose depth does not grow with the number of flows.


@njit(cache=True)
def _tree_new(n_slots):
    size = 1
    while size < n_slots:
        size *= 2
    tkey = np.full(2 * size, np.inf)
    tslot = np.empty(2 * size, np.int32)
    for s in range(size):
        tslot[size + s] = s
    for j in range(size - 1, 0, -1):
        tslot[j] = tslot[2 * j]
    return tkey, tslot


@njit(cache=True)
def _tree_set(tkey, tslot, slot, t):
    """Set ``slot``'s time to ``t`` and replay its matches up to the root."""
    j = (tkey.shape[0] >> 1) + slot
    tkey[j] = t
    while j > 1:
        left = j & ~1
        j >>= 1
        a = tkey[left]
        b = tkey[left + 1]
        tkey[j] = a if a <= b else b
        tslot[j] = tslot[left] if a <= b else tslot[left + 1]


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
# Scheduled ports. Their state is packed into a few arrays, because every array a compiled call takes costs
# reference counting on each call, and the two steps the loop calls (_arrive, _catch_up) are inlined into it by numba
# for the same reason (2.4 vs 1.6 M packet-hops per CPU-second with every port of examples/nsfnet.yaml scheduled; the
# FIFO path keeps its speed):
# - qring (Q, 5) int64: per queue its ring in qpool (offset, capacity, head = oldest, tail = next free, as the link
#   rings) and its buffer;
# - qval (Q, 4) float64: per queue its WFQ weight, DRR quantum, WFQ tag of its latest packet, DRR deficit;
# - lstate (L, 6) int64: per link its first queue, number of queues, policy, packets waiting in its queues, the DRR
#   queue being visited (index within the link) and whether that visit has yet to add its quantum;
# - vtime (L,) float64: per link the WFQ tag of the packet last put into transmission.
Q_OFF, Q_CAP, Q_HEAD, Q_TAIL, Q_BUFFER = 0, 1, 2, 3, 4
Q_WEIGHT, Q_QUANTUM, Q_TAG, Q_DEFICIT = 0, 1, 2, 3
L_FIRST, L_QUEUES, L_POLICY, L_WAITING, L_DRR_AT, L_DRR_FRESH = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def _qslot(qring, q, counter):
    return qring[q, Q_OFF] + (counter & (qring[q, Q_CAP] - 1))


@njit(cache=True)
def _pick(link, qpool, qring, qval, lstate):
    """The queue (global index) whose head packet ``link`` sends next; some queue of the link is non-empty."""
    lo = lstate[link, L_FIRST]
    n = lstate[link, L_QUEUES]
    policy = lstate[link, L_POLICY]
    if policy == SP:
        for q in range(lo, lo + n):
            if qring[q, Q_TAIL] > qring[q, Q_HEAD]:
                return q
    if policy == WFQ:
        best = -1
        best_tag = np.inf
        for q in range(lo, lo + n):
            if qring[q, Q_TAIL] > qring[q, Q_HEAD]:
                tag = qpool[_qslot(qring, q, qring[q, Q_HEAD])].tag
                if best < 0 or tag < best_tag:
                    best = q
                    best_tag = tag
        return best
    while True:
        q = lo + lstate[link, L_DRR_AT]
        if qring[q, Q_TAIL] == qring[q, Q_HEAD]:
            qval[q, Q_DEFICIT] = 0.0
        else:
            if lstate[link, L_DRR_FRESH]:
                qval[q, Q_DEFICIT] += qval[q, Q_QUANTUM]
                lstate[link, L_DRR_FRESH] = 0
            size = qpool[_qslot(qring, q, qring[q, Q_HEAD])].size
            if size <= qval[q, Q_DEFICIT]:
                qval[q, Q_DEFICIT] -= size
                return q
        lstate[link, L_DRR_AT] = (lstate[link, L_DRR_AT] + 1) % n
        lstate[link, L_DRR_FRESH] = 1


@njit(cache=True, inline="always")
def _catch_up(
    link,
    now,
    warmup,
    duration,
    capacity,
    busy_time,
    wait_time,
    link_tx,
    pool,
    ring_off,
    ring_cap,
    ring_head,
    ring_tail,
    last_depart,
    qpool,
    qring,
    qval,
    lstate,
    vtime,
):
    """Start, in order, every transmission of scheduled ``link`` that begins at or before ``now``: each at the
    later of the link's last departure and the chosen packet's arrival. Returns the (possibly grown) link pool."""
    while last_depart[link] <= now and lstate[link, L_WAITING] > 0:
        q = _pick(link, qpool, qring, qval, lstate)
        p = qpool[_qslot(qring, q, qring[q, Q_HEAD])]
        qring[q, Q_HEAD] += 1
        lstate[link, L_WAITING] -= 1
        if lstate[link, L_POLICY] == DRR and qring[q, Q_HEAD] == qring[q, Q_TAIL]:
            qval[q, Q_DEFICIT] = 0.0
            lstate[link, L_DRR_AT] = (lstate[link, L_DRR_AT] + 1) % lstate[link, L_QUEUES]
            lstate[link, L_DRR_FRESH] = 1
        start = max(last_depart[link], p.arrive)
        depart = start + p.size * 8.0 / capacity[link]
        last_depart[link] = depart
        vtime[link] = p.tag
        busy_time[link] += _overlap(start, depart, warmup, duration)
        wait_time[link] += _overlap(p.arrive, start, warmup, duration)
        if warmup <= start < duration:
            link_tx[link] += 1
        if ring_tail[link] - ring_head[link] == ring_cap[link]:
            pool = _grow_rings(pool, ring_off, ring_cap, ring_head, ring_tail, link)
        i = _slot(ring_off, ring_cap, link, ring_tail[link])
        pool[i].flow = p.flow
        pool[i].pos = p.pos
        pool[i].size = p.size
        pool[i].birth = p.birth
        pool[i].depart = depart
        ring_tail[link] += 1
    return pool


@njit(cache=True, inline="always")
def _arrive(
    link,
    f,
    tos,
    pos,
    size,
    birth,
    now,
    warmup,
    duration,
    capacity,
    delay,
    busy_time,
    wait_time,
    link_tx,
    link_drops,
    lkey,
    lslot,
    pool,
    ring_off,
    ring_cap,
    ring_head,
    ring_tail,
    last_depart,
    qpool,
    qring,
    qval,
    lstate,
    vtime,
):
    """A packet of flow ``f`` (class ``tos``) arrives at scheduled ``link``: drop it if its queue is full while the
    link sends, else queue it (and send it at once if the link is idle). Returns the (possibly grown) link and queue
    pools."""
    if last_depart[link] <= now and lstate[link, L_WAITING] > 0:
        pool = _catch_up(
            link,
            now,
            warmup,
            duration,
            capacity,
            busy_time,
            wait_time,
            link_tx,
            pool,
            ring_off,
            ring_cap,
            ring_head,
            ring_tail,
            last_depart,
            qpool,
            qring,
            qval,
            lstate,
            vtime,
        )
    lo = lstate[link, L_FIRST]
    q = lo + tos
    idle = last_depart[link] <= now
    if not idle and qring[q, Q_TAIL] - qring[q, Q_HEAD] >= qring[q, Q_BUFFER]:
        if birth >= warmup:
            link_drops[link] += 1
        return pool, qpool
    if idle:
        # A new busy period: WFQ's virtual time and tags restart.
        vtime[link] = 0.0
        for k in range(lo, lo + lstate[link, L_QUEUES]):
            qval[k, Q_TAG] = 0.0
    tag = 0.0
    if lstate[link, L_POLICY] == WFQ:
        tag = max(qval[q, Q_TAG], vtime[link]) + size * 8.0 / qval[q, Q_WEIGHT]
        qval[q, Q_TAG] = tag
    if qring[q, Q_TAIL] - qring[q, Q_HEAD] == qring[q, Q_CAP]:
        qpool = _grow_rings(qpool, qring[:, Q_OFF], qring[:, Q_CAP], qring[:, Q_HEAD], qring[:, Q_TAIL], q)
    i = _qslot(qring, q, qring[q, Q_TAIL])
    qpool[i].flow = f
    qpool[i].pos = pos
    qpool[i].size = size
    qpool[i].birth = birth
    qpool[i].arrive = now
    qpool[i].tag = tag
    qring[q, Q_TAIL] += 1
    lstate[link, L_WAITING] += 1
    if idle:
        was_empty = ring_tail[link] == ring_head[link]
        pool = _catch_up(
            link,
            now,
            warmup,
            duration,
            capacity,
            busy_time,
            wait_time,
            link_tx,
            pool,
            ring_off,
            ring_cap,
            ring_head,
            ring_tail,
            last_depart,
            qpool,
            qring,
            qval,
            lstate,
            vtime,
        )
        if was_empty:
            head = pool[_slot(ring_off, ring_cap, link, ring_head[link])]
            _tree_set(lkey, lslot, link, head.depart + delay[link])
    return pool, qpool


# ------------------------------------------------------------------------------------------------------------
# Delay histograms: flow f counts bins hist_lo .. hist_lo + hist_len − 1 in hpool[hist_at : hist_at + hist_len].

HIST_START = 32
"""Bins of a flow's first histogram stretch."""


@njit(cache=True)
def _hist_compact(hpool, fl, room):
    """A pool holding every flow's stretch, packed in flow order, then ``room`` free counts. Returns (pool, used)."""
    used = 0
    for f in range(fl.shape[0]):
        used += fl[f].hist_len
    new = np.zeros(used + room, np.int64)
    at = 0
    for f in range(fl.shape[0]):
        r = fl[f]
        new[at : at + r.hist_len] = hpool[r.hist_at : r.hist_at + r.hist_len]
        r.hist_at = at
        at += r.hist_len
    return new, used


@njit(cache=True)
def _hist_grow(hpool, used, fl, f, k, bins):
    """Give flow ``f`` a stretch that covers bin ``k`` and its counts so far. Returns (pool, used)."""
    r = fl[f]
    if r.hist_len == 0:
        length = min(HIST_START, bins)
        lo = min(max(0, k - length // 2), bins - length)
    else:
        a = min(r.hist_lo, k)
        b = max(r.hist_lo + r.hist_len, k + 1)
        length = min(bins, max(2 * r.hist_len, b - a + HIST_START))
        # The room goes on the side the delays moved to.
        lo = max(0, b - length) if k < r.hist_lo else min(a, bins - length)
    if used + length > hpool.shape[0]:
        live = length
        for g in range(fl.shape[0]):
            live += fl[g].hist_len
        # Twice what the pool will hold: the stretches (live − length) and room for live + length more.
        hpool, used = _hist_compact(hpool, fl, live + length)
    if r.hist_len > 0:
        shift = used + r.hist_lo - lo
        hpool[shift : shift + r.hist_len] = hpool[r.hist_at : r.hist_at + r.hist_len]
    r.hist_at = used
    r.hist_lo = lo
    r.hist_len = length
    return hpool, used + length


# ------------------------------------------------------------------------------------------------------------
# The event loop.


@njit(cache=True)
def run(links, flows, rng, duration, warmup, hist_min, hist_ratio, hist_bins, out):
    """Simulate until every sent packet is received or dropped; fill ``out`` (a :class:`Counters`).

    ``rng`` is the (F, 4) uint64 generator state, advanced in place. Returns
    ``(packets, packet_hops, events, counts)``: packets generated, packet arrivals at links (transmissions plus
    drops), events processed, and the delay histograms' counts (see ``Counters.hist_ptr``).
    """
    n_links = links.capacity.shape[0]
    n_flows = flows.rate.shape[0]
    inv_log_ratio = 1.0 / np.log(hist_ratio)

    lkey, lslot = _tree_new(n_links)
    fkey, fslot = _tree_new(n_flows)

    pool = np.empty(INITIAL_RING * n_links, dtype=RING_DTYPE)
    ring_cap = np.full(n_links, INITIAL_RING, np.int64)
    ring_off = np.arange(n_links) * INITIAL_RING
    ring_head = np.zeros(n_links, np.int64)
    ring_queue = np.zeros(n_links, np.int64)
    ring_tail = np.zeros(n_links, np.int64)
    last_depart = np.zeros(n_links)

    # Queues of scheduled ports (a FIFO link's one queue is never used: room for one packet).
    n_queues = links.queue_buffer.shape[0]
    qring = np.zeros((n_queues, 5), np.int64)
    qval = np.zeros((n_queues, 4))
    lstate = np.zeros((n_links, 6), np.int64)
    vtime = np.zeros(n_links)
    for link in range(n_links):
        lo = links.queue_ptr[link]
        lstate[link, L_FIRST] = lo
        lstate[link, L_QUEUES] = links.queue_ptr[link + 1] - lo
        lstate[link, L_POLICY] = links.policy[link]
        lstate[link, L_DRR_FRESH] = 1
        for q in range(lo, links.queue_ptr[link + 1]):
            qring[q, Q_CAP] = 1 if links.policy[link] == FIFO else INITIAL_RING
    for q in range(n_queues):
        if q > 0:
            qring[q, Q_OFF] = qring[q - 1, Q_OFF] + qring[q - 1, Q_CAP]
        qring[q, Q_BUFFER] = links.queue_buffer[q]
        qval[q, Q_WEIGHT] = links.queue_weight[q]
        qval[q, Q_QUANTUM] = links.quantum[q]
    qpool = np.empty(qring[-1, Q_OFF] + qring[-1, Q_CAP], dtype=QUEUE_DTYPE)

    fl, sizes, path = pack_flows(flows, rng)
    hpool = np.zeros(HIST_START * min(n_flows, 1024), np.int64)
    hist_used = 0
    burst_end = np.empty(flows.burst_ptr[n_flows])

    for f in range(n_flows):
        r = fl[f]
        _start_source(r)
        t = _schedule_send(r, 0.0, duration, burst_end, sizes)
        _tree_set(fkey, fslot, f, t)

    packets = 0
    hops = 0
    events = 0
    while True:
        # The earliest event; links first at equal times.
        if lkey[1] <= fkey[1]:
            kind = HOP
            slot = lslot[1]
            now = lkey[1]
        else:
            kind = SEND
            slot = fslot[1]
            now = fkey[1]
        if now == np.inf:
            break
        events += 1

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
            if links.policy[link] != FIFO and last_depart[link] <= now and lstate[link, L_WAITING] > 0:
                pool = _catch_up(
                    link,
                    now,
                    warmup,
                    duration,
                    links.capacity,
                    out.busy_time,
                    out.wait_time,
                    out.link_tx,
                    pool,
                    ring_off,
                    ring_cap,
                    ring_head,
                    ring_tail,
                    last_depart,
                    qpool,
                    qring,
                    qval,
                    lstate,
                    vtime,
                )
            if ring_head[link] < ring_tail[link]:
                nxt = pool[_slot(ring_off, ring_cap, link, ring_head[link])].depart + links.delay[link]
            else:
                nxt = np.inf
            _tree_set(lkey, lslot, link, nxt)
            pos += 1
            end = path[pos]
            if end < 0:
                # Received at the destination.
                if birth >= warmup:
                    d = now - birth
                    # A split flow's route first: after the histogram update this branch slowed every flow's
                    # reception (about 5 % of all packet-hops on NSFNET), here it costs nothing measurable.
                    if end < -1:
                        route = -2 - end
                        out.route_rx[route] += 1
                        out.route_rx_bytes[route] += size
                        out.route_delay_sum[route] += d
                        out.route_delay_sq_sum[route] += d * d
                    r = fl[f]
                    r.rx_packets += 1
                    r.rx_bytes += size
                    r.delay_sum += d
                    r.delay_sq_sum += d * d
                    if not np.isnan(r.last_delay):
                        r.jitter_sum += abs(d - r.last_delay)
                    r.last_delay = d
                    k = 0
                    if d >= hist_min:
                        k = min(int(np.log(d / hist_min) * inv_log_ratio) + 1, hist_bins - 1)
                    if k < r.hist_lo or k >= r.hist_lo + r.hist_len:
                        hpool, hist_used = _hist_grow(hpool, hist_used, fl, f, k, hist_bins)
                    hpool[r.hist_at + k - r.hist_lo] += 1
                continue
        else:
            # Flow `f` sends a packet and schedules its next one.
            f = slot
            r = fl[f]
            size = r.size
            birth = now
            pos = r.first_hop
            packets += 1
            if pos < 0:
                # A split flow: the packet's route, by the shares.
                route = _draw_route(r, -1 - pos, flows.route_ptr[f + 1], flows.route_cum)
                pos = flows.path_ptr[route] + route
                if birth >= warmup:
                    out.route_tx[route] += 1
            if birth >= warmup:
                r.tx_packets += 1
            t = _schedule_send(r, now, duration, burst_end, sizes)
            _tree_set(fkey, fslot, f, t)

        # The packet arrives at the link path[pos]: drop it, or queue it behind the link's last packet.
        link = path[pos]
        hops += 1
        if links.policy[link] != FIFO:
            pool, qpool = _arrive(
                link,
                f,
                fl[f].tos,
                pos,
                size,
                birth,
                now,
                warmup,
                duration,
                links.capacity,
                links.delay,
                out.busy_time,
                out.wait_time,
                out.link_tx,
                out.link_drops,
                lkey,
                lslot,
                pool,
                ring_off,
                ring_cap,
                ring_head,
                ring_tail,
                last_depart,
                qpool,
                qring,
                qval,
                lstate,
                vtime,
            )
            continue
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
            _tree_set(lkey, lslot, link, depart + links.delay[link])

    for f in range(n_flows):
        r = fl[f]
        rng[f, 0], rng[f, 1], rng[f, 2], rng[f, 3] = r.s0, r.s1, r.s2, r.s3
        out.tx_packets[f] = r.tx_packets
        out.rx_packets[f] = r.rx_packets
        out.rx_bytes[f] = r.rx_bytes
        out.delay_sum[f] = r.delay_sum
        out.delay_sq_sum[f] = r.delay_sq_sum
        out.jitter_sum[f] = r.jitter_sum
        out.hist_first[f] = r.hist_lo
        out.hist_ptr[f + 1] = out.hist_ptr[f] + r.hist_len
        if r.first_hop >= 0:
            route = flows.route_ptr[f]
            out.route_tx[route] = r.tx_packets
            out.route_rx[route] = r.rx_packets
            out.route_rx_bytes[route] = r.rx_bytes
            out.route_delay_sum[route] = r.delay_sum
            out.route_delay_sq_sum[route] = r.delay_sq_sum
    counts, _ = _hist_compact(hpool, fl, 0)
    return packets, hops, events, counts
