"""Evaluation reports: every twin next to the simulator's own repeatability (SimBase levels) and queueing theory.

For each test sample, run R0 is the reference. SimBase averages runs R1, SimBase+ runs R1–R2, SimBase++ runs
R1–R3 (the simulator used as a twin, with more and more runs). Each method gets, per KPI, the NMAE (mean absolute
error over all test flows divided by the training set's IQR) and the MRE. Timing compares the twins' inference
per sample (from a resolved network: encode, batch, forward; batched) with the engine's simulation time per sample
(run R0's wall time recorded in the dataset).

The report is a JSON document (:func:`evaluate`) and a PNG figure — NMAE bars per KPI and method, and the twins'
learning curves (:func:`write_report`).
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import nettwin
from nettwin import metrics
from nettwin._estimator import torch_threads
from nettwin._files import atomic_write_bytes, png_bytes
from nettwin._json import write_json
from nettwin.errors import TwinError
from nettwin.metrics import mre, nmae
from nettwin.sim.analytic import limitation
from nettwin.sim.kpi import DEFAULT_KPIS
from nettwin.twin.base import BaseTwin
from nettwin.twin.graph import graph_from_network
from nettwin.twin.inputs import as_network
from nettwin.twin.learned import Twin
from nettwin.twin.qt import QueueingTwin
from nettwin.twin.ranges import OutsideTrainingWarning

__all__ = ["evaluate", "predict_timed", "write_report", "report_table", "SIMBASE_LEVELS"]

SIMBASE_LEVELS = {"SimBase": 1, "SimBase+": 2, "SimBase++": 3}
"""SimBase level → how many extra runs (R1..Rk) are averaged."""


def _dataset_iqr(dataset: Any, kpis: Sequence[str]) -> tuple[dict[str, float], dict[str, str]]:
    iqr, source = {}, {}
    for k in kpis:
        value = float(dataset.iqr(k))
        if value > 0:
            iqr[k], source[k] = value, "dataset manifest (training split IQR)"
        else:
            iqr[k] = metrics.iqr(dataset.kpi(k, "train"))
            source[k] = "training split IQR is 0; mean absolute deviation from the median instead"
    return iqr, source


def _scores(
    preds: Sequence[Mapping[str, np.ndarray]],
    refs: Sequence[Mapping[str, np.ndarray]],
    kpis: Sequence[str],
    iqr: Mapping[str, float],
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {"nmae": {}, "mre": {}}
    for k in kpis:
        p = np.concatenate([np.asarray(x[k], dtype=float) for x in preds])
        r = np.concatenate([np.asarray(x[k], dtype=float) for x in refs])
        out["nmae"][k] = nmae(p, r, iqr[k])
        out["mre"][k] = mre(p, r)
    return out


def predict_timed(
    twin: BaseTwin, networks: Sequence[Any], batch_size: int
) -> tuple[list[dict[str, np.ndarray]], dict[str, float]]:
    """Predictions for ``networks`` and their seconds per sample: end to end from resolved networks and, for learned
    twins, the encoding and the batched forward pass apart."""
    if isinstance(twin, QueueingTwin):
        start = time.perf_counter()
        preds = twin.predict(list(networks))
        return preds, {"seconds_per_sample": (time.perf_counter() - start) / len(networks)}
    with warnings.catch_warnings():  # a warm-up: evaluate reports networks outside the training ranges itself
        warnings.simplefilter("ignore", OutsideTrainingWarning)
        twin.predict(list(networks[:2]))
    start = time.perf_counter()
    graphs = [graph_from_network(n) for n in networks]
    encoded = time.perf_counter()
    preds = twin.predict_graphs(graphs, batch_size=batch_size)
    end = time.perf_counter()
    n = len(networks)
    return preds, {
        "seconds_per_sample": (end - start) / n,
        "model_seconds_per_sample": (end - encoded) / n,
        "encode_seconds_per_sample": (encoded - start) / n,
    }


def evaluate(
    twins: Sequence[BaseTwin],
    dataset: Any,
    *,
    split: str = "test",
    kpis: Sequence[str] | None = None,
    simbase: bool = True,
    qt: bool = True,
    batch_size: int = 256,
    limit: int | None = None,
    threads: int | None = None,
    iqr: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Score twins (and SimBase levels and queueing theory) on a dataset split; returns the report as a dict.

    Parameters
    ----------
    twins : fitted twins (learned or :class:`QueueingTwin`).
    dataset : a :class:`nettwin.data.Dataset` whose ``split`` samples have run R0 (and R1..R3 for SimBase).
    kpis : KPIs to score (default: those every twin predicts, in the first twin's order).
    simbase, qt : include the SimBase levels / the queueing-theory twin (unless one is already in ``twins``; never
        on networks it cannot model, such as wireless ones: the report's ``notes`` say why).
    batch_size : networks per forward pass when timing and predicting.
    limit : score only the first ``limit`` samples of the split.
    threads : CPU threads for the twins' inference (None: each twin's own setting).
    iqr : NMAE scales to use instead of the dataset's training IQRs (e.g. a test-only dataset of an unseen
        topology scored with the training dataset's IQRs).

    The report's ``notes`` also say when the dataset is incomplete (an interrupted generation) and how many
    networks are outside each learned twin's training ranges (also its method entry's ``outside_training``).

    Raises
    ------
    TwinError
        If a twin is not fitted, predicts none of the KPIs, or the split is empty.
    """
    twins = list(twins)
    for t in twins:
        t._check_fitted()
    if kpis is None:
        kpis = [k for k in twins[0].kpis_ if all(k in t.kpis_ for t in twins)] if twins else list(DEFAULT_KPIS)
    kpis = list(kpis)
    if not kpis:
        raise TwinError("evaluate: the twins have no KPI in common")
    samples = list(dataset.samples(split))[:limit]
    if not samples:
        raise TwinError(f"evaluate: the '{split}' split of {dataset} has no samples")
    networks = [as_network(s) for s in samples]
    notes = []
    if not getattr(dataset, "complete", True):
        done, total = dataset.manifest.get("counts", {}).get("samples"), dataset.manifest.get("samples")
        notes.append(
            f"dataset {dataset.manifest.get('name')} is incomplete ({done} of {total} samples generated): the scores "
            "cover those only; rerun 'nettwin dataset generate' to finish it"
        )
    if iqr is not None:
        iqr = {k: float(iqr[k]) for k in kpis}
        iqr_source = dict.fromkeys(kpis, "given")
    else:
        iqr, iqr_source = _dataset_iqr(dataset, kpis)
    if qt and not any(isinstance(t, QueueingTwin) for t in twins):
        reasons = sorted({why for n in networks if (why := limitation(n))})
        if reasons:
            notes += [f"no queueing theory: {why}" for why in reasons]
        else:
            twins.append(QueueingTwin(kpis).fit(iqr=iqr))
    refs = [s.kpis(0) for s in samples]

    methods: list[dict[str, Any]] = []
    for twin in twins:
        with torch_threads(threads):
            preds, timing = predict_timed(twin, networks, batch_size)
        entry = {
            "name": twin.name,
            "kind": "analytic" if isinstance(twin, QueueingTwin) else "twin",
            **_scores(preds, refs, kpis, iqr),
            **timing,
        }
        if isinstance(twin, Twin):
            entry["params"] = {k: v for k, v in twin.get_params().items() if k not in ("verbose",)}
            entry["fit_seconds"] = twin.fit_seconds_
            entry["n_train"] = twin.n_train_
            entry["outside_training"] = sum(bool(why) for why in twin.outside_training(networks))
            if entry["outside_training"]:
                notes.append(
                    f"{twin.name}: {entry['outside_training']} of {len(networks)} networks are outside the ranges "
                    "of inputs it was trained on (Twin.outside_training says why)"
                )
        methods.append(entry)

    if simbase:
        runs = min(s.n_runs for s in samples)
        for level, extra in SIMBASE_LEVELS.items():
            if runs < 1 + extra:
                continue
            preds = [{k: _mean_of_runs([s.kpis(r)[k] for r in range(1, 1 + extra)]) for k in kpis} for s in samples]
            methods.append(
                {
                    "name": level,
                    "kind": "simbase",
                    "runs": list(range(1, 1 + extra)),
                    **_scores(preds, refs, kpis, iqr),
                    "seconds_per_sample": None,
                }
            )

    sim = [m.get("wall_seconds") for s in samples for m in s.meta[:1]]
    sim = [x for x in sim if x is not None]
    sim_seconds = float(np.mean(sim)) if sim else None
    for m in methods:
        if m["kind"] == "simbase" and sim_seconds is not None:
            m["seconds_per_sample"] = sim_seconds * len(m["runs"])
        per = m.get("seconds_per_sample")
        m["speedup_vs_simulation"] = sim_seconds / per if sim_seconds and per and m["kind"] != "simbase" else None

    return {
        "format": "nettwin-twin-report",
        "nettwin_version": nettwin.__version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dataset": {
            "path": str(getattr(dataset, "path", "")),
            "name": dataset.manifest.get("name"),
            "engine": dataset.manifest.get("engine"),
            "split": split,
            "samples": len(samples),
            "flows": int(sum(len(r[kpis[0]]) for r in refs)),
        },
        "kpis": kpis,
        "iqr": iqr,
        "iqr_source": iqr_source,
        "simulation_seconds_per_sample": sim_seconds,
        "methods": methods,
        "notes": notes,
        "learning_curves": {
            t.name: [
                {"stage": r["stage"], "epoch": r["epoch"], "train_loss": r["train_loss"], "val_score": r["val_score"]}
                for r in t.history_
            ]
            for t in twins
            if isinstance(t, Twin)
        },
    }


def _mean_of_runs(runs: list[np.ndarray]) -> np.ndarray:
    """Per-flow mean over runs, ignoring runs where a flow's KPI is undefined (NaN where it is in every run, e.g. the
    delay of a flow that delivered nothing)."""
    stacked = np.asarray(runs, dtype=float)
    seen = np.isfinite(stacked)
    count = seen.sum(axis=0)
    total = np.where(seen, stacked, 0.0).sum(axis=0)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def report_table(report: Mapping[str, Any], metric: str = "nmae") -> tuple[list[str], list[list[Any]]]:
    """Columns and rows of a per-method table of ``metric`` (nmae or mre) per KPI, plus seconds per sample."""
    kpis = report["kpis"]
    columns = ["method", *[f"{k} {metric.upper()}" for k in kpis], "s/sample", "× faster than sim"]
    rows = []
    for m in report["methods"]:
        per = m.get("seconds_per_sample")
        speed = m.get("speedup_vs_simulation")
        rows.append(
            [
                m["name"],
                *[_round(m[metric][k]) for k in kpis],
                f"{per:.2e}" if per else "—",
                f"{speed:,.0f}" if speed else "—",
            ]
        )
    return columns, rows


def _round(x: float) -> float | str:
    return "—" if x is None or not np.isfinite(x) else round(float(x), 4)


def write_report(report: Mapping[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``<out>/report.json`` and ``<out>/report.png`` (``out`` a directory); returns both paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / "report.json", out / "report.png"
    write_json(json_path, report)
    atomic_write_bytes(png_path, _figure(report))
    return json_path, png_path


def _figure(report: Mapping[str, Any]) -> bytes:

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kpis, methods = report["kpis"], report["methods"]
    curves = report.get("learning_curves", {})
    fig, axes = plt.subplots(1, 2 if curves else 1, figsize=(13 if curves else 8, 4.5), squeeze=False)
    ax = axes[0][0]
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(kpis))
    colours = {"simbase": plt.cm.Greys, "analytic": plt.cm.Reds, "twin": plt.cm.Blues}
    counts = {kind: sum(m["kind"] == kind for m in methods) for kind in colours}
    finite = [
        m["nmae"][k]
        for m in methods
        for k in kpis
        if m["kind"] != "analytic" and m["nmae"][k] is not None and np.isfinite(m["nmae"][k])
    ]
    cap = 2.0 * max(finite) if finite else None
    seen = dict.fromkeys(colours, 0)
    for i, m in enumerate(methods):
        seen[m["kind"]] += 1
        shade = 0.45 + 0.45 * seen[m["kind"]] / max(counts[m["kind"]], 1)
        values = [m["nmae"][k] if m["nmae"][k] is not None else np.nan for k in kpis]
        pos = x - 0.4 + width * (i + 0.5)
        shown = [min(v, cap) if cap is not None else v for v in values]
        ax.bar(pos, shown, width, label=m["name"], color=colours[m["kind"]](shade), edgecolor="black", linewidth=0.4)
        for p, v, h in zip(pos, values, shown, strict=True):
            if np.isfinite(v) and v > h:  # off the scale: print the value on the clipped bar
                ax.text(p, h, f"{v:.3g}", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(x, kpis)
    if cap is not None:
        ax.set_ylim(0, cap * 1.15)
    ax.set_ylabel("NMAE (error / training IQR)")
    ds = report["dataset"]
    ax.set_title(f"{ds.get('name')} — {ds['split']} split, {ds['samples']} samples")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    if curves:
        ax2 = axes[0][1]
        for name, records in curves.items():
            stages = dict.fromkeys(r["stage"] for r in records)
            for stage in stages:
                pts = [(r["epoch"], r["val_score"]) for r in records if r["stage"] == stage]
                label = name if len(stages) == 1 else f"{name} [{stage}]"
                ax2.plot(*zip(*pts, strict=True), label=label)
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("validation NMAE (mean over KPIs)")
        ax2.set_title("learning curves")
        ax2.set_yscale("log")
        ax2.legend(fontsize=8)
        ax2.grid(alpha=0.3)
    fig.tight_layout()
    return png_bytes(fig, dpi=110)
