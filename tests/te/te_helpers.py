"""Tiny hand-made TE instances shared by the TE tests (imported as a plain module)."""

from __future__ import annotations

import numpy as np

from nettwin.te import TEGraph, TEInstance, compute_paths
from nettwin.testing.solvers import te_instances


def triangle(demand: float = 34.0, capacity: float = 10.0) -> TEInstance:
    """a–b–c with a direct a–c link, all of ``capacity``; one demand a→c. Optimum MLU = demand / (2·capacity)."""
    g = TEGraph.from_links(["a", "b", "c"], [("a", "b", capacity), ("b", "c", capacity), ("a", "c", capacity)])
    return TEInstance(g, compute_paths(g, np.array([[0, 2]])), np.array([demand]), "triangle")


def random_instance(seed: int, n: int = 6, k: int = 3) -> TEInstance:
    """A random connected graph of ``n`` nodes with random capacities and an all-pairs random demand."""
    return te_instances(1, seed, n, k)[0]


# Two routes from a to b: the direct link (10 Gbit/s) and a→c→b (bottleneck 30 Gbit/s). A demand D from a to b
# is best split 1/4 : 3/4 and loads every link of both routes to D / 40 Gbit/s.
SCENARIO = """\
name: two-routes
topology:
  nodes: [a, b, c]
  links:
    - {src: a, dst: b, capacity: 10Gbps}
    - {src: a, dst: c, capacity: 30Gbps}
    - {src: c, dst: b, capacity: 60Gbps}
flows:
  - {src: a, dst: b}
"""

# The two-routes network as a whole scenario, at megabit rates a simulation runs in a second or two: one Poisson flow
# of 20 Mbit/s from a to b, best split 1/4 : 3/4 (MLU 0.5: a→b and a→c at 0.5, c→b at 0.25).
NETWORK = """\
name: two-routes
topology:
  nodes: [a, b, c]
  defaults: {delay: 1ms, buffer: 64}
  links:
    - {src: a, dst: b, capacity: 10Mbps}
    - {src: a, dst: c, capacity: 30Mbps}
    - {src: c, dst: b, capacity: 60Mbps}
flows:
  - {src: a, dst: b, traffic: {model: poisson, rate: 20Mbps, packet_size: 1000}}
simulation: {duration: 2s, seed: 5}
"""

GML = """\
graph [
  name "two-routes"
  node [ id 0 label "a" ]
  node [ id 1 label "b" ]
  node [ id 2 label "c" ]
  edge [ source 0 target 1 capacity "10Gbps" ]
  edge [ source 0 target 2 capacity "30Gbps" ]
  edge [ source 2 target 1 capacity 60000000000 ]
]
"""

SNDLIB = """\
?SNDlib native format; type: network; version: 1.0
# a→b only
META (
  granularity = 15min
)
DEMANDS (
  D_a_b ( a b ) 1 30000.00 UNLIMITED
)
"""
