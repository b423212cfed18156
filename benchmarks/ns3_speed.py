"""Speed: the built-in engine vs ns-3 on the same wired scenarios, timed side by side in one run.

For each scenario (``examples/ns3/<name>.yaml``) both engines simulate seeds 1..N one after another on one core
each. The built-in engine is timed around ``simulate`` after a first call has loaded its compiled kernel; ns-3 is
timed around the call to a warm worker (ns-3 import excluded, topology building included) and, separately, in
the worker's own clock. Packet-hops are packet arrivals at links (transmissions plus drops), counted by each
engine.

    python benchmarks/ns3_speed.py --seeds 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nettwin.sim import BuiltinEngine, as_network
from nettwin.sim.ns3 import Ns3Engine
from nettwin.sim.ns3.agreement import AGREEMENT_SCENARIOS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ns3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="runs per engine and scenario")
    parser.add_argument("--scenarios", nargs="*", default=list(AGREEMENT_SCENARIOS))
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))

    builtin, ns3 = BuiltinEngine(), Ns3Engine(workers=1)
    t0 = time.perf_counter()
    warm = as_network(EXAMPLES / f"{args.scenarios[0]}.yaml")
    builtin.simulate(warm)
    ns3.simulate(warm)  # starts the worker: ns-3 import and helper compilation, excluded from the timings
    print(f"(ns-3 worker start and first run: {time.perf_counter() - t0:.1f} s, not counted)")
    print(
        f"{'scenario':<18}{'packet-hops':>12}{'builtin s':>11}{'ns-3 s':>9}{'ns-3 sim s':>11}{'ratio':>8}"
        f"{'builtin hops/s':>16}{'ns-3 hops/s':>13}"
    )
    total_b = total_n = 0.0
    for name in args.scenarios:
        network = as_network(EXAMPLES / f"{name}.yaml")
        tb = tn = tsim = 0.0
        hb = hn = 0
        for s in seeds:
            t = time.perf_counter()
            rb = builtin.simulate(network, seed=s)
            tb += time.perf_counter() - t
            t = time.perf_counter()
            rn = ns3.simulate(network, seed=s)
            tn += time.perf_counter() - t
            tsim += rn.meta["run_seconds"]
            hb += rb.meta["packet_hops"]
            hn += rn.meta["packet_hops"]
        total_b += tb
        total_n += tn
        k = len(seeds)
        print(
            f"{name:<18}{hb // k:>12,}{tb / k:>11.3f}{tn / k:>9.2f}{tsim / k:>11.2f}{tn / tb:>7.1f}×"
            f"{hb / tb:>16,.0f}{hn / tn:>13,.0f}"
        )
    print(f"{'all':<18}{'':>12}{total_b:>11.3f}{total_n:>9.2f}{'':>11}{total_n / total_b:>7.1f}×")
    ns3.close()


if __name__ == "__main__":
    main()
