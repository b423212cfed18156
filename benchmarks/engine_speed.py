"""Speed and memory of the built-in engine.

Reports packet-hops (packet arrivals at links; a warm-up run first, so compilation is excluded) per second of the
kernel's wall time, per CPU-second of the kernel, and per CPU-second of the whole ``simulate`` call (checks, arrays,
KPIs), on

(a) NSFNET (14 nodes, 42 directed links) with random Poisson flows and link capacities set so that offered
    utilisations spread over [0.5, 1.2] (congested: the links above 1 drop);
(b) a 100+ node topohub topology (default ``topozoo/TataNld``, 143 nodes) loaded the same way;
(d) the same topology with 100 to 10,000 random flows at moderate load (offered utilisations over [0.3, 0.9]), each
    run simulating about the same number of packet-hops, to show how speed holds with the number of flows, and
    the peak resident memory of a fresh process simulating the largest of them;

(e) ``examples/nsfnet.yaml`` as written (FIFO ports) and with every port scheduled (SP, WFQ or DRR, three classes);

and (c) the peak resident memory of fresh processes simulating the NSFNET case for two durations 4× apart, to show
that memory does not grow with simulated time.

Usage::

    .venv/bin/python benchmarks/engine_speed.py [--duration 200] [--repeat 3] [--flows 80] [--big-flows 400]
        [--sweep 100,1000,5550,10000] [--sweep-hops 1e7] [--only sweep|scheduled]
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nettwin.scenario import Scenario, build_network, load_scenario
from nettwin.scenario.network import Network
from nettwin.sim import _kernel
from nettwin.sim.builtin import BuiltinEngine

KERNEL_CPU: list[float] = []
"""CPU seconds of each kernel call: on a machine shared with other work, wall time overstates what a run costs."""
_kernel_run = _kernel.run


def _timed_kernel_run(*args):
    start = time.process_time()
    try:
        return _kernel_run(*args)
    finally:
        KERNEL_CPU.append(time.process_time() - start)


_kernel.run = _timed_kernel_run


def loaded_network(topology: dict, n_flows: int, duration: float, seed: int, util=(0.5, 1.2)) -> Network:
    """Random Poisson flows on ``topology``; each loaded link's capacity set to put its offered load at a
    utilisation drawn uniformly from ``util``."""
    rng = np.random.default_rng(seed)
    probe = build_network(
        Scenario.model_validate(
            {"topology": topology, "flows": [{"src": 0, "dst": 1, "traffic": {"model": "cbr", "rate": 1e6}}]}
        )
    )
    n = probe.n_nodes
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < min(n_flows, n * (n - 1)):
        s, d = (int(x) for x in rng.integers(0, n, 2))
        if s != d:
            pairs.add((s, d))
    size = {"dist": "exponential", "mean": 1000}
    flows = [
        {
            "src": s,
            "dst": d,
            "traffic": {"model": "poisson", "rate": float(rng.uniform(0.2e6, 1e6)), "packet_size": size},
        }
        for s, d in sorted(pairs)
    ]
    spec = {"topology": topology, "flows": flows, "simulation": {"duration": duration, "warmup": 0.05 * duration}}
    network = build_network(Scenario.model_validate(spec))
    load = network.offered_load
    target = rng.uniform(*util, size=network.n_links)
    overrides = [
        {
            "src": int(network.link_src[i]),
            "dst": int(network.link_dst[i]),
            "capacity": float(load[i] / target[i]),
            "bidirectional": False,
        }
        for i in range(network.n_links)
        if load[i] > 0
    ]
    spec["topology"] = {**topology, "overrides": overrides}
    return build_network(Scenario.model_validate(spec))


def nsfnet(args, duration: float) -> Network:
    topology = {"builtin": "nsfnet", "defaults": {"buffer": 32, "delay": "2ms"}}
    return loaded_network(topology, args.flows, duration, args.seed)


def measure(name: str, network: Network, repeat: int) -> None:
    engine = BuiltinEngine()
    rates, walls, kernel_rates, cpu_rates, result = [], [], [], [], None
    for r in range(repeat):
        cpu = time.process_time()
        result = engine.simulate(network, run=r)
        cpu = time.process_time() - cpu
        walls.append(result.meta["wall_seconds"])
        rates.append(result.meta["packet_hops"] / walls[-1])
        kernel_rates.append(result.meta["packet_hops"] / KERNEL_CPU[-1])
        cpu_rates.append(result.meta["packet_hops"] / cpu)
    m = result.meta
    util = result.links["utilisation"]
    print(
        f"{name}: {network.n_nodes} nodes, {network.n_links} links, {network.n_flows} flows, "
        f"{network.simulation.duration:g} s simulated"
    )
    print(f"  packet-hops/run {m['packet_hops']:,}  events/run {m['events']:,}  packets/run {m['packets']:,}")
    print(f"  kernel wall s/run {', '.join(f'{w:.3f}' for w in walls)}")
    print(f"  packet-hops/s  best {max(rates) / 1e6:.2f} M   median {np.median(rates) / 1e6:.2f} M")
    print(
        f"  packet-hops per kernel CPU-second  best {max(kernel_rates) / 1e6:.2f} M   "
        f"median {np.median(kernel_rates) / 1e6:.2f} M   worst {min(kernel_rates) / 1e6:.2f} M"
    )
    print(
        f"  packet-hops per CPU-second of simulate()  best {max(cpu_rates) / 1e6:.2f} M   "
        f"median {np.median(cpu_rates) / 1e6:.2f} M   worst {min(cpu_rates) / 1e6:.2f} M"
    )
    print(
        f"  link utilisation {util[util > 0].min():.2f}..{util.max():.2f}  "
        f"flow drop rate mean {np.nanmean(result.kpi('drop_rate')):.3f}  "
        f"links dropping {(result.links['drops'] > 0).sum()}/{network.n_links}"
    )


def sweep(args) -> None:
    """(d): the big topology with each number of flows of ``--sweep``, simulated long enough for about
    ``--sweep-hops`` packet-hops per run."""
    for n_flows in (int(x) for x in args.sweep.split(",")):
        measure(f"(d) {args.big}, {n_flows} flows, moderate load", many_flows(args, n_flows), args.repeat)
    n_flows = max(int(x) for x in args.sweep.split(","))
    out = _rss_of_child(args, ["--rss-child", "0", "--rss-flows", str(n_flows)])
    print(
        f"  peak RSS of a fresh process simulating {n_flows} flows: {out['rss_before_kib'] / 1024:.1f} MiB before "
        f"the run, {out['rss_peak_kib'] / 1024:.1f} MiB after "
        f"({(out['rss_peak_kib'] - out['rss_before_kib']) * 1024 / n_flows:,.0f} bytes per flow)"
    )


def scheduled(args) -> None:
    """(e): the example NSFNET scenario with FIFO ports, then with every port SP, WFQ or DRR in three classes."""
    base = load_scenario(Path(__file__).resolve().parents[1] / "examples" / "nsfnet.yaml")
    measure("(e) examples/nsfnet.yaml, FIFO ports", build_network(base), args.repeat)
    spec = base.model_dump(mode="json", exclude_none=True)
    for i, flow in enumerate(spec["flows"]):
        flow["tos"] = i % 3
    for policy in ("sp", "wfq", "drr"):
        queues = [{"buffer": 32} if policy == "sp" else {"buffer": 32, "weight": w} for w in (1, 2, 3)]
        spec["topology"]["defaults"]["scheduler"] = {"policy": policy, "queues": queues}
        network = build_network(Scenario.model_validate(spec))
        measure(f"(e) examples/nsfnet.yaml, every port {policy}, three classes", network, args.repeat)


def many_flows(args, n_flows: int) -> Network:
    """(d)'s network: ``n_flows`` random flows on the big topology at moderate load, for about ``--sweep-hops``
    packet-hops."""
    topology = {"topohub": args.big, "defaults": {"buffer": 32}}
    probe = loaded_network(topology, n_flows, 1.0, args.seed, util=(0.3, 0.9))
    hops_per_s = float(np.sum(probe.offered_load / 8000.0))  # offered packet arrivals at links per simulated s
    return loaded_network(topology, n_flows, args.sweep_hops / hops_per_s, args.seed, util=(0.3, 0.9))


def _rss_of_child(args, extra: list[str]) -> dict:
    """Run this script in a fresh process with ``extra`` arguments; its last line of output, read as JSON."""
    cmd = [sys.executable, __file__, *extra, "--flows", str(args.flows), "--seed", str(args.seed)]
    cmd += ["--big", args.big, "--sweep-hops", str(args.sweep_hops)]
    child = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(child.stdout.splitlines()[-1])


def _reset_peak_rss() -> None:
    """Linux: start the peak afresh from what the process holds now, so that building the network is left out."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_kib() -> int:
    """This process's peak resident memory: VmHWM where /proc has it (getrusage's figure also counts the parent's
    memory at the fork), else getrusage's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_child(args) -> None:
    """In a fresh process: warm up, then simulate NSFNET for ``args.rss_child`` seconds (or, with ``--rss-flows``,
    case (d) with that many flows); print peak RSS as JSON."""
    engine = BuiltinEngine()
    engine.simulate(nsfnet(args, 1.0))
    network = many_flows(args, args.rss_flows) if args.rss_flows else nsfnet(args, args.rss_child)
    _reset_peak_rss()
    before = _peak_rss_kib()
    result = engine.simulate(network)
    after = _peak_rss_kib()
    print(
        json.dumps(
            {
                "duration": args.rss_child,
                "packet_hops": result.meta["packet_hops"],
                "rss_before_kib": before,
                "rss_peak_kib": after,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=200.0, help="simulated seconds per run (NSFNET)")
    parser.add_argument("--big-duration", type=float, default=40.0, help="simulated seconds per run (big topology)")
    parser.add_argument("--flows", type=int, default=80, help="flows on NSFNET")
    parser.add_argument("--big", default="topozoo/TataNld", help="topohub key of the 100+ node topology")
    parser.add_argument("--big-flows", type=int, default=400, help="flows on the big topology")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (different run numbers)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random flows and capacities")
    parser.add_argument(
        "--rss-duration",
        type=float,
        default=100.0,
        help="shorter of the two simulated durations of the memory check (the other is 4x)",
    )
    parser.add_argument(
        "--sweep", default="100,1000,5550,10000", help="numbers of flows of the many-flows case (d), comma-separated"
    )
    parser.add_argument("--sweep-hops", type=float, default=1e7, help="packet-hops per run aimed at in case (d)")
    parser.add_argument(
        "--only", choices=("all", "sweep", "scheduled"), default="all", help="run every case, or only (d) or (e)"
    )
    parser.add_argument("--rss-child", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rss-flows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child is not None:
        rss_child(args)
        return

    print("command:", shlex.join([sys.executable, *sys.argv]))
    t0 = time.perf_counter()
    BuiltinEngine().simulate(nsfnet(args, 1.0))
    print(f"warm-up run (compile or load the compiled kernel): {time.perf_counter() - t0:.2f} s")
    if args.only != "all":
        {"sweep": sweep, "scheduled": scheduled}[args.only](args)
        return

    measure("(a) NSFNET, congested", nsfnet(args, args.duration), args.repeat)
    big = loaded_network(
        {"topohub": args.big, "defaults": {"buffer": 32}}, args.big_flows, args.big_duration, args.seed
    )
    measure(f"(b) {args.big}", big, args.repeat)

    print("(c) peak RSS of a fresh process simulating NSFNET (same flows and capacities):")
    for duration in (args.rss_duration, 4 * args.rss_duration):
        out = _rss_of_child(args, ["--rss-child", str(duration)])
        print(
            f"  {duration:g} s simulated: {out['packet_hops']:,} packet-hops, RSS after warm-up "
            f"{out['rss_before_kib'] / 1024:.1f} MiB, peak {out['rss_peak_kib'] / 1024:.1f} MiB"
        )
    sweep(args)
    scheduled(args)


if __name__ == "__main__":
    main()
