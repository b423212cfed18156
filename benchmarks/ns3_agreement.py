"""Cross-engine agreement table: built-in engine vs ns-3 on the wired agreement scenarios.

Each scenario (``examples/ns3/<name>.yaml``) runs with seeds 1..N on both engines; KPIs are pooled over the runs
(see :mod:`nettwin.sim.ns3.agreement`) and compared against the acceptance tolerances.

    python benchmarks/ns3_agreement.py --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nettwin.sim import BuiltinEngine, as_network
from nettwin.sim.ns3 import Ns3Engine, simulate_runs
from nettwin.sim.ns3.agreement import AGREEMENT_SCENARIOS, agreement

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ns3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="runs per engine and scenario (seeds 1..N)")
    parser.add_argument("--workers", type=int, default=2, help="ns-3 worker processes")
    parser.add_argument("--scenarios", nargs="*", default=list(AGREEMENT_SCENARIOS))
    args = parser.parse_args()

    engine = Ns3Engine(workers=args.workers)
    seeds = list(range(1, args.seeds + 1))
    print(f"{'scenario':<18}{'KPI':<11}{'builtin':>12}{'ns-3':>12}{'gap':>9}   verdict   per-flow gap (median / max)")
    for name in args.scenarios:
        network = as_network(EXAMPLES / f"{name}.yaml")
        builtin = [BuiltinEngine().simulate(network, seed=s) for s in seeds]
        t0 = time.perf_counter()
        ns3 = simulate_runs(engine, network, seeds)
        wall = time.perf_counter() - t0
        for row in agreement(builtin, ns3):
            print(
                f"{name:<18}{row.kpi:<11}{row.builtin:12.6g}{row.ns3:12.6g}{100 * row.gap:8.2f}%   "
                f"{'ok' if row.ok else 'FAIL':<9} {100 * row.flow_gap_median:.1f}% / {100 * row.flow_gap_max:.1f}%"
            )
        print(f"{'':<18}({len(seeds)} seeds; ns-3 wall {wall:.1f} s on {args.workers} workers)")
    engine.close()


if __name__ == "__main__":
    main()
