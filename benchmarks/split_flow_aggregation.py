"""How well does a split flow's KPIs follow from its paths' (``nettwin.sim.kpi.aggregate_routes``)? The built-in
engine's per-packet split against the aggregate of its paths simulated as flows of their own.

One Poisson flow of exponentially sized packets goes from s to t split 70/30 over s→a→t and s→b→t (one-way
1 Mbps links, no propagation delay, large buffers); the path carrying 70 % is loaded to ``--load`` of its
capacity. The engine simulates the split flow once and the two paths as separate flows once (same duration and
seed); the script prints, per KPI, the split flow's value, the aggregate of the separate paths' values and their
relative gap, then queueing theory's value for the split flow.

Run from the repository root::

    .venv/bin/python benchmarks/split_flow_aggregation.py                     # load 0.84, 2000 s
    .venv/bin/python benchmarks/split_flow_aggregation.py --load 0.6 --duration 4000
"""

from __future__ import annotations

import argparse

from nettwin.scenario import build_network, parse_scenario
from nettwin.sim import get_engine
from nettwin.sim.analytic import QueueingModel
from nettwin.sim.kpi import aggregate_routes

KPIS = ("delay", "delay_std", "jitter", "delay_p50", "delay_p90", "delay_p99", "throughput", "drop_rate")
SIZE = 1000  # mean bytes
CAPACITY = 1e6


def split_network(load: float, duration: float):
    """The s -> {a, b} -> t network with its one flow split 70/30."""
    links = [
        {"src": u, "dst": v, "capacity": CAPACITY, "buffer": 100_000, "delay": 0, "bidirectional": False}
        for u, v in (("s", "a"), ("a", "t"), ("s", "b"), ("b", "t"))
    ]
    flow = {
        "src": "s",
        "dst": "t",
        "traffic": {
            "model": "poisson",
            "rate": load * CAPACITY / 0.7,
            "packet_size": {"dist": "exponential", "mean": SIZE},
        },
        "paths": [{"path": ["s", "a", "t"], "share": 0.7}, {"path": ["s", "b", "t"], "share": 0.3}],
    }
    return build_network(
        parse_scenario(
            {
                "topology": {"nodes": ["s", "a", "b", "t"], "links": links},
                "flows": [flow],
                "simulation": {"duration": duration, "seed": 1},
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=float, default=0.84, help="load of the path carrying 70 %% (default 0.84)")
    parser.add_argument("--duration", type=float, default=2000.0, help="simulated seconds (default 2000)")
    args = parser.parse_args()
    net = split_network(args.load, args.duration)
    engine = get_engine("builtin")
    split = engine.simulate(net).flows
    paths = engine.simulate(net.subflows()).flows
    aggregate = aggregate_routes({k: paths[k] for k in KPIS}, net.route_flow, net.route_share, net.n_flows)
    qt = QueueingModel().simulate(net).flows
    print(f"{'KPI':10s} {'split flow':>12s} {'aggregate':>12s} {'gap':>7s} {'QT':>12s}")
    for k in KPIS:
        s, a = float(split[k][0]), float(aggregate[k][0])
        gap = f"{a / s - 1:+.1%}" if s else "-"
        print(f"{k:10s} {s:12.5g} {a:12.5g} {gap:>7s} {float(qt[k][0]):12.5g}")


if __name__ == "__main__":
    main()
