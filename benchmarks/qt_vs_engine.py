"""How far is the queueing-theory baseline from the packet-level engine? NSFNET, Poisson and on/off traffic.

For each variant (traffic model × load) the script draws one scenario on the built-in ``nsfnet`` topology,
simulates it with the built-in engine for several seeds (per-flow KPIs averaged over the seeds, as SimBase
averages its runs), evaluates the M/M/1/b model once, and prints per KPI the mean relative error
``|QT − engine| / engine`` (flows or links with a positive engine value) and the Pearson correlation.
The ``noise`` columns compare one engine seed with the mean of the other seeds: the simulator's own spread.

Variants: ``poisson`` sends Poisson streams of exponentially sized packets (each link alone is then an exact
M/M/1/b queue; the remaining gap is the independence approximation across hops); ``onoff`` sends CBR bursts with
exponential on/off periods and two packet sizes (300 or 1700 bytes), which the model sees as Poisson streams of the
same mean rate. ``light`` offers the busiest link ``--light`` of its capacity, ``congested`` ``--congested``.

Run from the repository root::

    .venv/bin/python benchmarks/qt_vs_engine.py                 # 80 flows, 3 seeds, 200 s
    .venv/bin/python benchmarks/qt_vs_engine.py --flows 50 --seeds 5 --duration 400
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from nettwin.metrics import relative_gap
from nettwin.scenario import Network, build_network, parse_scenario
from nettwin.sim import FLOW_KPIS, SimResult, get_engine
from nettwin.sim.analytic import QueueingModel

N_NODES = 14  # nsfnet
LINK_KPIS = ("utilisation", "mean_queue", "drops")


def _traffic(model: str, rate: float) -> dict:
    if model == "poisson":
        return {"model": "poisson", "rate": rate, "packet_size": {"dist": "exponential", "mean": 1000}}
    return {
        "model": "onoff",
        "rate": 2.0 * rate,  # duty cycle 1/2: the mean rate is `rate`
        "tau_on": 0.5,
        "tau_off": 0.5,
        "packet_size": {"dist": "binomial", "sizes": [300, 1700], "p": 0.5},
    }


def make_network(model: str, max_load: float, args: argparse.Namespace) -> Network:
    """NSFNET with ``args.flows`` random flows, rates scaled so the busiest link is offered ``max_load``."""
    rng = np.random.default_rng(args.scenario_seed)
    pairs = [(s, d) for s in range(N_NODES) for d in range(N_NODES) if s != d]
    chosen = rng.choice(len(pairs), size=args.flows, replace=False)
    weights = rng.uniform(0.2, 1.0, size=args.flows)

    def build(scale: float) -> Network:
        return build_network(
            parse_scenario(
                {
                    "name": f"nsfnet-{model}-{max_load:g}",
                    "topology": {
                        "builtin": "nsfnet",
                        "defaults": {"capacity": args.capacity, "buffer": args.buffer, "delay": "1ms"},
                    },
                    "flows": [
                        {"src": pairs[i][0], "dst": pairs[i][1], "traffic": _traffic(model, float(w * scale))}
                        for i, w in zip(chosen, weights, strict=True)
                    ],
                    "simulation": {"duration": args.duration, "warmup": args.warmup},
                }
            )
        )

    probe = build(1e5)
    return build(1e5 * max_load / float(np.max(probe.offered_load / probe.capacity)))


def _mean_kpis(results: list[SimResult], part: str, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    table = [getattr(r, part) for r in results]
    return {k: np.nanmean(np.stack([t[k].astype(float) for t in table]), axis=0) for k in names}


def compare(net: Network, seeds: int) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per KPI: QT-vs-engine figures and the engine's seed-to-seed noise; plus timings and fixed-point facts."""
    engine = get_engine("builtin")
    t0 = time.perf_counter()
    runs = [engine.simulate(net, seed=s) for s in range(1, seeds + 1)]
    t_engine = time.perf_counter() - t0
    qt = QueueingModel().simulate(net)
    rows: dict[str, dict[str, float]] = {}
    for part, names in (("flows", tuple(FLOW_KPIS)), ("links", LINK_KPIS)):
        ref = _mean_kpis(runs, part, names)
        others = _mean_kpis(runs[1:], part, names) if seeds > 1 else None
        for k in names:
            key = k if part == "flows" else f"link {k}"
            gap = relative_gap(getattr(qt, part)[k], ref[k])
            noise = relative_gap(getattr(runs[0], part)[k], others[k]) if others else {"mre": np.nan}
            rows[key] = {"mre": gap["mre"], "corr": gap["corr"], "n": gap["n"], "noise": noise["mre"]}
    facts = {
        "engine_s": t_engine,
        "qt_s": qt.meta["wall_seconds"],
        "iterations": qt.meta["iterations"],
        "converged": qt.meta["converged"],
        "packets": float(np.mean([r.meta["packets"] for r in runs])),
        "max_drop": float(np.nanmax(_mean_kpis(runs, "flows", ("drop_rate",))["drop_rate"])),
    }
    return rows, facts


def _fmt(x: float, width: int = 7, pct: bool = True) -> str:
    if x is None or not np.isfinite(x):
        return "—".rjust(width)
    return f"{100 * x:.1f}%".rjust(width) if pct else f"{x:.3f}".rjust(width)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--flows", type=int, default=80, help="number of flows (distinct random pairs)")
    p.add_argument("--seeds", type=int, default=3, help="engine seeds averaged per scenario")
    p.add_argument("--duration", type=float, default=200.0, help="simulated seconds")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds not measured")
    p.add_argument("--capacity", default="10Mbps", help="link capacity")
    p.add_argument("--buffer", type=int, default=32, help="packets waiting per link")
    p.add_argument("--light", type=float, default=0.5, help="offered load of the busiest link, light variant")
    p.add_argument("--congested", type=float, default=1.2, help="offered load of the busiest link, congested")
    p.add_argument("--scenario-seed", type=int, default=0, help="seed drawing flow pairs and rates")
    args = p.parse_args(argv)

    print("command:", shlex.join([sys.executable, *sys.argv]) if argv is None else shlex.join(argv))
    print(
        f"nsfnet, {args.flows} flows, capacity {args.capacity}, buffer {args.buffer}, "
        f"{args.duration:g} s (warmup {args.warmup:g} s), engine builtin x {args.seeds} seeds vs analytic\n"
    )
    variants = [
        (m, name, load)
        for m in ("poisson", "onoff")
        for name, load in (("light", args.light), ("congested", args.congested))
    ]
    results = {}
    for model, name, load in variants:
        rows, facts = compare(make_network(model, load, args), args.seeds)
        results[(model, name)] = rows
        print(
            f"{model:8s}{name:10s} max offered load {load:g}: engine {facts['engine_s']:.1f} s for "
            f"{args.seeds} x {facts['packets'] / 1e6:.2f} M packets; QT {1e3 * facts['qt_s']:.1f} ms, "
            f"{facts['iterations']} iterations, converged={facts['converged']}; max flow drop rate "
            f"{100 * facts['max_drop']:.1f}%"
        )

    head = "".join(f" | {m + '/' + n:^26s}" for m, n, _ in variants)
    sub = "".join(f" | {'MRE':>7s} {'corr':>7s} {'noise':>8s}" for _ in variants)
    print(f"\n{'KPI':17s}{head}\n{'':17s}{sub}\n" + "-" * (17 + 29 * len(variants)))
    for kpi in results[(variants[0][0], variants[0][1])]:
        cells = []
        for m, n, _ in variants:
            r = results[(m, n)][kpi]
            cells.append(f" | {_fmt(r['mre'])} {_fmt(r['corr'], pct=False)} {_fmt(r['noise'], 8)}")
        print(f"{kpi:17s}{''.join(cells)}")
    print(
        "\nMRE: mean |QT - engine| / engine over flows (links) with engine value > 0, engine averaged over seeds;"
        "\ncorr: Pearson correlation across flows (links); noise: MRE of engine seed 1 vs the mean of the others."
    )


if __name__ == "__main__":
    main()
