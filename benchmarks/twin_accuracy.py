"""Twin accuracy against SimBase levels and queueing theory (the bars of the learnable-twin issue).

Usage::

    python benchmarks/twin_accuracy.py --suite nsfnet                  # 2,500 NSFNET samples, 1.5K/0.5K/0.5K
    python benchmarks/twin_accuracy.py --suite grid --samples 1000     # random flows on the 4x4 grid
    python benchmarks/twin_accuracy.py --suite topologies              # grids of several sizes (random topologies)
    python benchmarks/twin_accuracy.py --suite generalisation          # NSFNET + GEANT2 -> unseen GBN (delay MRE)
    python benchmarks/twin_accuracy.py --suite scale --inputs scale-free --relative-delay
                                       # grids of <= 16 nodes -> 36, 49 and 100 nodes, and 2.5x faster links
    python benchmarks/twin_accuracy.py --suite qos --inputs scale-free # links drawn FIFO/SP/WFQ/DRR, flows of 3 classes
    python benchmarks/twin_accuracy.py --suite wireless --dataset DIR  # ns-3 4x4 RegGrid, 1,500 samples

Each suite generates its dataset(s) under ``--out`` (reused when already there; resumed when unfinished), trains
every twin of ``--twins`` (MTL unless ``--strategy``), evaluates them next to SimBase, SimBase+, SimBase++ and
queueing theory, prints the NMAE/MRE tables and the bar checks, and writes ``report.json``/``report.png`` and the
checkpoints. Every figure comes from the run that prints it; nothing is asserted.

The wired suites use the built-in engine. The wireless suite is ``examples/ns3/wireless-reggrid-glance.yaml``,
simulated with ns-3 (hours on a small machine, so ``--dataset`` can name a directory generated beforehand with
``nettwin dataset generate``). Queueing theory cannot model a shared radio medium, so the wireless report has no
queueing-theory row (its notes say why).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nettwin.cli.output import print_table
from nettwin.cli.twin import parse_model_options
from nettwin.data import Dataset, generate_dataset
from nettwin.twin import Twin, load_twin, mre, scale_free_options
from nettwin.twin.evaluate import evaluate, report_table, write_report
from nettwin.twin.training import kept_record

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "datasets"
SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _example(name: str) -> dict[str, Any]:
    spec = yaml.safe_load((EXAMPLES / name).read_text())
    if isinstance(spec.get("base"), str):
        spec["base"] = str(EXAMPLES / spec["base"])
    return spec


def _random_flows_spec(
    name: str,
    topologies: list[dict[str, Any]],
    samples: int,
    seed: int,
    count: tuple[int, int] = (15, 40),
    rates: tuple[float, float] = (20e3, 250e3),
    duration: str = "60s",
) -> dict[str, Any]:
    """Random Poisson flows on wired topologies, RouteNet style: rates (bit/s) and packet sizes vary per flow."""
    return {
        "name": name,
        "base": {
            "name": name,
            "topology": topologies[0],
            "simulation": {"engine": "builtin", "duration": duration, "warmup": "2s"},
        },
        "samples": samples,
        "seed": seed,
        "splits": SPLITS,
        "simbase_runs": 3,
        "shard_size": 100,
        "flows": {
            "random": {
                "count": {"uniform": list(count)},
                "traffic": {
                    "model": "poisson",
                    "rate": "100kbps",
                    "packet_size": {"dist": "exponential", "mean": "1000B"},
                },
            }
        },
        "traffic": {
            "rate": {"loguniform": [f"{rates[0]:g}bps", f"{rates[1]:g}bps"]},
            "packet_size": {"choice": ["500B", "1000B"]},
        },
        "topology": {"choices": topologies} if len(topologies) > 1 else {},
    }


def _wired(capacity: float = 1e6, **source: Any) -> dict[str, Any]:
    return {**source, "defaults": {"capacity": f"{capacity:g}bps", "delay": "2ms", "buffer": 32}}


SCALE_SIZES = {"train": ((3, 3), (3, 4), (4, 4)), "larger": ((6, 6), (7, 7)), "largest": ((10, 10),)}
"""Grid sizes of the scale suite: trained on up to 16 nodes, tested on 36, 49 and 100."""


QOS_SCHEDULERS = [
    {"policy": "fifo"},
    {"policy": "sp", "queues": [{}, {}, {}]},
    {"policy": "wfq", "queues": [{"weight": 60}, {"weight": 30}, {"weight": 10}]},
    {"policy": "drr", "queues": [{"weight": 60}, {"weight": 30}, {"weight": 10}]},
]
"""The schedulers the qos suite draws per link (queues without a size take the link's buffer)."""


def per_class_mre(twins: list[Any], ds: Dataset, kpi: str = "delay") -> dict[str, dict[int, float]]:
    """Each twin's MRE of ``kpi`` over the test flows of each class (``tos``)."""
    samples = list(ds.samples("test"))
    networks = [s.network() for s in samples]
    truth = np.concatenate([s.kpis(0)[kpi] for s in samples])
    tos = np.concatenate([n.tos for n in networks])
    out = {}
    for twin in twins:
        pred = np.concatenate([p[kpi] for p in twin.predict(networks)])
        ok = np.isfinite(truth) & (truth > 0)
        out[twin.name] = {int(c): float(mre(pred[ok & (tos == c)], truth[ok & (tos == c)])) for c in np.unique(tos)}
    return out


def suite_specs(suite: str, samples: int | None) -> dict[str, dict[str, Any]]:
    """Dataset specs of a suite: ``{"main": spec}`` plus held-out test sets (generalisation: ``unseen``; scale:
    ``larger``, ``largest``, ``faster``)."""
    if suite == "nsfnet":
        spec = _example("nsfnet-glance.yaml")
        spec.update(name="nsfnet-glance-2500", samples=samples or 2500, splits=SPLITS)
        return {"main": spec}
    if suite == "grid":
        spec = _example("grid-4x4.yaml")
        spec.update(samples=samples or 1000, splits=SPLITS)
        return {"main": spec}
    if suite == "topologies":
        grids = [_wired(grid={"rows": r, "cols": c}) for r, c in ((3, 4), (4, 4), (4, 5), (5, 5))]
        return {"main": _random_flows_spec("grids-random", grids, samples or 1000, 11)}
    if suite == "generalisation":
        seen = _random_flows_spec(
            "nsfnet-geant2", [_wired(builtin="nsfnet"), _wired(builtin="geant2")], samples or 1500, 21
        )
        unseen = copy.deepcopy(_random_flows_spec("gbn", [_wired(builtin="gbn")], 300, 22))
        unseen["splits"] = {"train": 0.0, "val": 0.0, "test": 1.0}
        return {"main": seen, "unseen": unseen}
    if suite == "scale":
        # Trained on small grids at 1 Mbps; tested on larger grids (flows in proportion, so loads stay alike) and
        # on the training sizes with links and rates 2.5 times faster (the same loads, every time 2.5 times shorter).
        def grids(sizes: tuple[tuple[int, int], ...], capacity: float = 1e6) -> list[dict[str, Any]]:
            return [_wired(capacity, grid={"rows": r, "cols": c}) for r, c in sizes]

        rates = (50e3, 300e3)
        seen = _random_flows_spec(
            "scale-train", grids(SCALE_SIZES["train"]), samples or 200, 31, (10, 30), rates, "100s"
        )
        larger = _random_flows_spec("scale-larger", grids(SCALE_SIZES["larger"]), 40, 32, (40, 120), rates, "100s")
        largest = _random_flows_spec("scale-largest", grids(SCALE_SIZES["largest"]), 20, 34, (100, 250), rates, "100s")
        faster = _random_flows_spec(
            "scale-faster", grids(SCALE_SIZES["train"], 2.5e6), 40, 33, (10, 30), (125e3, 750e3), "100s"
        )
        for spec in (larger, largest, faster):
            spec["splits"] = {"train": 0.0, "val": 0.0, "test": 1.0}
        return {"main": seen, "larger": larger, "largest": largest, "faster": faster}
    if suite == "qos":
        # Every link of the 4x4 grid drawn FIFO or three queues by strict priority, WFQ or DRR; every flow a class.
        spec = _random_flows_spec("qos-grid", [_wired(grid={"rows": 4, "cols": 4})], samples or 250, 41, (20, 40))
        spec["links"] = {"scheduler": {"choice": QOS_SCHEDULERS}}
        spec["traffic"]["tos"] = {"choice": [0, 1, 2]}
        return {"main": spec}
    if suite == "wireless":
        spec = yaml.safe_load((ROOT / "examples" / "ns3" / "wireless-reggrid-glance.yaml").read_text())
        spec["base"] = str(ROOT / "examples" / "ns3" / spec["base"])
        if samples:
            spec["samples"] = samples
        return {"main": spec}
    raise SystemExit(f"unknown suite '{suite}'")


def _dataset(spec: dict[str, Any], out: Path, workers: int, given: Path | None = None) -> Dataset:
    path = given or out / spec["name"]
    start = time.perf_counter()
    if given is None or not given.exists():
        generate_dataset(spec, path, workers=workers)
    ds = Dataset(path)
    if not ds.complete:
        print(f"dataset {path} is unfinished: evaluating on the samples it has", flush=True)
    print(
        f"dataset {path}: {len(ds)} samples, splits "
        f"{ {k: len(v) for k, v in ds.splits.items()} } ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return ds


def _print(report: dict[str, Any], title: str) -> None:
    for metric in ("nmae", "mre"):
        columns, rows = report_table(report, metric)
        print_table(f"{title}: {metric.upper()}", columns, rows)
    for note in report["notes"]:
        print(f"note: {note}")


def _bars(report: dict[str, Any]) -> None:
    methods = {m["name"]: m for m in report["methods"]}
    ref = methods.get("SimBase++")
    qt = methods.get("QT")
    for m in report["methods"]:
        if m["kind"] != "twin":
            continue
        kpis = report["kpis"]
        if ref:
            wins = [k for k in kpis if m["nmae"][k] <= ref["nmae"][k]]
            print(f"{m['name']}: NMAE ≤ SimBase++ on {len(wins)}/{len(kpis)} KPIs ({', '.join(wins) or 'none'})")
        if qt:
            below = [k for k in kpis if m["nmae"][k] < qt["nmae"][k]]
            listed = ", ".join(below) or "none"
            print(f"{m['name']}: NMAE < queueing theory on {len(below)}/{len(kpis)} KPIs ({listed})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--suite",
        default="nsfnet",
        choices=("nsfnet", "grid", "topologies", "generalisation", "scale", "qos", "wireless"),
    )
    p.add_argument("--samples", type=int)
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench-twin")
    p.add_argument("--dataset", type=Path, help="the suite's main dataset, already generated (used as it is)")
    p.add_argument("--twins", default="glance,routenet,routenet_fermi,gnn")
    p.add_argument("--strategy", default="mtl")
    p.add_argument("--kpis", default="delay,jitter,throughput,drops", help="KPIs to learn (TL: the targets)")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--patience", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-minutes", type=float, default=20.0, help="training time cap per model")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reuse", action="store_true", help="load checkpoints already in the output directory")
    p.add_argument("--probabilistic", action="store_true", help="Normal heads, and a binomial head for drops")
    p.add_argument("--option", action="append", help="model option key=value (repeatable), as 'nettwin train'")
    p.add_argument(
        "--inputs",
        default="raw",
        choices=("raw", "scale-free"),
        help="feature columns: each model's defaults, or only scale-free ones (scale_free_options: loads, ratios, "
        "queueing theory's estimates, scheduling and classes)",
    )
    p.add_argument("--relative-delay", action="store_true", help="learn delays relative to the unloaded delay")
    a = p.parse_args()

    out = a.out / a.suite
    specs = suite_specs(a.suite, a.samples)
    datasets = {k: _dataset(s, a.out / "data", a.workers, a.dataset if k == "main" else None) for k, s in specs.items()}
    ds = datasets["main"]
    twins = []
    for name in a.twins.split(","):
        tag = ("-sf" if a.inputs == "scale-free" else "") + ("-rel" if a.relative_delay else "")
        ckpt = out / f"{name}-{a.strategy}{tag}.pt"
        if a.reuse and ckpt.is_file():
            twins.append(load_twin(ckpt))
            continue
        twin = Twin(
            name,
            strategy=a.strategy,
            kpis=a.kpis.split(","),
            epochs=a.epochs,
            patience=a.patience,
            batch_size=a.batch_size,
            max_seconds=a.max_minutes * 60,
            seed=a.seed,
            probabilistic=a.probabilistic,
            relative_delay=a.relative_delay,
            options={**(scale_free_options(name) if a.inputs == "scale-free" else {}), **parse_model_options(a.option)},
        )
        start = time.perf_counter()
        twin.fit(ds)
        best = kept_record(twin.history_)
        print(
            f"{twin.name}: {len(twin.history_)} epochs, best {best['epoch']} (val NMAE "
            f"{json.dumps({k: round(v, 4) for k, v in best['val_nmae'].items()})}), "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
        twin.save(ckpt)
        twins.append(twin)
    report = evaluate(twins, ds)  # with queueing theory, where it can model the networks
    write_report(report, out)
    _print(report, f"{a.suite} ({ds.manifest['name']}, test split)")
    _bars(report)
    if a.suite == "qos":
        for name, by_class in per_class_mre(twins, ds).items():
            listed = ", ".join(f"class {c} {100 * v:.1f}%" for c, v in by_class.items())
            print(f"{name}: delay MRE by class: {listed}")
    for held_out, other in datasets.items():
        if held_out == "main":
            continue
        unseen = evaluate(twins, other, iqr=report["iqr"])
        write_report(unseen, out / held_out)
        _print(unseen, f"{held_out} ({other.manifest['name']})")
        for seen_m, unseen_m in zip(report["methods"], unseen["methods"], strict=False):
            if seen_m["name"] == unseen_m["name"]:
                print(
                    f"{seen_m['name']}: delay MRE seen {100 * seen_m['mre']['delay']:.1f}% / {held_out} "
                    f"{100 * unseen_m['mre']['delay']:.1f}%"
                )
    print(f"wrote {out / 'report.json'} and {out / 'report.png'}")


if __name__ == "__main__":
    main()
