"""``nettwin dataset``: generate datasets from specs, import and export them, and summarise them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from nettwin.cli import guard
from nettwin.cli.output import Format, console, err_console, kpi_display, print_json, print_table, progress_callback
from nettwin.errors import DatasetError

__all__ = ["app", "generate", "import_", "export", "info"]

app = typer.Typer(
    help="Generate datasets of simulated scenarios (Parquet), import and export them, and summarise them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class ExecutorKind(StrEnum):
    local = "local"
    ray = "ray"


def _duration(text: str | None, option: str) -> float | None:
    from nettwin.scenario.units import UnitError, parse_time

    if text is None:
        return None
    try:
        return parse_time(text)
    except UnitError as err:
        raise DatasetError(f"{option}: {err}") from None


@app.command("generate")
def generate(
    spec: Annotated[Path, typer.Argument(help="Dataset spec file (YAML or JSON).")],
    out: Annotated[
        Path, guard.out_option("Dataset directory (created; resumed if it exists).", "--out", "-o", directory=True)
    ],
    workers: Annotated[int, typer.Option(min=1, help="Parallel workers.")] = 2,
    executor: Annotated[ExecutorKind, typer.Option(help="local (process pool) or ray.")] = ExecutorKind.local,
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: RAY_ADDRESS, else a local Ray).")
    ] = None,
    samples: Annotated[int | None, typer.Option(min=1, help="Override the spec's sample count.")] = None,
    engine: Annotated[str | None, typer.Option(help="Override the spec's engine (builtin, ns3, analytic).")] = None,
    sample_timeout: Annotated[
        str | None,
        typer.Option(help="Longest time one sample may take (e.g. 10min); a longer one is recorded as failed."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Generate the dataset of SPEC into --out; re-running the same command resumes an interrupted run."""
    from nettwin.data.generate import generate_dataset
    from nettwin.data.spec import SPLITS, load_dataset_spec

    guard.resumable()
    timeout = _duration(sample_timeout, "--sample-timeout")
    parsed = load_dataset_spec(spec)
    overrides = {k: v for k, v in (("samples", samples), ("engine", engine)) if v is not None}
    if overrides:
        parsed = parsed.replace(**overrides)

    def resuming(done: int, total: int | None) -> None:
        if total and done == 0 and total < parsed.samples:
            err_console.print(
                f"resuming: {parsed.samples - total} of {parsed.samples} samples already in {out}", highlight=False
            )

    with progress_callback(f"generating {parsed.dataset_name}", on_start=resuming) as progress:
        summary = generate_dataset(
            parsed,
            out,
            workers=workers,
            executor=executor.value,
            address=address,
            sample_timeout=timeout,
            progress=progress,
        )
    if fmt is Format.json:
        print_json(summary)
        return
    rows = [
        ["samples", summary["samples"]],
        ["ok", summary["ok"]],
        ["failed", summary["failed"]],
        ["generated now", summary["generated"]],
        ["already present", summary["resumed"]],
        ["train / val / test (ok)", " / ".join(str(summary["splits"][s]) for s in SPLITS)],
        ["wall time", f"{summary['wall_seconds']:.1f} s"],
        ["samples/s", f"{summary['samples_per_second']:.2f}"],
        ["status", summary["status"]],
    ]
    print_table(f"dataset {out}", ["", "value"], rows)
    if summary["failed"]:
        console.print(f"{summary['failed']} sample(s) failed; 'nettwin dataset info {out}' lists why")


@app.command("import")
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Source format: table, glance or datanet.")],
    source: Annotated[
        Path,
        typer.Argument(
            metavar="SOURCE",
            help="table: a .parquet, .csv or .jsonl file; glance: a scenario folder or dataset.zip; datanet: a tree, a "
            "dataset directory or one .tar.gz archive.",
        ),
    ],
    out: Annotated[
        Path, guard.out_option("Dataset directory to create (new or empty).", "--out", "-o", directory=True)
    ],
    name: Annotated[str | None, typer.Option(help="Dataset name (default: the directory's name).")] = None,
    seed: Annotated[
        int, typer.Option(min=0, max=2**63 - 1, help="Seed of the splits drawn when the source has none.")
    ] = 0,
    shard_size: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Samples per shard (and per resumable step).")
    ] = 256,
    fmt_out: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Import SOURCE as a nettwin dataset in --out; an interrupted import goes on where it stopped when run again."""
    from nettwin.data.importers import import_dataset

    guard.resumable()
    with progress_callback(f"importing {source.name}") as progress:
        summary = import_dataset(fmt, source, out, name=name, seed=seed, shard_size=shard_size, progress=progress)
    if fmt_out is Format.json:
        print_json(summary)
        return
    rows = [
        ["samples", summary["samples"]],
        ["left out (see the manifest's source.excluded)", summary["excluded"]],
        ["train / val / test", " / ".join(str(v) for v in summary["splits"].values())],
        ["KPIs", ", ".join(summary["kpis"])],
        ["link statistics", ", ".join(summary["link_stats"]) or "—"],
        ["wall time", f"{summary['wall_seconds']:.1f} s"],
        ["samples/s", f"{summary['samples_per_second']:.1f}"],
    ]
    print_table(f"dataset {out} (imported from {fmt} {source})", ["", "value"], rows)


@app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Dataset directory.")],
    out: Annotated[Path, guard.out_option("File to write (table: .parquet, .csv or .jsonl).", "--out", "-o")],
    fmt: Annotated[str, typer.Option("--format", help="Export format: table.")] = "table",
) -> None:
    """Write the ok samples of a dataset to --out (import gives the same dataset back)."""
    from nettwin.data.export import export_dataset

    with progress_callback(f"exporting {path.name}") as progress:
        summary = export_dataset(path, out, fmt, progress=progress)
    left = f" ({summary['failed_left_out']} failed sample(s) left out)" if summary["failed_left_out"] else ""
    console.print(f"wrote {summary['samples']} samples to {out}{left}", highlight=False)


@app.command("info")
def info(
    path: Annotated[Path, typer.Argument(help="Dataset directory.")],
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Summarise a dataset: samples per split and status, KPI distributions (run 0), busiest-link load."""
    from nettwin.data.info import dataset_info

    data = dataset_info(path)
    if fmt is Format.json:
        print_json(data)
        return
    source = data["source"]
    if source:
        # A dataset written from Python (DatasetWriter) may name no path, or no format.
        kind = escape(str(source["format"])) if source.get("format") else None
        where = escape(str(source["path"])) if source.get("path") else None
        if where:
            origin = f"imported from {kind} {where}" if kind else f"imported from {where}"
        else:
            origin = f"imported ({kind})" if kind else "imported"
    else:
        origin = f"engine {escape(str(data['engine']))}, seed {data['seed']}"
    console.print(
        f"[bold]{escape(str(data['name']))}[/]  {escape(data['path'])}  status [bold]{data['status']}[/], "
        f"{origin}, {data['stored']} of {data['samples']} samples stored",
        markup=True,
        highlight=False,
    )
    rows = [[s, v["ok"], v["failed"], ", ".join(str(n) for n in v["runs"]) or "—"] for s, v in data["splits"].items()]
    rows.append(["all", data["ok"], data["failed"], ""])
    print_table("samples", ["split", "ok", "failed", "runs per sample"], rows)

    def stat_row(name: str, d: dict[str, Any], scale: float = 1.0, extra: Any = None) -> list[Any]:
        cells = [d[k] * scale if d[k] is not None else "—" for k in ("min", "p25", "median", "p75", "max", "iqr")]
        return [name, *cells] + ([extra] if extra is not None else [])

    kpi_rows = []
    for k, v in data["kpis"].items():
        label, scale = kpi_display(k)
        kpi_rows.append(stat_row(label, v, scale))
    print_table("per-flow KPIs, run 0, all ok samples", ["KPI", "min", "p25", "median", "p75", "max", "IQR"], kpi_rows)
    load = data["busiest_link_offered_load"]
    share = f"{100 * load['share_above_1']:.0f}%" if load["share_above_1"] is not None else "—"
    print_table(
        "busiest link of each sample, run 0",
        ["measure", "min", "p25", "median", "p75", "max", "IQR", "> 1"],
        [
            stat_row("utilisation", data["busiest_link_utilisation"], extra="—"),
            stat_row("offered / capacity", load, extra=share),
        ],
    )
    if data["errors"]:
        print_table("failed samples", ["error", "samples"], [[e["error"], e["samples"]] for e in data["errors"]])
