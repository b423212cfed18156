"""How well do twins predict flows that split over several paths? A 3 × 3 grid routed by ECMP.

Generates a dataset (built-in engine, per-packet split by the ECMP shares; five Poisson flows, three of them over
several paths, capacities scaled per sample), trains GLANCE on it with a few seeds, and prints each seed's NMAE on
the test split next to queueing theory's and SimBase's (one extra engine run averaged). The twin predicts each path
with its share of the traffic and is trained and scored on the flows' KPIs aggregated by share.

Run from the repository root::

    .venv/bin/python benchmarks/twin_split_flows.py                       # 120 samples, 3 seeds
    .venv/bin/python benchmarks/twin_split_flows.py --samples 300 --seeds 5 --out /tmp/ecmp-grid
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nettwin.data import Dataset, generate_dataset
from nettwin.twin import Twin
from nettwin.twin.evaluate import evaluate

SIZE = {"dist": "exponential", "mean": 500}
FLOWS = [("r0c0", "r2c2", "300kbps"), ("r2c0", "r0c2", "300kbps"), ("r0c1", "r2c1", "200kbps")]
FLOWS += [("r1c0", "r1c2", "200kbps"), ("r2c2", "r0c0", "250kbps")]


def spec(samples: int) -> dict:
    """The dataset spec: the grid, its flows, ECMP routing and the engine."""
    base = {
        "topology": {"grid": {"rows": 3, "cols": 3}, "defaults": {"capacity": "1Mbps", "buffer": 32, "delay": "1ms"}},
        "flows": [
            {"src": s, "dst": d, "traffic": {"model": "poisson", "rate": r, "packet_size": SIZE}} for s, d, r in FLOWS
        ],
        "routing": {"policy": "ecmp"},
        "simulation": {"engine": "builtin", "duration": "30s", "warmup": "2s"},
    }
    return {"base": base, "samples": samples, "seed": 5, "simbase_runs": 1, "capacity_scale": {"uniform": [0.5, 1.2]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=120)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="dataset directory (default: a temporary one)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp()) / "ecmp-grid"
    start = time.perf_counter()
    generate_dataset(spec(args.samples), out, workers=1)
    print(f"dataset {out}: generated in {time.perf_counter() - start:.0f} s")
    ds = Dataset(out)
    for seed in range(args.seeds):
        start = time.perf_counter()
        twin = Twin("glance", epochs=args.epochs, patience=40, seed=seed, threads=1).fit(ds)
        report = evaluate([twin], ds, threads=1, simbase=seed == 0, qt=seed == 0)
        took = time.perf_counter() - start
        for m in report["methods"]:
            name = (
                f"{m['name']} (seed {seed}, {len(twin.history_)} epochs, {took:.0f} s)"
                if m["name"] == twin.name
                else m["name"]
            )
            print(f"{name:45s}", "  ".join(f"{k} {v:.3f}" for k, v in m["nmae"].items()))


if __name__ == "__main__":
    main()
