"""Time per instance: the learned Geminet-style solver against the HiGHS LP, same run, same instances.

Usage::

    python benchmarks/te_speed.py [--topology caida/2024-08/7018] [--endpoints 150] [--instances 10]

The topology (default: CAIDA AS7018, 594 nodes, 1674 links) carries gravity traffic among ``--endpoints``
sampled nodes (150 → 22 350 pairs, k = 4 Yen paths each). The Geminet model is trained on sndlib/geant only
(it never sees the large topology) for ``--train-steps`` steps. LP time includes building the model; Geminet
time includes turning the instance into tensors. Candidate paths are computed once, before timing, and shared.

Bar (issue 5): learned ≥ 10× faster than the LP per instance on a ≥ 500-node topology.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nettwin.te import ECMPSolver, GeminetSolver, make_instances, solve_lp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default="caida/2024-08/7018")
    ap.add_argument("--endpoints", type=int, default=150)
    ap.add_argument("--instances", type=int, default=10)
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    model = GeminetSolver(train_steps=args.train_steps).fit(make_instances("sndlib/geant", steps=200, split="train"))
    print(f"trained geminet on geant in {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    insts = make_instances(args.topology, steps=args.instances, endpoints=args.endpoints)
    i0 = insts[0]
    print(
        f"{args.topology}: {i0.n_nodes} nodes, {i0.n_links} directed links, {i0.n_pairs} pairs, {i0.n_paths} paths, "
        f"{i0.paths.nnz} incidences (built in {time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    model.solve(i0)  # warm-up (first call initialises torch kernels)
    rows = []
    for inst in insts:
        lp = solve_lp(inst)
        t = time.perf_counter()
        x = model.solve(inst)
        t_gem = time.perf_counter() - t
        norm = inst.mlu(x) / lp.mlu
        ecmp = inst.mlu(ECMPSolver().solve(inst)) / lp.mlu
        rows.append((lp.seconds, t_gem, norm, ecmp))
        print(
            f"{inst.name}: LP {lp.seconds * 1e3:9.1f} ms   geminet {t_gem * 1e3:8.1f} ms   "
            f"speed-up {lp.seconds / t_gem:6.1f}×   normalised MLU geminet {norm:.4f}  ecmp {ecmp:.4f}",
            flush=True,
        )
    a = np.array(rows)
    print(
        f"\nmean LP {a[:, 0].mean() * 1e3:.1f} ms, mean geminet {a[:, 1].mean() * 1e3:.1f} ms, "
        f"speed-up of the means {a[:, 0].mean() / a[:, 1].mean():.1f}×, median per-instance speed-up "
        f"{np.median(a[:, 0] / a[:, 1]):.1f}×; normalised MLU geminet avg {a[:, 2].mean():.4f} "
        f"(trained on geant only), ecmp avg {a[:, 3].mean():.4f}"
    )


if __name__ == "__main__":
    main()
