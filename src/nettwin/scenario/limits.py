"""Upper bounds on what a scenario file or a dataset spec may ask for, each with the reason it sits where it does.

A value beyond a limit is refused with one line that names the field and the limit, instead of overflowing to
infinity, exhausting memory or running for days. The limits are far above anything a real network needs.
"""

from __future__ import annotations

__all__ = [
    "MAX_RATE",
    "MAX_PACKET_SIZE",
    "MAX_DURATION",
    "MAX_BUFFER",
    "MAX_COORDINATE",
    "MAX_NODES",
    "MAX_FLOWS",
    "MAX_SAMPLES",
    "MAX_NESTING",
    "MAX_VALUES",
    "MAX_INT_DIGITS",
    "MAX_RUNS",
    "MAX_SEED",
    "MAX_PATHS",
]

MAX_RATE = 1e15
"""Largest rate (bit/s) of a link or a flow, 1 Pbit/s: a thousand times the fastest Ethernet port, yet small enough
that a one-byte packet still takes 8e-15 s to send, which float64 seconds resolve over a whole simulation."""

MAX_PACKET_SIZE = 65535.0
"""Largest packet (bytes): the IPv4 maximum datagram, the largest packet a point-to-point link carries unfragmented
(ns-3's links are given that MTU)."""

MAX_DURATION = 1e6
"""Longest simulated time, link delay or on/off period (s), about 11.6 days: float64 seconds still resolve a
nanosecond (ns-3's time step) at that time (1e6 · 2⁻⁵² ≈ 2e-10 s), and ns-3 refuses link delays from 1e6 s on."""

MAX_BUFFER = 1_000_000
"""Largest link buffer (packets): 1.5 GB of 1500-byte packets queued at one port, beyond any router."""

MAX_COORDINATE = 1e7
"""Largest node coordinate, grid spacing or displacement (m), 10,000 km: keeps squared distances finite."""

MAX_NODES = 10_000
"""Most nodes of a generated grid: a wireless medium compares every pair of nodes, about 25·n² bytes (2.5 GB here)."""

MAX_FLOWS = 1_000_000
"""Most flows drawn for one sample (``flows.random.count``): every flow is routed and simulated one by one."""

MAX_SAMPLES = 10_000_000
"""Most samples in one dataset: the split assignment holds 16 bytes per sample in memory (160 MB here), and at a
millisecond of simulation per sample the dataset already takes hours to generate."""

MAX_NESTING = 64
"""Deepest nesting of lists and mappings in a file nettwin reads (a scenario nests about 6 deep): checked before
parsing recurses, so that a hostile file cannot exhaust the interpreter's stack."""

MAX_VALUES = 10_000_000
"""Most values (scalars, lists, mappings) in a file nettwin reads, counting every repeat of a YAML alias: a scenario
with a million flows fits, while an alias bomb that expands to billions of values is refused before it is walked."""

MAX_INT_DIGITS = 308
"""Longest integer literal read exactly; longer ones are beyond float range, so they are read as infinity and the
field that receives one refuses it as not finite (Python refuses to convert integers of more than 4300 digits)."""

MAX_RUNS = 1000
"""Most independent runs of one scenario in one call: SimBase uses at most four, and statistics over runs settle
long before a thousand; each run is a whole simulation, so more is a typo rather than a plan."""

MAX_SEED = 2**63 - 1
"""Largest seed: seeds reach compiled kernels and PyTorch as signed 64-bit integers."""

MAX_PATHS = 4096
"""Most paths one flow may split over: each is simulated and predicted as a route of its own, and equal-cost
paths grow exponentially with a grid's size, so a bound keeps an ECMP scenario from asking for millions."""
