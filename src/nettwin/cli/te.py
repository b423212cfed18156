"""``nettwin te``: traffic engineering — solve, train and evaluate min-MLU split ratios."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from nettwin.cli.guard import out_option
from nettwin.cli.output import Format, console, print_json, print_table, progress_bar, status
from nettwin.errors import TEError

__all__ = ["app"]

app = typer.Typer(
    help="Traffic engineering: min-MLU split ratios over k candidate paths (LP, learned, baselines).",
    no_args_is_help=True,
)


TOPOLOGY_HELP = (
    "topohub key (sndlib/geant), built-in name, or your own topology file: a scenario (.yaml/.json, its topology "
    "section) or GML/GraphML with a capacity on every link (or --capacity)."
)
Topology = Annotated[str, typer.Option("--topology", "-t", help=TOPOLOGY_HELP)]
Demands = Annotated[
    list[Path],
    typer.Option(
        "--demands",
        "-d",
        help="Your traffic matrices (CSV with node names, .npy, SNDlib native); repeat for more. One instance each.",
    ),
]
DemandUnit = Annotated[
    str, typer.Option(help="Rate unit of plain numbers in --demands files (bit/s, kbps, Mbps, Gbps).")
]
Capacity = Annotated[
    str | None,
    typer.Option(
        help="One capacity for every link (10Gbps; a plain number is bit/s), instead of the topology's own or the "
        "betweenness rule's."
    ),
]
Threads = Annotated[int, typer.Option(min=1, help="CPU threads for the LP solver (HiGHS) and torch.")]
Steps = Annotated[int, typer.Option(min=1, help="Demand matrices (15-minute steps).")]
Traffic = Annotated[str | None, typer.Option(help="sndlib | gravity | bimodal; default: sndlib where available.")]
Seed = Annotated[int, typer.Option(min=0, help="Seed of traffic, changes and training.")]
K = Annotated[int, typer.Option("--k", min=1, help="Candidate paths per pair.")]
Method = Annotated[str, typer.Option(help="Candidate paths: yen (k shortest) or disjoint (link-disjoint).")]
Endpoints = Annotated[int | None, typer.Option(min=2, help="Route only among this many sampled nodes.")]
Dynamic = Annotated[bool, typer.Option("--dynamic", help="Changing-topology snapshots (DynGeant-like).")]
Failures = Annotated[int, typer.Option(min=0, help="Random link failures per instance (paths pruned).")]
Fmt = Annotated[Format, typer.Option("--format", help="table or json.")]

BAR_MIN_PAIRS = 1000
"""Demand pairs from which finding candidate paths shows a progress bar (about a second's work and more)."""


def _capacity(text: str | None) -> float | None:
    """``--capacity`` in bit/s (None when not given)."""
    from nettwin.scenario.units import UnitError, parse_rate
    from nettwin.te.graph import one_capacity

    if text is None:
        return None
    try:
        rate = parse_rate(text)
        one_capacity(rate, 0)
    except (UnitError, TEError) as err:
        raise TEError(f"--capacity: {err}") from err
    return rate


def _instances(topology: str, *, split: str, bars: bool = True, source: Any = None, **options: Any) -> list:
    """Build the instances of ``source`` (default: ``topology``, which names it in messages) with a spinner, and a
    progress bar while candidate paths are found; ``options`` are :func:`~nettwin.te.suite.make_instances`'s."""
    from nettwin.te.suite import make_instances

    with contextlib.ExitStack() as stack:
        spinner = stack.enter_context(contextlib.ExitStack())
        spinner.enter_context(status(f"building {topology} instances"))
        bar: list = []

        def progress(done: int, total: int) -> None:
            if not bar:  # the number of pairs is known once the first one is done; the bar replaces the spinner
                if total >= BAR_MIN_PAIRS:
                    spinner.close()
                title = f"finding paths in {topology}"
                bar.append(stack.enter_context(progress_bar(title, total, "pairs", bars and total >= BAR_MIN_PAIRS)))
            bar[0]()

        return make_instances(topology if source is None else source, split=split, progress=progress, **options)


@contextlib.contextmanager
def _threads(n: int, learned: bool) -> Iterator[None]:
    """Limit torch to ``n`` threads while learned solvers run (the LP takes ``n`` through its own option)."""
    if not learned:
        yield
        return
    from nettwin._estimator import torch_threads

    with torch_threads(n):
        yield


def _solver(name: str, model: Path | None, threads: int | None = None):  # noqa: ANN202
    """The registered solver ``name``: a learned one read from ``model``, any other built with ``threads`` for
    the LP it runs (itself, or the inner solver of rescale)."""
    from nettwin.te.checkpoint import load_solver
    from nettwin.te.lp import LPSolver
    from nettwin.te.registry import solver_class

    cls = solver_class(name)
    if cls.needs_fit:
        if model is None:
            raise TEError(f"solver '{name}' needs --model CHECKPOINT (train one with 'nettwin te train')")
        solver = load_solver(model)
        if solver.name != name:
            raise TEError(f"checkpoint '{model}' holds a {solver.name} solver, not {name}")
        return solver
    params = cls.param_names()
    if "threads" in params:
        return cls(threads=threads)
    return cls(LPSolver(threads=threads)) if "inner" in params else cls()


@app.command()
def solve(
    topology: Topology = "sndlib/geant",
    demands: Demands = [],  # noqa: B006
    demand_unit: DemandUnit = "bit/s",
    capacity: Capacity = None,
    solver: Annotated[
        str,
        typer.Option(help="Which solver: lp, ecmp, shortest, rescale, or a learned one (geminet, dote) with --model."),
    ] = "lp",
    model: Annotated[Path | None, typer.Option(help="Checkpoint of a learned solver (geminet, dote).")] = None,
    step: Annotated[int, typer.Option(min=0, help="Which time step's demand matrix.")] = 0,
    every: Annotated[bool, typer.Option("--all", help="Solve every time step (every --demands matrix).")] = False,
    traffic: Traffic = None,
    seed: Seed = 0,
    k: K = 4,
    method: Method = "yen",
    endpoints: Endpoints = None,
    dynamic: Dynamic = False,
    failures: Failures = 0,
    threads: Threads = 1,
    top: Annotated[int, typer.Option(min=0, help="Show this many most-utilised links.")] = 10,
    out: Annotated[Path | None, out_option("Write the result and split ratios as JSON here.")] = None,
    splits: Annotated[
        Path | None, out_option("Write split ratios with node names, every solved instance: .csv or .json.")
    ] = None,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Simulate the split with the built-in engine and report per-flow delay, jitter and drops next to "
            "the MLU. --topology must be a scenario file; its flows are the traffic matrix unless --demands.",
        ),
    ] = False,
    runs: Annotated[int, typer.Option(min=1, help="--simulate: independent runs, averaged.")] = 1,
    sim_seed: Annotated[
        int | None, typer.Option(min=0, help="--simulate: simulation seed (default: the scenario's).")
    ] = None,
    fmt: Fmt = Format.table,
) -> None:
    """Solve one instance (or --all) and print its MLU, the time taken and the most utilised links; with
    --simulate, also the packet-level KPIs of the chosen split."""
    import time

    from nettwin._json import write_json
    from nettwin.te.lp import solve_lp
    from nettwin.te.registry import solver_class
    from nettwin.te.splits import write_splits

    steps = step + 1
    learned = solver_class(solver).needs_fit  # an unknown name is refused before any work
    link_capacity = _capacity(capacity)
    network = None
    if not simulate and (runs != 1 or sim_seed is not None):
        raise TEError("--runs and --sim-seed set up the simulation of the split: add --simulate")
    if simulate:
        from nettwin.te.files import read_network

        _simulate_options(topology, runs, every=every, dynamic=dynamic, failures=failures, capacity=capacity)
        network = read_network(topology)
    instances = _instances(
        topology,
        source=network,
        split="all",
        bars=fmt is Format.table,
        steps=steps,
        traffic=traffic,
        seed=seed,
        k=k,
        method=method,
        endpoints=endpoints,
        dynamic=dynamic,
        failures=failures,
        demands=list(demands) or None,
        demand_unit=demand_unit,
        capacity=link_capacity,
    )
    if not every:
        if step >= len(instances):
            raise TEError(f"--step {step}: the demand matrices are steps 0..{len(instances) - 1}")
        instances = [instances[step]]
    s = _solver(solver, model, threads)
    results = []
    with (
        _threads(threads, learned),
        progress_bar(
            "solving", len(instances), unit="instances", enabled=len(instances) > 1 and fmt is Format.table
        ) as advance,
    ):
        for inst in instances:
            start = time.perf_counter()
            x = s.solve(inst)
            seconds = time.perf_counter() - start
            mlu = inst.mlu(x)
            optimum = mlu if solver == "lp" else solve_lp(inst, threads=threads).mlu
            results.append((inst, x, mlu, optimum, seconds))
            advance()
    if splits is not None:
        write_splits(splits, [r[0] for r in results], [r[1] for r in results])
    payloads = [_solve_payload(solver, *r, top) for r in results]
    simulation = None
    if network is not None:
        from nettwin.te.simulate import simulate_split

        with status(f"simulating the split of {topology}") if fmt is Format.table else contextlib.nullcontext():
            simulation = simulate_split(network, results[0][0], results[0][1], runs=runs, seed=sim_seed)
        payloads[0]["simulation"] = simulation.to_dict()
    if out is not None:
        docs = [{**p, "ratios": _named_ratios(r[0], r[1])} for p, r in zip(payloads, results, strict=True)]
        write_json(out, docs[0] if not every else {"instances": docs})
    if fmt is Format.json:
        print_json(payloads[0] if not every else {"instances": payloads})
        return
    if every:
        rows = [
            [
                p["instance"],
                round(p["mlu"], 4),
                round(p["optimum"], 4),
                round(p["normalised"], 4),
                round(p["seconds"] * 1e3, 1),
            ]
            for p in payloads
        ]
        print_table(f"{solver} on {topology}", ["instance", "MLU", "optimum", "normalised", "ms"], rows)
    else:
        p = payloads[0]
        columns = ["src", "dst", "utilisation"]
        rows = [[d["src"], d["dst"], round(d["utilisation"], 4)] for d in p["links"]]
        if simulation is not None:
            measured = {(r["src"], r["dst"]): r["measured"] for r in simulation.link_records()}
            columns.append("measured")
            rows = [[*r, round(measured[(r[0], r[1])], 4)] for r in rows]
        caption = (
            f"{solver}: MLU {p['mlu']:.4f}, optimum {p['optimum']:.4f}, normalised {p['normalised']:.4f}, "
            f"{p['seconds'] * 1e3:.1f} ms, {p['pairs']} pairs, {p['paths']} paths"
        )
        print_table(p["instance"], columns, rows, caption=caption)
    if simulation is not None:
        _print_simulation(simulation)
    for path in filter(None, (out, splits)):
        console.print(f"wrote {path}")


def _simulate_options(topology: str, runs: int, **given: Any) -> None:
    """Refuse, in one line and before any work, what --simulate cannot honour: a topology that is not a scenario
    file with flows, more runs than a simulation takes, and options that would solve another network than the one
    simulated."""
    from nettwin.scenario.limits import MAX_RUNS
    from nettwin.te.files import SCENARIO_SUFFIXES

    if runs > MAX_RUNS:
        raise TEError(f"--runs: must be between 1 and {MAX_RUNS}, got {runs}")
    if Path(topology).suffix.lower() not in SCENARIO_SUFFIXES:
        raise TEError(
            f"--simulate needs a scenario file ({', '.join(SCENARIO_SUFFIXES)}) as --topology, got {topology!r}"
        )
    for name, value in given.items():
        if value:
            option = "--all" if name == "every" else f"--{name}"
            raise TEError(f"{option} cannot be combined with --simulate, which simulates one split of the scenario")


def _print_simulation(sim) -> None:  # noqa: ANN001
    """The simulated split: per-flow KPIs, then the summary next to the MLU."""
    rows = [
        [
            f"{r['src']}→{r['dst']}",
            " + ".join(_path_text(p) for p in r["paths"]),
            _ms(r["delay"]),
            _ms(r["jitter"]),
            round(r["drops"], 1),
        ]
        for r in sim.flow_records()
    ]
    runs = len(sim.results)
    title = f"simulated split ({runs} run{'s' if runs > 1 else ''}, seed {sim.results[0].meta.get('seed')})"
    print_table(title, ["flow", "paths (share, delay)", "delay ms", "jitter ms", "drops"], rows)
    s = sim.summary
    print_table(
        "split summary",
        ["MLU", "MLU planned", "utilisation measured", "mean delay ms", "p95 delay ms", "drops"],
        [
            [
                round(s["mlu"], 4),
                round(s["mlu_planned"], 4),
                round(s["utilisation_measured"], 4),
                _ms(s["delay_mean"]),
                _ms(s["delay_p95"]),
                round(s["drops"], 1),
            ]
        ],
    )


def _path_text(path: dict) -> str:
    """A path of a simulated split for a table: share, nodes and, for a split flow, the path's own delay."""
    text = f"{path['share']:.3f} {'-'.join(path['nodes'])}"
    return text if path.get("delay") is None else f"{text} ({_ms(path['delay'])} ms)"


def _ms(seconds: float | None) -> float | str:
    """Seconds as milliseconds for a table; '-' where nothing was measured."""
    return "-" if seconds is None or seconds != seconds else round(seconds * 1e3, 3)


def _solve_payload(solver: str, inst, x, mlu: float, optimum: float, seconds: float, top: int) -> dict:  # noqa: ANN001
    """One solved instance: MLU, optimum, time, and the ``top`` most utilised links by node name."""
    import numpy as np

    util = inst.utilisation(x)
    g = inst.graph
    return {
        "instance": inst.name,
        "solver": solver,
        "mlu": mlu,
        "optimum": optimum,
        "normalised": mlu / optimum if optimum > 0 else 1.0,
        "seconds": seconds,
        "pairs": inst.n_pairs,
        "paths": inst.n_paths,
        "links": [
            {"src": g.nodes[g.links[e, 0]], "dst": g.nodes[g.links[e, 1]], "utilisation": float(util[e])}
            for e in np.argsort(-util)[:top]
        ],
    }


def _named_ratios(inst, x) -> list[dict]:  # noqa: ANN001
    """Split ratios per pair, as in ``--out``: node names and each path's link ids."""
    g = inst.graph
    return [
        {
            "src": g.nodes[inst.paths.pairs[p, 0]],
            "dst": g.nodes[inst.paths.pairs[p, 1]],
            "paths": [
                {"links": inst.paths.path(q), "ratio": float(x[q])}
                for q in range(inst.paths.pair_ptr[p], inst.paths.pair_ptr[p + 1])
            ],
        }
        for p in range(inst.n_pairs)
    ]


@app.command()
def train(
    out: Annotated[Path, out_option("Checkpoint file to write.", "--out", "-o")],
    topology: Annotated[
        list[str], typer.Option("--topology", "-t", help="Training topology; repeat to train on several.")
    ] = ["sndlib/geant"],  # noqa: B006
    solver: Annotated[
        str, typer.Option(help="A learned solver: geminet (any topology) or dote (one fixed topology).")
    ] = "geminet",
    steps: Steps = 400,
    traffic: Traffic = None,
    seed: Seed = 0,
    k: K = 4,
    method: Method = "yen",
    endpoints: Endpoints = None,
    dynamic: Dynamic = False,
    failures: Failures = 0,
    train_steps: Annotated[int, typer.Option(min=0, help="Optimisation steps.")] = 600,
    batch_size: Annotated[int, typer.Option(min=1, help="Instances per optimisation step.")] = 8,
    lr: Annotated[float, typer.Option(min=0.0, help="Learning rate.")] = 3e-3,
    hidden: Annotated[int | None, typer.Option(min=1, help="MLP width (default 32 geminet, 128 dote).")] = None,
    dual_steps: Annotated[int, typer.Option(min=0, help="geminet: dual-update steps T.")] = 8,
    demands: Demands = [],  # noqa: B006
    demand_unit: DemandUnit = "bit/s",
    capacity: Capacity = None,
    threads: Threads = 1,
) -> None:
    """Train a learned solver on the training part (first 75 % in time) of each topology's sequence."""
    import time

    from nettwin.te.checkpoint import save_solver
    from nettwin.te.registry import learned_names, solver_class

    cls = solver_class(solver)
    if not cls.needs_fit:
        raise TEError(f"--solver: {solver!r} learns nothing; choose one of {', '.join(learned_names())}")
    if solver == "dote" and len(topology) > 1:
        raise TEError("dote learns one fixed topology; pass a single --topology")
    if demands and len(topology) > 1:
        raise TEError("--demands name the nodes of one topology; pass a single --topology with them")
    link_capacity = _capacity(capacity)
    instances = []
    for t in topology:
        instances += _instances(
            t,
            split="train",
            steps=steps,
            traffic=traffic,
            seed=seed,
            k=k,
            method=method,
            endpoints=endpoints,
            dynamic=dynamic,
            failures=failures,
            demands=list(demands) or None,
            demand_unit=demand_unit,
            capacity=link_capacity,
        )
    params = {"train_steps": train_steps, "batch_size": batch_size, "lr": lr, "seed": seed}
    if hidden is not None:
        params["hidden"] = hidden
    if "steps" in cls.param_names():
        params["steps"] = dual_steps
    model = cls(**params)
    model.check_params()  # before the bar: a bad setting is one line, not a bar and a line
    start = time.perf_counter()
    with _threads(threads, True), progress_bar(f"training {solver}", train_steps, unit="steps") as advance:
        model.fit(instances, callback=lambda step, loss: advance())
    seconds = time.perf_counter() - start
    save_solver(model, out)
    console.print(
        f"trained {solver} on {len(instances)} instances ({', '.join(topology)}) in {seconds:.1f} s; "
        f"final loss {model.history_[-1] if model.history_ else float('nan'):.4f} (MLU ÷ equal-split MLU); wrote {out}"
    )


@app.command()
def evaluate(
    topology: Topology = "sndlib/geant",
    model: Annotated[list[Path], typer.Option("--model", "-m", help="Checkpoint(s) of learned solvers.")] = [],  # noqa: B006
    baselines: Annotated[
        str, typer.Option(help="Comma-separated baselines: ecmp, shortest, rescale (after failures).")
    ] = "ecmp,shortest",
    steps: Steps = 400,
    split: Annotated[str, typer.Option(help="test (last 25 % in time), train or all.")] = "test",
    traffic: Traffic = None,
    seed: Seed = 0,
    k: K = 4,
    method: Method = "yen",
    endpoints: Endpoints = None,
    dynamic: Dynamic = False,
    failures: Failures = 0,
    demands: Demands = [],  # noqa: B006
    demand_unit: DemandUnit = "bit/s",
    capacity: Capacity = None,
    threads: Threads = 1,
    plot: Annotated[Path | None, out_option("Write a PNG CDF of normalised MLU here.")] = None,
    out: Annotated[Path | None, out_option("Write all figures as JSON here.")] = None,
    fmt: Fmt = Format.table,
) -> None:
    """Compare solvers against the LP optimum: normalised MLU avg/p50/p75/p99, time per instance, peak memory."""
    from nettwin._json import write_json
    from nettwin.te.checkpoint import load_solver
    from nettwin.te.evaluate import evaluate as run_evaluation
    from nettwin.te.evaluate import plot_cdf
    from nettwin.te.registry import solver_class, solver_names

    link_capacity = _capacity(capacity)
    instances = _instances(
        topology,
        split=split,
        bars=fmt is Format.table,
        steps=steps,
        traffic=traffic,
        seed=seed,
        k=k,
        method=method,
        endpoints=endpoints,
        dynamic=dynamic,
        failures=failures,
        demands=list(demands) or None,
        demand_unit=demand_unit,
        capacity=link_capacity,
    )
    solvers = {}
    for path in model:
        s = load_solver(path)
        solvers[f"{s.name}:{path.stem}"] = s
    # the LP is the reference row, always there; learned solvers come from --model
    known = [n for n in solver_names() if n != "lp" and not solver_class(n).needs_fit]
    for name in filter(None, (b.strip() for b in baselines.split(","))):
        if name not in known:
            raise TEError(f"unknown baseline {name!r}; choose from {', '.join(known)}")
        solvers[name] = _solver(name, None, threads)
    total = len(instances) * (len(solvers) + 1)
    with (
        _threads(threads, bool(model)),
        progress_bar("evaluating", total, unit="solves", enabled=fmt is Format.table) as advance,
    ):
        result = run_evaluation(solvers, instances, callback=lambda name, i: advance(), threads=threads)
    if plot is not None:
        plot_cdf(result, plot, title=f"{topology}, {len(instances)} {split} instances")
    if out is not None:
        write_json(out, result.to_dict())
    if fmt is Format.json:
        print_json({"topology": topology, "instances": len(instances), "solvers": result.rows()})
        return
    columns = ["solver", "avg", "p50", "p75", "p99", "max", "ms/inst", "peak MiB", "solved", "note"]
    rows = [
        [r["solver"], r["avg"], r["p50"], r["p75"], r["p99"], r["max"], r["ms"], r["peak_mib"], r["solved"], r["note"]]
        for r in result.rows()
    ]
    print_table(f"normalised MLU on {topology} ({len(instances)} {split} instances)", columns, rows)
    for path in filter(None, (plot, out)):
        console.print(f"wrote {path}")
