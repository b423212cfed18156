"""Normalised MLU (MLU ÷ LP optimum) of the learned solvers and baselines on held-out traffic.

Usage::

    python benchmarks/te_quality.py [--steps 400] [--train-steps 600] [--quick] [--json out.json]

Part 1 — per topology (train on the first 75 % of a 400-step sequence, test on the last 25 %):
sndlib/geant and sndlib/germany50 with their SNDlib demands under a temporal pattern, and a changing-topology
sequence derived from geant (``dynamic_sequence``: links/nodes down and up, capacity changes, new links).

Part 2 — generalisation without retraining: one Geminet model trained on geant + germany50 evaluated on geant
test traffic with 1 and 2 random link failures, on the changing-topology sequence, and on topologies it never saw.

Bars (issue 5): average ≤ 1.05 and p99 ≤ 1.15 in part 1.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from nettwin.te import (
    DOTESolver,
    ECMPSolver,
    GeminetSolver,
    LPSolver,
    RescaleSolver,
    ShortestPathSolver,
    evaluate,
    make_instances,
)


def _print(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}")
    print(f"{'solver':<22}{'avg':>8}{'p50':>8}{'p75':>8}{'p99':>8}{'max':>8}{'ms/inst':>10}{'solved':>8}  note")
    for r in rows:
        print(
            f"{r['solver']:<22}{r['avg']:>8.4f}{r['p50']:>8.4f}{r['p75']:>8.4f}{r['p99']:>8.4f}{r['max']:>8.4f}"
            f"{r['ms']:>10.2f}{r['solved']:>8}  {r['note']}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=400, help="time steps per sequence")
    ap.add_argument("--train-steps", type=int, default=600, help="optimisation steps per learned solver")
    ap.add_argument("--quick", action="store_true", help="100 steps, 150 optimisation steps (smoke run)")
    ap.add_argument("--json", default=None, help="write all rows as JSON here")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps, train_steps = (100, 150) if args.quick else (args.steps, args.train_steps)
    results: dict[str, list[dict]] = {}
    t0 = time.perf_counter()

    sets = {
        "geant": dict(topology="sndlib/geant"),
        "germany50": dict(topology="sndlib/germany50"),
        "dyn-geant": dict(topology="sndlib/geant", dynamic=True),
    }
    models = {}
    for name, spec in sets.items():
        train = make_instances(steps=steps, split="train", **spec)
        test = make_instances(steps=steps, split="test", **spec)
        start = time.perf_counter()
        gem = GeminetSolver(train_steps=train_steps).fit(train)
        fit_gem = time.perf_counter() - start
        models[name] = gem
        solvers = {"geminet": gem}
        fit_dote = float("nan")
        if not spec.get("dynamic"):
            start = time.perf_counter()
            solvers["dote"] = DOTESolver(train_steps=train_steps).fit(train)
            fit_dote = time.perf_counter() - start
        solvers["ecmp"] = ECMPSolver()
        solvers["shortest"] = ShortestPathSolver()
        ev = evaluate(solvers, test)
        results[name] = ev.rows()
        _print(
            f"{name}: {len(train)} train / {len(test)} test instances; fit geminet {fit_gem:.0f} s, "
            f"dote {fit_dote:.0f} s",
            results[name],
        )

    # generalisation: one model, trained on two topologies, never retrained
    start = time.perf_counter()
    mix_train = make_instances("sndlib/geant", steps=steps, split="train") + make_instances(
        "sndlib/germany50", steps=steps, split="train"
    )
    mix = GeminetSolver(train_steps=train_steps).fit(mix_train)
    print(f"\ngeminet-mix trained on geant + germany50 in {time.perf_counter() - start:.0f} s", flush=True)
    probes = {
        "geant test, 1 link failed": dict(topology="sndlib/geant", split="test", failures=1),
        "geant test, 2 links failed": dict(topology="sndlib/geant", split="test", failures=2),
        "dyn-geant test": dict(topology="sndlib/geant", split="test", dynamic=True),
        "abilene (unseen)": dict(topology="sndlib/abilene", split="test"),
        "nobel-eu (unseen)": dict(topology="sndlib/nobel-eu", split="test"),
        "cost266 (unseen)": dict(topology="sndlib/cost266", split="test"),
        "topozoo/TataNld gravity (unseen)": dict(topology="topozoo/TataNld", split="test", endpoints=60),
    }
    for title, spec in probes.items():
        n = steps if "topozoo" not in spec["topology"] else max(steps // 4, 20)
        test = make_instances(steps=n, **spec)
        solvers = {"geminet-mix": mix}
        if spec["topology"] == "sndlib/geant":
            solvers["geminet-geant"] = models["geant"]
            if not spec.get("dynamic"):
                solvers["dote-geant"] = DOTESolver(train_steps=train_steps).fit(
                    make_instances("sndlib/geant", steps=steps, split="train")
                )
        if spec.get("failures"):
            solvers["rescale(lp)"] = RescaleSolver(LPSolver())
        solvers["ecmp"] = ECMPSolver()
        solvers["shortest"] = ShortestPathSolver()
        ev = evaluate(solvers, test)
        results[title] = ev.rows()
        _print(f"{title}: {len(test)} instances", results[title])
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
