"""``nettwin simulate``: run a scenario and print per-flow KPIs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nettwin.cli.guard import out_option
from nettwin.cli.output import Format, console, print_json, print_table, status

if TYPE_CHECKING:
    from nettwin.sim import SimResult

__all__ = ["register", "simulate"]


def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).")],
    engine: Annotated[str | None, typer.Option(help="Engine; default: the scenario's simulation.engine.")] = None,
    runs: Annotated[int, typer.Option(min=1, help="Independent runs (run 0 + SimBase runs).")] = 1,
    seed: Annotated[int | None, typer.Option(min=0, help="Override simulation.seed.")] = None,
    vs: Annotated[
        str | None, typer.Option(help="Also run this engine (e.g. 'analytic') and show it side by side.")
    ] = None,
    out: Annotated[Path | None, out_option("Write all runs as JSON to this file.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Simulate SCENARIO and print a per-flow KPI table (delay and jitter in ms, throughput in kbps)."""
    from nettwin._json import write_json
    from nettwin.sim import as_network
    from nettwin.sim import simulate as run_simulation

    network = as_network(scenario)
    with status(f"simulating {network.name} ({network.n_flows} flows, {network.n_links} links)"):
        results = run_simulation(network, engine=engine, seed=seed, runs=runs)
        other = run_simulation(network, engine=vs, seed=seed)[0] if vs else None
    payload = {"scenario": network.name, "runs": [r.to_dict() for r in results]}
    if other is not None:
        payload["vs"] = other.to_dict()
    if out is not None:
        write_json(out, payload)
    if fmt is Format.json:
        print_json(payload)
        return
    _print_flows(network.nodes, results, other)
    if out is not None:
        console.print(f"wrote {out}")


def _print_flows(nodes: tuple[str, ...], results: list[SimResult], other: SimResult | None) -> None:

    r0 = results[0]
    columns = ["flow", "src→dst", "hops", "delay ms", "jitter ms", "p99 ms", "thr kbps", "tx", "rx", "drop %"]
    label = nodes if max(map(len, nodes)) <= 6 else tuple(map(str, range(len(nodes))))
    if other is not None:
        name = other.meta["engine"]
        columns += [f"{name} delay ms", f"{name} thr kbps", f"{name} drop %"]
    split = r0.routes["flow"] if r0.routes is not None else []
    rows = []
    for i in range(r0.n_flows):
        n_paths = int((split == i).sum()) if len(split) else 1
        row = [
            i,
            f"{label[r0.flow_src[i]]}→{label[r0.flow_dst[i]]}",
            len(r0.paths[i]) - 1 if n_paths == 1 else f"{n_paths} paths",
            _ms(r0.flows["delay"][i]),
            _ms(r0.flows["jitter"][i]),
            _ms(r0.flows["delay_p99"][i]),
            round(float(r0.flows["throughput"][i]) / 1e3, 2),
            int(r0.flows["tx_packets"][i]),
            int(r0.flows["rx_packets"][i]),
            round(100 * float(r0.flows["drop_rate"][i]), 2),
        ]
        if other is not None:
            row += [
                _ms(other.flows["delay"][i]),
                round(float(other.flows["throughput"][i]) / 1e3, 2),
                round(100 * float(other.flows["drop_rate"][i]), 2),
            ]
        rows.append(row)
    meta = r0.meta
    caption = (
        f"{meta.get('engine')} engine, seed {meta.get('seed')}, {meta.get('packets', 0):,} packets, "
        f"{meta.get('wall_seconds', 0):.2f} s wall"
    )
    print_table("per-flow KPIs (run 0)", columns, rows, caption)
    if r0.routes is not None:
        _print_routes(label, r0)
    if len(results) > 1:
        _print_runs(results)
    if other is not None:
        _print_gap(r0, other)


def _print_routes(label: tuple[str, ...], r0: SimResult) -> None:
    """Each path of the flows that split, with the share it was given and what its packets met."""
    routes = r0.routes
    assert routes is not None
    counts = {f: int((routes["flow"] == f).sum()) for f in set(routes["flow"].tolist())}
    rows = [
        [
            int(routes["flow"][r]),
            f"{100 * float(routes['share'][r]):.1f}",
            "→".join(label[n] for n in r0.route_paths[r]),
            _ms(routes["delay"][r]),
            round(float(routes["throughput"][r]) / 1e3, 2),
            int(routes["tx_packets"][r]),
            round(100 * float(routes["drop_rate"][r]), 2),
        ]
        for r in range(len(r0.route_paths))
        if counts[int(routes["flow"][r])] > 1
    ]
    columns = ["flow", "share %", "path", "delay ms", "thr kbps", "tx", "drop %"]
    print_table("paths of the flows that split (run 0)", columns, rows)


def _ms(seconds: float) -> float | str:
    import numpy as np

    return "—" if not np.isfinite(seconds) else round(float(seconds) * 1e3, 3)


def _print_runs(results: list[SimResult]) -> None:
    import numpy as np

    from nettwin.scenario.units import format_rate, format_time

    rows = []
    for i, r in enumerate(results):
        rows.append(
            [
                f"R{i}",
                format_time(float(np.nanmean(r.flows["delay"]))),
                format_time(float(np.nanmean(r.flows["jitter"]))),
                format_rate(float(np.sum(r.flows["throughput"]))),
                int(np.sum(r.flows["dropped"])),
            ]
        )
    print_table("runs", ["run", "mean delay", "mean jitter", "total throughput", "dropped"], rows)


def _print_gap(ref: SimResult, other: SimResult) -> None:
    from nettwin.metrics import relative_gap

    rows = []
    # The queueing baseline has no notion of consecutive packets, so delay_std stands in for jitter here.
    for kpi in ("delay", "delay_std", "throughput", "drop_rate"):
        gap = relative_gap(other.flows[kpi], ref.flows[kpi])
        rows.append([kpi, f"{100 * gap['mre']:.1f}%", f"{100 * gap['median_re']:.1f}%", f"{gap['corr']:.3f}"])
    print_table(
        f"{other.meta['engine']} vs {ref.meta['engine']}",
        ["KPI", "mean rel. error", "median rel. error", "correlation"],
        rows,
        caption="relative errors over flows with a non-zero reference value",
    )


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command("simulate")(simulate)
