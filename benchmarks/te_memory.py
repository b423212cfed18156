"""Peak memory of training the Geminet-style solver on a ~600-node CAIDA topology.

Usage::

    python benchmarks/te_memory.py [--topology caida/2024-08/7018] [--endpoints 200] [--batch-size 4]

Builds gravity-traffic instances on CAIDA AS7018 (594 nodes, 1674 links) among ``--endpoints`` sampled nodes
(200 → 39 800 pairs, 4 paths each), trains for ``--train-steps`` steps with ``--batch-size`` instances per step,
and reports the process's peak resident set size while training (sampled every 5 ms) and over the whole run
(``getrusage``), both including the Python interpreter, torch and the instances themselves.

Bar (issue 5): training peak ≤ 2 GiB.
"""

from __future__ import annotations

import argparse
import time

import torch

from nettwin.te import GeminetSolver, make_instances
from nettwin.te.evaluate import PeakRSS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default="caida/2024-08/7018")
    ap.add_argument("--endpoints", type=int, default=200)
    ap.add_argument("--instances", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--train-steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    insts = make_instances(args.topology, steps=args.instances, endpoints=args.endpoints)
    i0 = insts[0]
    print(
        f"{args.topology}: {i0.n_nodes} nodes, {i0.n_links} directed links, {i0.n_pairs} pairs, "
        f"{i0.n_paths} paths, {i0.paths.nnz} incidences; built in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    before = PeakRSS.lifetime_peak()
    start = time.perf_counter()
    with PeakRSS() as mem:
        model = GeminetSolver(train_steps=args.train_steps, batch_size=args.batch_size).fit(insts)
    secs = time.perf_counter() - start
    print(
        f"trained {args.train_steps} steps × {args.batch_size} instances in {secs:.0f} s "
        f"(loss {model.history_[0]:.4f} → {model.history_[-1]:.4f})"
    )
    print(
        f"peak RSS before training {before / 2**30:.3f} GiB; during training {mem.peak / 2**30:.3f} GiB; "
        f"whole process {PeakRSS.lifetime_peak() / 2**30:.3f} GiB (bar: ≤ 2 GiB)"
    )


if __name__ == "__main__":
    main()
