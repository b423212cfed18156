"""Speed of network edits (``nettwin.scenario.edits``): edits per CPU-second of each kind, next to rebuilding the
network from its scenario.

Two networks:

(a) NSFNET (14 nodes, 42 directed links) with a flow between every ordered pair of nodes (182 flows);
(b) a 100-node Waxman topology (``random: {model: waxman, nodes: 100}``) with ``--flows`` random flows (default 1000).

Each routed by shortest path (hops) and by ECMP. For each kind, ``--repeat`` edits are made on the network as built
(a failure and its restore alternate: the restore applies to the failed network), and the CPU time per edit is
reported; CPU time, since on a shared machine wall time overstates what an edit costs.

Usage::

    .venv/bin/python benchmarks/network_edits.py [--repeat 500] [--flows 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import numpy as np

from nettwin.scenario import (
    AddFlow,
    AddLink,
    ChangeDestination,
    ChangeLink,
    ChangePaths,
    ChangeRate,
    FailLink,
    FailNode,
    Network,
    RemoveFlow,
    RestoreLink,
    RestoreNode,
    build_network,
    parse_scenario,
)

POISSON = {"model": "poisson", "rate": "100kbps"}


def scenario(topology: dict, pairs: list[tuple[int, int]], policy: str) -> dict:
    flows = [{"src": s, "dst": t, "traffic": POISSON} for s, t in pairs]
    return {"topology": topology, "flows": flows, "routing": {"policy": policy}}


def cpu_per_call(fn: Callable[[int], object], repeat: int) -> float:
    """CPU seconds per call of ``fn(i)``, ``i`` in 0..repeat-1."""
    start = time.process_time()
    for i in range(repeat):
        fn(i)
    return (time.process_time() - start) / repeat


def measure(net: Network, data: dict, repeat: int, rng: np.random.Generator) -> dict[str, float]:
    """CPU seconds per edit of each kind on ``net``."""
    n = net.n_nodes
    ends = [(int(net.link_src[k]), int(net.link_dst[k])) for k in rng.integers(0, net.n_links, repeat)]
    node = [int(u) for u in rng.integers(0, n, repeat)]
    flow = [int(f) for f in rng.integers(0, net.n_flows, repeat)]
    failed = [FailLink(u, v, bidirectional=True, unreachable="drop").apply(net) for u, v in ends[:200]]
    nodes_down = [FailNode(u, unreachable="drop").apply(net) for u in node[:200]]
    have = set(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True))
    absent = [p for p in itertools.permutations(range(n), 2) if p not in have]
    new = [absent[int(k)] for k in rng.integers(0, len(absent), repeat)]
    dests = [d if d != net.flows[f].src else (d + 1) % n for f, d in zip(flow, node, strict=True)]
    own_path = [[list(net.path_nodes(f))] for f in flow]
    added = {"src": 0, "dst": n - 1, "traffic": POISSON}
    by_delay = build_network(parse_scenario({**data, "routing": {**data["routing"], "weight": "delay"}}))
    delays = rng.uniform(1e-3, 5e-3, repeat)
    k = len(failed)
    return {
        "rebuild (build_network)": cpu_per_call(lambda i: build_network(parse_scenario(data)), max(5, repeat // 100)),
        "FailLink (both ways)": cpu_per_call(
            lambda i: FailLink(*ends[i], bidirectional=True, unreachable="drop").apply(net), repeat
        ),
        "RestoreLink (both ways)": cpu_per_call(
            lambda i: RestoreLink(*ends[i % k], bidirectional=True).apply(failed[i % k]), repeat
        ),
        "FailNode": cpu_per_call(lambda i: FailNode(node[i], unreachable="drop").apply(net), repeat),
        "RestoreNode": cpu_per_call(lambda i: RestoreNode(node[i % k]).apply(nodes_down[i % k]), repeat),
        "ChangeLink capacity": cpu_per_call(lambda i: ChangeLink(*ends[i], capacity=2e7).apply(net), repeat),
        "ChangeLink delay (routing by delay)": cpu_per_call(
            lambda i: ChangeLink(*ends[i], delay=float(delays[i])).apply(by_delay), repeat
        ),
        "AddLink": cpu_per_call(lambda i: AddLink(*new[i]).apply(net), repeat),
        "ChangeRate": cpu_per_call(lambda i: ChangeRate(flow[i], 2e5).apply(net), repeat),
        "ChangeDestination": cpu_per_call(lambda i: ChangeDestination(flow[i], dests[i]).apply(net), repeat),
        "ChangePaths (pin to a path)": cpu_per_call(lambda i: ChangePaths(flow[i], own_path[i]).apply(net), repeat),
        "AddFlow": cpu_per_call(lambda i: AddFlow(added).apply(net), repeat),
        "RemoveFlow": cpu_per_call(lambda i: RemoveFlow(flow[i]).apply(net), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=500, help="edits of each kind")
    parser.add_argument("--flows", type=int, default=1000, help="random flows on the 100-node topology")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    waxman = {"random": {"model": "waxman", "nodes": 100, "seed": 1, "alpha": 0.15}}
    pairs = sorted({(int(s), int(t)) for s, t in rng.integers(0, 100, (args.flows * 2, 2)) if s != t})
    pairs = [pairs[int(k)] for k in np.sort(rng.choice(len(pairs), args.flows, replace=False))]
    cases = {
        "NSFNET": ({"builtin": "nsfnet"}, list(itertools.permutations(range(14), 2))),
        "waxman-100": (waxman, pairs),
    }
    for name, (topology, flows) in cases.items():
        for policy in ("shortest_path", "ecmp"):
            data = scenario(topology, flows, policy)
            net = build_network(parse_scenario(data))
            print(f"\n{name}, {policy}: {net.n_nodes} nodes, {net.n_links} links, {net.n_flows} flows")
            print(f"  {'edit':38s} {'edits/s':>10s} {'us/edit':>10s}")
            for kind, seconds in measure(net, data, args.repeat, rng).items():
                print(f"  {kind:38s} {1 / seconds:10,.0f} {seconds * 1e6:10,.0f}")


if __name__ == "__main__":
    main()
