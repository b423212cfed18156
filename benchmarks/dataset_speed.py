"""How fast datasets generate: N samples of examples/datasets/nsfnet-glance.yaml with W local workers.

Prints the total wall time, the samples/s over the whole run and once the workers are up (steady state), the mean
simulation time per sample, and the time 1,000 samples would take with 2 workers, extrapolated from the steady
rate (scaled by W/2 when W is not 2) plus the measured start-up time.

    python benchmarks/dataset_speed.py --samples 200 --workers 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from nettwin.data import Dataset, generate_dataset, load_dataset_spec

SPEC = Path(__file__).parents[1] / "examples" / "datasets" / "nsfnet-glance.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="samples to generate (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    parser.add_argument("--spec", type=Path, default=SPEC, help="dataset spec (default: nsfnet-glance)")
    args = parser.parse_args()

    spec = load_dataset_spec(args.spec).replace(samples=args.samples)
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = generate_dataset(
            spec,
            Path(tmp) / "ds",
            workers=args.workers,
            progress=lambda done, total: stamps.append(time.perf_counter()),
        )
        total = time.perf_counter() - t0
        table = Dataset(Path(tmp) / "ds").table()
    per_sample = np.asarray(table["wall_seconds"].to_numpy(), dtype=float)
    startup = stamps[1] - t0 if len(stamps) > 1 else total
    steady = float("nan")
    if len(stamps) > 2 and stamps[-1] > stamps[1]:
        steady = (len(stamps) - 2) / (stamps[-1] - stamps[1])
    runs = int(np.sum(table["n_runs"].to_numpy()))
    eta_1000 = startup + 1000 / steady * (args.workers / 2)

    print(f"spec            {args.spec.name} ({spec.dataset_name}), engine {spec.engine_name}")
    print(f"machine         {os.cpu_count()} CPUs; {args.workers} worker(s)")
    print(f"samples         {summary['samples']} ({summary['ok']} ok, {summary['failed']} failed), {runs} runs")
    print(f"wall time       {total:.2f} s (first sample back after {startup:.2f} s)")
    print(f"samples/s       {summary['samples'] / total:.1f} overall, {steady:.1f} steady")
    print(f"per sample      {1e3 * per_sample.mean():.1f} ms mean in a worker (simulation of all its runs)")
    print(f"1,000 samples   ≈ {eta_1000:.0f} s with 2 workers (extrapolated)")


if __name__ == "__main__":
    main()
