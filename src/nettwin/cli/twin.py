"""``nettwin train``, ``nettwin evaluate`` and ``nettwin predict``: learned twins from the command line."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from nettwin.cli.guard import default_output, out_option
from nettwin.cli.output import Format, console, err_console, kpi_display, print_json, print_table, status


class Inputs(StrEnum):
    default = "default"
    scale_free = "scale-free"


__all__ = ["register", "train", "evaluate", "predict"]


def _kpi_list(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def parse_model_options(pairs: list[str] | None) -> dict[str, Any]:
    """``key=value`` model options; values parsed as JSON where they can be (numbers, lists, booleans)."""
    from nettwin.errors import TwinError

    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise TwinError(f"--option: expected key=value, got '{pair}'")
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory (from 'nettwin dataset generate').")],
    model: Annotated[str, typer.Option(help="glance, routenet, routenet_fermi, gnn, or qt.")] = "glance",
    strategy: Annotated[str, typer.Option(help="stl, mtl or tl.")] = "mtl",
    kpis: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated KPIs to predict (default: those of delay, jitter, throughput, drops the dataset "
            "holds)."
        ),
    ] = None,
    source_kpis: Annotated[str | None, typer.Option(help="TL: comma-separated KPIs to pre-train on.")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 100,
    batch_size: Annotated[int, typer.Option(min=1, help="Networks per training step.")] = 16,
    lr: Annotated[float, typer.Option(min=0.0, help="Adam learning rate.")] = 1e-3,
    weight_decay: Annotated[float, typer.Option(min=0.0, help="L2 penalty.")] = 1e-5,
    patience: Annotated[int, typer.Option(min=1, help="Early stopping: epochs without a better val NMAE.")] = 15,
    loss: Annotated[str, typer.Option(help="mae, mse or huber (on IQR-normalised KPIs).")] = "mae",
    probabilistic: Annotated[
        bool, typer.Option(help="Heads predict distributions: binomial for drops, Normal for the rest (value, std).")
    ] = False,
    option: Annotated[list[str] | None, typer.Option(help="Model option key=value (repeatable), e.g. T=3.")] = None,
    inputs: Annotated[
        Inputs,
        typer.Option(
            help="Feature columns: the model's defaults, or only scale-free ones (loads, ratios to transmission "
            "times, queueing-theory estimates, scheduling), which carry over to larger networks and faster links."
        ),
    ] = Inputs.default,
    relative_delay: Annotated[
        bool,
        typer.Option(help="Learn delays as the log of their queueing part over transmission times (scale-free)."),
    ] = False,
    max_minutes: Annotated[float | None, typer.Option(min=0.0, help="Stop training after this long.")] = None,
    folds: Annotated[int, typer.Option(min=0, help="Also run k-fold cross-validation on train+val first.")] = 0,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (default: cuda when present).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for torch.")] = 1,
    out: Annotated[Path | None, out_option("Checkpoint file (default MODEL-STRATEGY.pt).", "--out", "-o")] = None,
    quiet: Annotated[bool, typer.Option(help="No per-epoch lines.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Train a twin on DATASET (early stopping on its val split) and write a checkpoint."""
    import numpy as np

    from nettwin.data import Dataset
    from nettwin.twin import Twin, cross_validate, default_kpis, make_twin, scale_free_options
    from nettwin.twin.training import kept_record

    if model == "qt" and (inputs is Inputs.scale_free or relative_delay):
        from nettwin.errors import TwinError

        raise TwinError("--inputs and --relative-delay apply to learned twins; queueing theory reads no features")
    model_options = parse_model_options(option)
    ds = Dataset(dataset)
    out = out or default_output(Path(f"{model}-{strategy}.pt"))
    if kpis is None:
        targets, left_out = default_kpis(ds.kpis, str(dataset))
        if left_out:
            err_console.print(
                f"note: learning {', '.join(targets)}; the default KPI(s) {', '.join(left_out)} left out: {dataset} "
                "does not hold them",
                highlight=False,
                soft_wrap=True,
            )
    else:
        targets = _kpi_list(kpis)
    # The twin registry picks the class; a twin that is not a learnable model (qt) takes only its own parameters.
    twin = make_twin(
        model,
        strategy=strategy,
        kpis=targets,
        source_kpis=_kpi_list(source_kpis) if source_kpis else None,
        options=model_options if inputs is Inputs.default else {**scale_free_options(model), **model_options},
        relative_delay=relative_delay,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        patience=patience,
        loss=loss,
        probabilistic=probabilistic,
        max_seconds=max_minutes * 60 if max_minutes else None,
        seed=seed,
        device=device,
        threads=threads,
    )
    cv = None
    if folds and isinstance(twin, Twin):
        with status(f"{folds}-fold cross-validation"):
            cv = cross_validate(twin, [*ds.samples("train"), *ds.samples("val")], folds=folds, seed=seed)

    def show(r: dict[str, Any]) -> None:
        if not quiet and fmt is Format.table:
            errs = "  ".join(f"{k} {v:.4f}" for k, v in r["val_nmae"].items())
            err_console.print(
                f"[{r['stage']}] epoch {r['epoch']:3d}  loss {r['train_loss']:.4f}  val NMAE {errs}"
                f"  ({r['seconds']:.0f} s)",
                highlight=False,
            )

    twin.fit(ds, callback=show)
    twin.save(out)
    summary: dict[str, Any] = {"checkpoint": str(out), "twin": twin.name, "kpis": twin.kpis_, "iqr": twin.iqr_}
    if isinstance(twin, Twin):
        best = {}
        for stage in dict.fromkeys(r["stage"] for r in twin.history_):
            records = [r for r in twin.history_ if r["stage"] == stage]
            best[stage] = kept_record(records)
        summary.update(
            fit_seconds=twin.fit_seconds_,
            n_train=twin.n_train_,
            best={s: {"epoch": r["epoch"], "val_nmae": r["val_nmae"]} for s, r in best.items()},
        )
        if cv is not None:
            summary["cross_validation"] = cv
    if fmt is Format.json:
        print_json(summary)
        return
    if isinstance(twin, Twin):
        rows = [
            [s, b["epoch"], *[round(b["val_nmae"].get(k, float("nan")), 4) for k in twin.kpis_]]
            for s, b in summary["best"].items()
        ]
        print_table(
            f"{twin.name}: best validation NMAE",
            ["stage", "epoch", *twin.kpis_],
            rows,
            caption=f"{twin.n_train_} training samples, {twin.fit_seconds_:.0f} s",
        )
        if cv is not None:
            rows = [[f"fold {i}", *[round(f[k], 4) for k in twin.kpis_]] for i, f in enumerate(cv)]
            rows.append(["mean", *[round(float(np.mean([f[k] for f in cv])), 4) for k in twin.kpis_]])
            print_table("cross-validation NMAE", ["", *twin.kpis_], rows)
    console.print(f"wrote {out}")


def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="Twin checkpoint (from 'nettwin train').")],
    dataset: Annotated[Path, typer.Argument(help="Dataset directory.")],
    also: Annotated[list[Path] | None, typer.Option("--also", help="More checkpoints to compare (repeatable).")] = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    out: Annotated[
        Path | None, out_option("Report directory (default report-DATASET).", "--out", "-o", directory=True)
    ] = None,
    simbase: Annotated[bool, typer.Option(help="Include SimBase, SimBase+, SimBase++.")] = True,
    qt: Annotated[bool, typer.Option(help="Include queueing theory.")] = True,
    limit: Annotated[int | None, typer.Option(min=1, help="Score only the first N samples.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Score twins against SimBase levels and queueing theory; write report.json and report.png."""
    from nettwin.data import Dataset
    from nettwin.twin import load_twin
    from nettwin.twin.evaluate import evaluate as run_evaluation
    from nettwin.twin.evaluate import report_table, write_report

    out = out or default_output(Path(f"report-{Path(dataset).name}"), directory=True)
    ds = Dataset(dataset)
    twins = [load_twin(p) for p in [checkpoint, *(also or [])]]
    with status(f"evaluating {', '.join(t.name for t in twins)} on {dataset} ({split})"):
        report = run_evaluation(twins, ds, split=split, simbase=simbase, qt=qt, limit=limit)
    json_path, png_path = write_report(report, out)
    if fmt is Format.json:
        print_json(report)
        return
    d = report["dataset"]
    for metric in ("nmae", "mre"):
        columns, rows = report_table(report, metric)
        sim = report["simulation_seconds_per_sample"]
        print_table(
            f"{metric.upper()} on {d['name']} ({d['split']}: {d['samples']} samples, {d['flows']} flows)",
            columns,
            rows,
            caption=f"simulation: {sim:.2e} s/sample ({d['engine']})" if sim else None,
        )
    for note in report["notes"]:
        console.print(f"note: {note}")
    console.print(f"wrote {json_path} and {png_path}")


def predict(
    checkpoint: Annotated[Path, typer.Argument(help="Twin checkpoint.")],
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML or JSON).")],
    out: Annotated[Path | None, out_option("Also write the predictions as JSON.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Predict per-flow KPIs of SCENARIO with a twin (delay/jitter in ms, throughput in kbps, drops in packets)."""
    from nettwin._json import write_json
    from nettwin.sim import as_network
    from nettwin.twin import load_twin

    twin = load_twin(checkpoint)
    network = as_network(scenario)
    pred = twin.predict(network)  # warns when the network is outside the twin's training ranges
    flows = []
    for i, f in enumerate(network.flows):
        rec: dict[str, Any] = {"flow": i, "src": network.nodes[f.src], "dst": network.nodes[f.dst], "hops": len(f.path)}
        rec.update({k: float(v[i]) for k, v in pred.items()})
        flows.append(rec)
    payload = {
        "twin": twin.name,
        "checkpoint": str(checkpoint),
        "scenario": network.name,
        "outside_training": twin.outside_training(network),
        "flows": flows,
    }
    if out is not None:
        write_json(out, payload)
    if fmt is Format.json:
        print_json(payload)
        return
    kpis = [k for k in twin.kpis_]
    columns = ["flow", "src→dst", "hops"]
    for k in kpis:
        name, _ = kpi_display(k, short=True)
        columns.append(name)
        if f"{k}_std" in pred:
            columns.append(f"± {name}")
    rows = []
    for r in flows:
        row = [r["flow"], f"{r['src']}→{r['dst']}", r["hops"]]
        for k in kpis:
            _, scale = kpi_display(k)
            row.append(round(r[k] * scale, 3))
            if f"{k}_std" in r:
                row.append(round(r[f"{k}_std"] * scale, 3))
        rows.append(row)
    print_table(
        f"{twin.name} predictions for {network.name}",
        columns,
        rows,
        caption=f"{network.n_flows} flows, {network.n_links} links",
    )
    if out is not None:
        console.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate`` and ``predict`` to the application."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
