"""``nettwin manage``: decide with the twin — what-if failures and searches over configurations, each verified by
simulation."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nettwin.cli.guard import default_output, out_option
from nettwin.cli.output import Format, console, print_json, print_table, progress_bar, progress_callback, status

if TYPE_CHECKING:
    from nettwin.twin import BaseTwin

__all__ = ["app"]

app = typer.Typer(
    help="Manage a network with a twin: what-if failures and configuration searches, verified by simulation.",
    no_args_is_help=True,
)


@app.command("loads")
def loads(
    twin_path: Annotated[Path, typer.Argument(metavar="TWIN", help="Learned twin checkpoint (from 'nettwin train').")],
    scenario: Annotated[Path, typer.Argument(help="Scenario file: the flows and paths kept.")],
    target: Annotated[
        str,
        typer.Option(
            help="Target file (flows: [{flow: 0, delay: 20ms, ...}]) or a number: the twin's KPIs at the "
            "flows' rates times it."
        ),
    ],
    kpis: Annotated[str | None, typer.Option(help="Comma-separated KPIs to aim at (default: all targeted).")] = None,
    restarts: Annotated[int, typer.Option(min=1, help="Settings searched at once (restart 0: the own traffic).")] = 8,
    steps: Annotated[int, typer.Option(min=0, help="Adam steps.")] = 200,
    lr: Annotated[float, typer.Option(min=0.0, help="Adam learning rate (log-parameter units).")] = 0.05,
    low: Annotated[float, typer.Option(help="Lowest rate/period, as a factor of the flow's own.")] = 0.01,
    high: Annotated[float, typer.Option(help="Highest rate/period factor (rates also capped by capacity).")] = 10.0,
    periods: Annotated[bool, typer.Option(help="Also search on/off flows' mean on and off periods.")] = True,
    within_training: Annotated[
        bool, typer.Option(help="Keep rates and periods within those the twin was trained on.")
    ] = True,
    runs: Annotated[int, typer.Option(min=1, help="Simulation runs verifying the result (built-in engine).")] = 3,
    seed: Annotated[int, typer.Option(min=0, help="Seeds the random restarts.")] = 0,
    out: Annotated[
        Path | None, out_option("Report directory (default loads-SCENARIO).", "--out", directory=True)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Find traffic (rates, on/off periods) whose KPIs meet a target profile, by gradient descent through the twin;
    verify by simulation; write loads.json and loads.png."""
    from nettwin.manage.loads import resolve_targets, search_loads, write_report
    from nettwin.sim import as_network
    from nettwin.twin import load_twin

    out = out or default_output(Path(f"loads-{scenario.stem}"), directory=True)
    twin = load_twin(twin_path)
    network = as_network(scenario)
    wanted = [k.strip() for k in kpis.split(",") if k.strip()] if kpis else None
    targets = resolve_targets(target, twin, network, wanted)
    with progress_callback("searching loads", unit="steps") as progress:  # opens once the settings are accepted
        found = search_loads(
            twin,
            network,
            targets,
            restarts=restarts,
            steps=steps,
            lr=lr,
            low=low,
            high=high,
            periods=periods,
            within_training=within_training,
            seed=seed,
            progress=progress,
        )
    with status(f"simulating the result ({runs} runs)"):
        verification = found.verify(runs=runs)
    json_path, png_path = write_report(found, verification, out)
    if fmt is Format.json:
        print_json({"search": found.to_dict(), "verification": verification.to_dict()})
        return
    figures = verification.metrics()
    rows = [[k, *(figures[k][m] for m in ("eps", "eps_bm", "r2", "twin_mre", "qos_failure"))] for k in targets]
    print_table(
        f"{network.name}: loads for the target, verified by {runs} simulation runs",
        ["KPI", "ε_gen", "ε_bm", "R²", "twin MRE", "QoS failures"],
        rows,
        caption=f"loss {found.start_loss:.3g} → {found.loss:.3g} (IQR-normalised squared error)",
    )
    console.print(f"wrote {json_path} and {png_path}")


EXHAUSTIVE_LIMIT = 100_000
"""Destination lists ``manage destinations --exhaustive`` enumerates at most."""


@app.command("destinations")
def destinations(
    twin_path: Annotated[
        str, typer.Argument(metavar="TWIN", help="Twin checkpoint, or 'qt' for queueing theory (no training).")
    ],
    scenario: Annotated[Path, typer.Argument(help="Scenario file: the flows whose destinations are chosen.")],
    target: Annotated[
        Path | None, typer.Option(help="Per-flow target KPIs (flows: [{flow: 0, delay: 20ms, ...}]).")
    ] = None,
    sla: Annotated[Path | None, typer.Option(help="SLA file: every flow within its bounds.")] = None,
    restarts: Annotated[int, typer.Option(min=1, help="Hill climbs, each from its best random start.")] = 5,
    starts: Annotated[int, typer.Option(min=1, help="Random destination lists drawn per restart.")] = 100,
    max_steps: Annotated[int | None, typer.Option(min=0, help="Steps per climb at most (default: no cap).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seeds the random starts and the random-search baseline.")] = 0,
    runs: Annotated[int, typer.Option(min=0, help="Simulation runs judging before and after (0: none).")] = 3,
    baseline: Annotated[bool, typer.Option(help="Also run random search at the same number of twin calls.")] = True,
    exhaustive: Annotated[
        bool,
        typer.Option("--exhaustive", help="Also evaluate every destination list by the twin (small networks): regret."),
    ] = False,
    select_runs: Annotated[
        int,
        typer.Option(
            min=0, help="Pick among the restarts' optima by this many simulation runs each (0: the twin's best)."
        ),
    ] = 0,
    out: Annotated[
        Path | None, out_option("Report directory (default destinations-SCENARIO).", "--out", directory=True)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Choose each flow's destination (sources fixed) for per-flow targets or an SLA by hill climbing with random
    restarts through the twin; verify before and after by simulation; write destinations.json and destinations.png."""
    from nettwin.errors import ManageError
    from nettwin.manage.destinations import choose_destinations, destination_lists, write_report
    from nettwin.manage.loads import read_targets
    from nettwin.manage.sla import load_sla
    from nettwin.sim import as_network

    if (target is None) == (sla is None):
        raise ManageError("give --target FILE or --sla FILE, one of them")
    out = out or default_output(Path(f"destinations-{scenario.stem}"), directory=True)
    twin = _twin(twin_path)
    network = as_network(scenario)
    targets = read_targets(target, network) if target is not None else None
    bounds = load_sla(sla).bounds(network) if sla is not None else None
    total = destination_lists(network)
    if exhaustive and total > EXHAUSTIVE_LIMIT:
        raise ManageError(f"--exhaustive: {total} destination lists, more than {EXHAUSTIVE_LIMIT} to enumerate")
    with progress_bar("hill climbing", restarts, unit="restarts") as climbed:
        choice = choose_destinations(
            network,
            twin,
            target=targets,
            bounds=bounds,
            runs=0,
            baseline=False,
            restarts=restarts,
            starts=starts,
            max_steps=max_steps,
            seed=seed,
            progress=climbed,
        )
    evaluations = choice.found.evaluations
    if baseline:
        with progress_bar("random search", evaluations, unit="configurations") as drawn:
            choice.compare_random(drawn)
    if exhaustive:
        with progress_bar("exhaustive search", total, unit="configurations") as enumerated:
            choice.compare_exhaustive(EXHAUSTIVE_LIMIT, progress=enumerated)
    if select_runs:
        distinct = len({tuple(dst.tolist()) for dst, _, _ in choice.found.optima})
        with progress_bar("simulating the optima", distinct, unit="configurations") as simulated:
            choice.select_by_simulation(select_runs, progress=simulated)
    if runs:
        with status(f"simulating before and after ({runs} runs each)"):
            choice.verify(runs)
    json_path, png_path = write_report(choice, out)
    if fmt is Format.json:
        print_json(choice.to_dict())
        return
    rows = [
        [k, *(r.get(c) for c in ("before_simulated", "before_twin", "after_simulated", "after_twin"))]
        for k, r in choice.failure_ratios().items()
    ]
    moved = choice.to_dict()["moved"]
    caption = (
        f"{moved} of {network.n_flows} flows moved; twin loss {choice.found.loss:.3g} in {evaluations} evaluations"
    )
    if choice.baseline is not None:
        caption += f" (random search: {choice.baseline.loss:.3g})"
    if choice.optimum is not None:
        caption += f"; exhaustive optimum {choice.optimum.loss:.3g} ({choice.optimum.evaluations} evaluations)"
    if choice.selection is not None:
        caption += f"; chosen by simulation among {len(choice.selection)} restart optima"
    print_table(
        f"{network.name}: destinations by twin {twin.name}, share of flows missing the goal",
        ["KPI", "before (sim)", "before (twin)", "after (sim)", "after (twin)"],
        rows,
        caption=caption,
    )
    console.print(f"wrote {json_path}" + (f" and {png_path}" if png_path else ""))


@app.command("routing")
def routing(
    twin_path: Annotated[
        str, typer.Argument(metavar="TWIN", help="Twin checkpoint, or 'qt' for queueing theory (no training).")
    ],
    scenario: Annotated[Path, typer.Argument(help="Scenario file: the flows to route.")],
    sla: Annotated[Path, typer.Option(help="SLA file: the per-flow bounds to meet.")],
    k: Annotated[int, typer.Option("--k", min=1, help="Candidate paths per flow (k shortest, TE's).")] = 4,
    restarts: Annotated[int, typer.Option(min=1, help="Local searches (the first from shortest paths).")] = 3,
    seed: Annotated[int, typer.Option(min=0, help="Seeds the random starts of restarts after the first.")] = 0,
    runs: Annotated[int, typer.Option(min=0, help="Simulation runs judging each routing (0: none).")] = 3,
    out: Annotated[
        Path | None, out_option("Report directory (default routing-SCENARIO).", "--out", directory=True)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Choose one of k candidate paths per flow so that the SLA holds (else its worst margin is largest) by local
    search through the twin; compare with shortest paths and the min-MLU TE split by simulation; write routing.json
    and routing.png."""
    from nettwin.manage.routing import compare_routings, search_routes, write_report
    from nettwin.manage.sla import load_sla
    from nettwin.sim import as_network

    out = out or default_output(Path(f"routing-{scenario.stem}"), directory=True)
    model = _twin(twin_path)
    network = as_network(scenario)
    bounds = load_sla(sla).bounds(network)
    with progress_bar("local search", restarts, unit="restarts") as searched:
        found = search_routes(network, model, bounds, k=k, restarts=restarts, seed=seed, progress=searched)
    with status(f"simulating the three routings ({runs} runs each)"):
        comparison = compare_routings(network, model, bounds, runs=runs, search=found)
    json_path, png_path = write_report(comparison, out)
    if fmt is Format.json:
        print_json(comparison.to_dict())
        return
    figures = comparison.figures()
    columns = ["routing", "MLU", "twin missed", "twin worst margin", "twin delay ms"]
    if runs:
        columns += ["sim missed", "sim worst margin", "sim delay ms"]
    rows = []
    for name, f in figures.items():
        row = [name, round(f["mlu"], 3), f["twin_violations"], _figure(f["twin_worst_margin"])]
        row.append(_figure(f["twin_mean_delay"] and f["twin_mean_delay"] * 1e3))
        if runs:
            row += [f["violations"], _figure(f["worst_margin"]), _figure(f["mean_delay"] * 1e3)]
        rows.append(row)
    search = comparison.search
    print_table(
        f"{network.name}: routings judged against the SLA ({model.name})",
        columns,
        rows,
        caption=f"chosen by local search: {search.evaluations} twin evaluations, k={k}, {restarts} restarts",
    )
    console.print(f"wrote {json_path} and {png_path}")


def _twin(name: str) -> BaseTwin:
    """The twin ``name`` names: ``qt`` (queueing theory, no training), else a checkpoint file."""
    from nettwin.twin import load_twin, make_twin

    return make_twin("qt").fit([]) if name == "qt" else load_twin(name)


@contextlib.contextmanager
def _staged_progress(stages: dict[str, tuple[str, str]]) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback with one bar per stage (``{stage: (title, unit)}``), each opening
    at its stage's first call."""
    with contextlib.ExitStack() as stack:
        bars = {stage: stack.enter_context(progress_callback(title, unit)) for stage, (title, unit) in stages.items()}
        yield lambda stage, done, total: bars[stage](done, total)


@app.command()
def whatif(
    twin: Annotated[str, typer.Argument(help="Twin checkpoint, or 'qt' for the queueing-theory twin.")],
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).")],
    sla: Annotated[Path | None, typer.Option("--sla", help="SLA file (YAML or JSON); see docs/manage.md.")] = None,
    k: Annotated[int, typer.Option("--k", min=2, help="Links in each sampled multi-link failure.")] = 2,
    samples: Annotated[int, typer.Option(min=0, help="Sampled k-link failures.")] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sampled failures.")] = 0,
    nodes: Annotated[bool, typer.Option("--nodes/--no-nodes", help="Also fail each node.")] = True,
    directed: Annotated[
        bool, typer.Option("--directed", help="Fail each direction of a link on its own, not both as one.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--verify", help="Simulate every failure and compare the twin's ranking with it.")
    ] = False,
    runs: Annotated[int, typer.Option(min=1, help="Simulation runs per failure with --verify.")] = 3,
    top: Annotated[int, typer.Option(min=1, help="Failures shown in the table.")] = 10,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    out: Annotated[
        Path | None, out_option("Write whatif.json and whatif.png into this directory.", directory=True)
    ] = None,
) -> None:
    """Fail every link and node of SCENARIO (and sampled k-link sets), judge each with a twin, rank by criticality."""
    from nettwin._json import write_json
    from nettwin.errors import ManageError
    from nettwin.manage.sla import load_sla
    from nettwin.manage.whatif import plot_criticality
    from nettwin.manage.whatif import whatif as run_whatif
    from nettwin.sim import as_network

    model = _twin(twin)
    network = as_network(scenario)
    agreement = load_sla(sla) if sla is not None else None
    stages = {"twin": ("predicting failures", "networks"), "simulation": ("simulating failures", "networks")}
    with _staged_progress(stages) as progress:
        report = run_whatif(
            model,
            network,
            sla=agreement,
            nodes=nodes,
            k=k,
            samples=samples,
            seed=seed,
            bidirectional=not directed,
            runs=runs if check else 0,
            progress=progress,
        )
    payload = report.to_dict()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "whatif.json", payload)
        plot_criticality(report, out / "whatif.png")
    if fmt is Format.json:
        print_json(payload)
        return
    if not payload["ranking"]:
        raise ManageError("no failures were judged")
    columns = ["rank", "failure", "kind", "lost", "SLA missed", "Δ delay ms"]
    if check:
        columns += ["sim rank", "sim lost+SLA", "sim Δ delay ms"]
    rows = []
    for r in payload["ranking"][:top]:
        row = [r["rank"], r["failure"], r["kind"], len(r["lost_flows"]), len(r["sla_flows_missing"])]
        row.append(round(r["mean_delay_increase"] * 1e3, 2))
        if check:
            s = r["simulated"]
            row += [s["rank"], s["flows_hurt"], round(s["mean_delay_increase"] * 1e3, 2)]
        rows.append(row)
    speed = payload["speed"]
    caption = f"{payload['failures']} failures; twin {speed['twin_configs_per_s']:.0f} networks/s"
    if check:
        a = payload["agreement"]
        caption += f"; simulation {speed['sim_configs_per_s']:.1f} networks/s ({runs} runs each)"
        caption += f"; Spearman {_figure(a['spearman'])}, SLA violations found {_figure(a['violations_found'])}"
    print_table(f"{network.name}: most critical failures ({report.twin})", columns, rows, caption)


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@app.command("upgrades")
def upgrades(
    twin: Annotated[str, typer.Argument(help="Twin checkpoint, or 'qt' for the queueing-theory twin.")],
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).")],
    budget: Annotated[int, typer.Option(min=0, help="Link upgrades to plan (a link may be upgraded again).")] = 3,
    factor: Annotated[
        float, typer.Option(help="Capacity multiplier of one upgrade (both directions of a link).")
    ] = 2.0,
    objective: Annotated[str, typer.Option(help="delay (mean flow delay) or sla (SLA bounds missed).")] = "delay",
    sla: Annotated[
        Path | None, typer.Option("--sla", help="SLA file (YAML or JSON); needed by --objective sla.")
    ] = None,
    runs: Annotated[int, typer.Option(min=0, help="Simulation runs verifying each plan (0: none).")] = 3,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random baseline.")] = 0,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    out: Annotated[
        Path | None, out_option("Write upgrades.json and upgrades.png into this directory.", directory=True)
    ] = None,
) -> None:
    """Plan BUDGET link upgrades greedily by the twin for the lowest mean delay or fewest SLA violations; compare with
    upgrading by utilisation, by degree and at random; verify every plan by simulation."""
    from nettwin.manage.sla import load_sla
    from nettwin.manage.upgrades import plan_upgrades, write_report
    from nettwin.sim import as_network

    model = _twin(twin)
    network = as_network(scenario)
    agreement = load_sla(sla) if sla is not None else None
    stages = {"twin": ("greedy upgrades", "steps"), "simulation": ("simulating plans", "networks")}
    with _staged_progress(stages) as progress:
        report = plan_upgrades(
            model,
            network,
            budget=budget,
            factor=factor,
            objective=objective,
            sla=agreement,
            runs=runs,
            seed=seed,
            progress=progress,
        )
    paths = write_report(report, out) if out is not None else None
    if fmt is Format.json:
        print_json(report.to_dict())
        return
    scale, unit = (1e3, "mean delay ms") if objective == "delay" else (1.0, "SLA missed")

    def shown(value: float | None) -> float | str:
        return "n/a" if value is None else round(value * scale, 3)

    rows = [
        [r.rule, ", ".join(r.upgrades) or "—", shown(r.twin), shown(r.simulated), shown(r.simulated_std)]
        for r in (report.before, report.plan, *report.baselines)
    ]
    front = " → ".join(str(shown(p["twin"])) for p in report.front)
    print_table(
        f"{network.name}: {budget} link upgrades (capacity × {factor:g}) by twin {model.name}",
        ["plan", "upgrades", f"twin {unit}", f"simulated {unit}", "sim std"],
        rows,
        caption=f"front by the twin: {front}; {report.evaluations} twin evaluations, {runs} simulation runs per plan",
    )
    if paths is not None:
        console.print(f"wrote {paths[0]} and {paths[1]}")
