"""Twins that generalise: trained on networks of at most 50 nodes, scored on 100-, 200- and 300-node networks.

Usage::

    python benchmarks/twin_scale.py --quick                              # a few minutes on a laptop
    python benchmarks/twin_scale.py --model routenet_fermi --workers 16  # the full scale (see "Cost" below)

Datasets (built-in engine, generated under ``--out/data``; an interrupted run resumes them):

* **train**: random graphs of 20–50 nodes (waxman, barabasi_albert, erdos_renyi; a fresh graph per sample), split
  85/15 into training and validation; test sets drawn the same way (other samples) give the "≤50" rows.
* **test at 100, 200 and 300 nodes**, of shapes the twin never saw: random geometric graphs of that size, topohub's
  synthetic Gabriel graphs of that size, and every connected real topohub network (Topology Zoo, SNDlib, backbone,
  CAIDA) within ±20 % of it. Their flows and links are 2.5 times faster than in training, and the load sweep
  (below) speeds their links up further, since longer paths load links more: the twins see faster links (the
  printed capacity ranges say how much), larger networks and longer paths.

Each test size comes in two variants: ``fifo`` (every port FIFO; queueing theory can model these) and ``qos``
(ports drawn per link among FIFO, strict priority, WFQ and DRR with three classes; queueing theory has no closed form
for WFQ and DRR, so that row is absent there). Every dataset draws per link a capacity spanning 40× (log-uniform), a
propagation delay (0.1–10 ms, log-uniform) and a buffer (8–128 packets), per flow a rate (log-uniform over a decade)
and a traffic law (Poisson, on/off, CBR, uniform, normal, PPBP) and a class (0–2), per link a routing weight (so
routes are not all shortest-hop paths), and per sample a capacity scale that sweeps the busiest link's offered load
from about a third of its capacity (light) to three times it (lossy): see ``with_load_sweep``.

Scores, per test dataset and method (the twin, queueing theory where it applies, and SimBase: the reference
simulated again with another seed, i.e. the reference's own noise): MAPE of the per-flow mean delay, of the delay
standard deviation (jitter as delay spread) and of FlowMonitor's jitter, and NMAE of the drop rate (MAPE is
undefined for flows that lose nothing). Printed as tables and written to ``--out/<model>/scale.json`` (no NaN: a
missing figure is null) and ``scale.png``, with each dataset's full evaluation report beside them. Also reported:
training CPU time and peak memory, and the inference time of one 300-node network.

Cost. ``--quick`` uses 60 training samples of 20–30 nodes, 3 test samples per size and variant, 4-second
simulations and 3 epochs: 2–4 minutes on 2 shared cores, figures that only show the pipeline works (its SimBase noise
is large, 2–30 %). The full scale uses 1,000 training samples simulated for 2,000 s (the test sets for 800 s) and 20
samples per test set. Measured with ``--probe-noise 2000 --probe-samples 3``: a training sample costs 2.6 CPU-s per
run, a 300-node test sample 19 (FIFO) and 81 (QoS) CPU-s per run, so the full scale simulates for about 3 CPU-hours
(about 15 minutes on 16 cores), plus the twin's training (``--max-minutes``, default 60).

Noise. The same probe gives a SimBase delay MAPE (run 1 against run 0) of 1.3 % on the training spec and 0.17 %
(FIFO) and 0.09 % (QoS) on the 300-node specs. Flows whose busiest link is near or above capacity are the noisy ones
(at 500 s, 2–11 % against 1.3 % for flows on links under half loaded: a queue near saturation wanders for long
stretches, and which periodic flows a full drop-tail queue drops depends on their phases), and a longer run reduces
their noise only slowly. So the noise is reported per test set, beside every error, rather than assumed small.

Every figure comes from the run that prints it; nothing is asserted. The twins are used as they are (no tuning here).
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from twin_accuracy import _dataset, _print

from nettwin._files import atomic_write_bytes
from nettwin._json import write_json
from nettwin.data import Dataset
from nettwin.data.sampling import draw_scenario
from nettwin.data.spec import parse_dataset_spec
from nettwin.metrics import iqr as kpi_iqr
from nettwin.metrics import mre
from nettwin.scenario import build_network
from nettwin.scenario.sources import topohub_keys, topohub_topology, topology_to_networkx
from nettwin.sim import simulate
from nettwin.twin import Twin, load_twin, scale_free_options
from nettwin.twin.evaluate import evaluate, write_report

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 200, 300)
SEEN = "≤50"
"""The label of the test sets drawn like the training set (its sizes and shapes)."""
KPIS = ["delay", "delay_std", "jitter", "drop_rate"]
MAPE_KPIS = ("delay", "delay_std", "jitter")
"""KPIs scored by MAPE; the drop rate is scored by NMAE (most flows lose nothing, and a relative error needs a loss)."""
SPEEDUP = 2.5
"""Test links and flows are this much faster than training ones."""
LOAD_SPAN = 3.0
"""The busiest link's offered load spans about [1/LOAD_SPAN, LOAD_SPAN] times its capacity (see with_load_sweep)."""
SIZE_TOLERANCE = 0.2
"""topohub networks within this fraction of a test size count as that size."""
SCHEDULERS = {
    "fifo": [{"policy": "fifo"}],
    "qos": [
        {"policy": "fifo"},
        {"policy": "sp", "queues": [{}, {}, {}]},
        {"policy": "wfq", "queues": [{"weight": 4}, {"weight": 2}, {"weight": 1}]},
        {"policy": "drr", "queues": [{"weight": 4}, {"weight": 2}, {"weight": 1}]},
    ],
}
TRAIN_SCHEDULERS = [*SCHEDULERS["fifo"] * 3, *SCHEDULERS["qos"][1:]]
"""Training ports: half FIFO (as every port of the fifo tests), the others SP, WFQ or DRR."""


@dataclass(frozen=True)
class Scale:
    """How big a run is."""

    train_samples: int
    train_nodes: tuple[int, ...]
    test_samples: int
    duration: float
    """Simulated seconds of a training sample; test samples, whose flows are :data:`SPEEDUP` times faster, are that
    much shorter (every flow sends as many packets: at least 8,000 at the full scale)."""
    epochs: int


FULL = Scale(train_samples=1000, train_nodes=(20, 30, 40, 50), test_samples=20, duration=2000.0, epochs=200)
QUICK = Scale(train_samples=60, train_nodes=(20, 30), test_samples=3, duration=4.0, epochs=3)


def _spec(
    name: str,
    topologies: list[dict[str, Any]],
    nodes: tuple[int, int],
    samples: int,
    seed: int,
    scale: Scale,
    *,
    speed: float,
    schedulers: list[dict[str, Any]],
    splits: dict[str, float],
) -> dict[str, Any]:
    """A dataset spec: random flows (one to two per node) over the given topologies, everything else drawn."""
    kbps = 1e3 * speed
    return {
        "name": name,
        "base": {
            "name": name,
            "topology": topologies[0],
            # faster flows send as many packets in a shorter run: the same noise for less simulated time
            "simulation": {
                "engine": "builtin",
                "duration": scale.duration / speed,
                "warmup": scale.duration / speed / 20,
            },
        },
        "samples": samples,
        "seed": seed,
        "splits": splits,
        "simbase_runs": 1,
        "shard_size": 50,
        "topology": {"choices": topologies, "reseed": any("random" in t for t in topologies)},
        "flows": {
            "random": {
                "count": {"uniform": [nodes[0], 2 * nodes[1]]},
                "traffic": {
                    "model": "poisson",
                    "rate": 100 * kbps,
                    "packet_size": {"dist": "exponential", "mean": 1000},
                },
            }
        },
        "traffic": {
            "rate": {"loguniform": [50 * kbps, 500 * kbps]},
            "packet_size": {"choice": [500, 1000, 1500]},
            "model": {"choice": ["poisson", "onoff", "cbr", "uniform", "normal", "ppbp"]},
            "tos": {"choice": [0, 1, 2]},
        },
        "links": {
            "capacity": {"loguniform": [250 * kbps, 10_000 * kbps]},
            "delay": {"loguniform": [1e-4, 1e-2]},
            "buffer": {"choice": [8, 16, 32, 64, 128]},
            "scheduler": {"choice": schedulers},
        },
        "routing": {"link_weights": {"uniform": [1.0, 3.0]}},
    }


def with_load_sweep(spec: dict[str, Any], probe: int = 8) -> dict[str, Any]:
    """``spec`` with a capacity scale drawn per sample so that the busiest link's offered load spans about
    [1/3, 3] times its capacity: the scale is log-uniform over [m/3, 3m], m the median busiest-link load of the
    first ``probe`` samples unscaled (so larger networks, whose longer paths load links more, get faster links)."""
    probe_spec = parse_dataset_spec({**spec, "samples": probe})
    busiest = []
    for i in range(probe):
        net = build_network(draw_scenario(probe_spec, i))
        busiest.append(float(np.max(net.offered_load / net.capacity)))
    m = float(np.median(busiest))
    return {**spec, "capacity_scale": {"loguniform": [m / LOAD_SPAN, m * LOAD_SPAN]}}


def train_shapes(scale: Scale) -> list[dict[str, Any]]:
    """Random graphs of the training sizes, of models the unseen test sets do not use."""
    return [
        {"random": {"model": model, "nodes": n}}
        for n in scale.train_nodes
        for model in ("waxman", "barabasi_albert", "erdos_renyi")
    ]


def train_spec(scale: Scale) -> dict[str, Any]:
    """The training set: train and validation splits only (the seen-size test sets are drawn apart)."""
    nodes = (min(scale.train_nodes), max(scale.train_nodes))
    splits = {"train": 0.85, "val": 0.15, "test": 0.0}
    spec = _spec(
        "scale-train",
        train_shapes(scale),
        nodes,
        scale.train_samples,
        1,
        scale,
        speed=1.0,
        schedulers=TRAIN_SCHEDULERS,
        splits=splits,
    )
    return with_load_sweep(spec)


def topohub_of_size(size: int) -> list[str]:
    """Connected real topohub networks within :data:`SIZE_TOLERANCE` of ``size`` nodes, and three Gabriel graphs."""
    real = []
    for key in topohub_keys():
        if key.startswith("gabriel/"):
            continue
        topo = topohub_topology(key)
        if abs(topo.n_nodes - size) <= SIZE_TOLERANCE * size and nx.is_connected(
            topology_to_networkx(topo).to_undirected()
        ):
            real.append(key)
    return [*real, *(f"gabriel/{size}/{seed}" for seed in range(3))]


def test_sets(scale: Scale) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (size, variant), a test dataset spec: the training sizes and shapes ("≤50"), then each unseen size."""
    sizes: list[tuple[str, list[dict[str, Any]], tuple[int, int], float]] = [
        (SEEN, train_shapes(scale), (min(scale.train_nodes), max(scale.train_nodes)), 1.0)
    ]
    for size in SIZES:
        shapes = [{"random": {"model": "geometric", "nodes": size}}, *({"topohub": k} for k in topohub_of_size(size))]
        sizes.append((str(size), shapes, (size, size), SPEEDUP))
    out = {}
    for k, (label, shapes, nodes, speed) in enumerate(sizes):
        for j, (variant, schedulers) in enumerate(SCHEDULERS.items()):
            spec = _spec(
                f"scale-test-{label.strip('≤')}-{variant}",
                shapes,
                nodes,
                scale.test_samples,
                100 + 2 * k + j,
                scale,
                speed=speed,
                schedulers=schedulers,
                splits={"train": 0.0, "val": 0.0, "test": 1.0},
            )
            out[(label, variant)] = with_load_sweep(spec)
    return out


def loads(ds: Dataset) -> dict[str, float]:
    """How loaded a test set is: its samples' busiest offered link load (÷ capacity) and the flows' losses."""
    busiest, drop = [], []
    for s in ds.samples("test"):
        net = s.network()
        busiest.append(float(np.max(net.offered_load / net.capacity)))
        drop.append(np.asarray(s.kpis(0)["drop_rate"], dtype=float))
    rates = np.concatenate(drop)
    return {
        "busiest_link_load_min": min(busiest),
        "busiest_link_load_median": float(np.median(busiest)),
        "busiest_link_load_max": max(busiest),
        "flows_with_loss": float(np.mean(rates > 0)),
        "mean_drop_rate": float(np.nanmean(rates)),
        "capacity_min": float(min(s.network().capacity.min() for s in ds.samples("test"))),
        "capacity_max": float(max(s.network().capacity.max() for s in ds.samples("test"))),
        "mean_path_links": float(
            np.mean([np.mean([len(f.path) for f in s.network().flows]) for s in ds.samples("test")])
        ),
    }


def summary(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per method, the headline scores: MAPE (%) of delay, delay spread and jitter, NMAE of the drop rate."""
    out = {}
    for m in report["methods"]:
        if m["kind"] == "simbase" and m["name"] != "SimBase":
            continue
        row = {f"{k}_mape_pct": 100 * m["mre"][k] for k in MAPE_KPIS}
        row["drop_rate_nmae"] = m["nmae"]["drop_rate"]
        out["noise (SimBase)" if m["kind"] == "simbase" else m["name"]] = row
    return out


def show(report: dict[str, Any], title: str) -> None:
    """Print a report's tables, its many per-link 'no queueing theory' notes as one."""
    notes = [n for n in report["notes"] if not n.startswith("no queueing theory")]
    skipped = len(report["notes"]) - len(notes)
    if skipped:
        notes.append(f"no queueing theory: WFQ/DRR ports have no closed form ({skipped} kinds of link)")
    _print({**report, "notes": notes}, title)


def fit_twin(args: argparse.Namespace, scale: Scale, ds: Dataset, ckpt: Path) -> tuple[Twin, dict[str, float]]:
    if args.reuse and ckpt.is_file():
        return load_twin(ckpt), {}
    twin = Twin(
        args.model,
        kpis=KPIS,
        relative_delay=args.relative_delay,
        options=scale_free_options(args.model) if args.inputs == "scale-free" else None,
        epochs=args.epochs or scale.epochs,
        patience=args.patience,
        batch_size=args.batch_size,
        max_seconds=args.max_minutes * 60,
        seed=args.seed,
        threads=args.threads,
    )
    cpu = time.process_time()
    twin.fit(ds)
    cost = {
        "train_cpu_minutes": (time.process_time() - cpu) / 60,
        "train_wall_minutes": twin.fit_seconds_ / 60,
        "epochs": len(twin.history_),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    twin.save(ckpt)
    return twin, cost


def single_inference(twin: Twin, ds: Dataset) -> float:
    """Seconds to predict one network of ``ds`` (the first test sample), best of three."""
    net = next(iter(ds.samples("test"))).network()
    twin.predict([net])
    times = []
    for _ in range(3):
        start = time.perf_counter()
        twin.predict([net])
        times.append(time.perf_counter() - start)
    return min(times)


def figure(results: list[dict[str, Any]], model: str) -> bytes:
    """Delay MAPE per test size: the twin, queueing theory and the reference's noise, one panel per variant."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, variant in zip(axes, SCHEDULERS, strict=True):
        rows = [r for r in results if r["variant"] == variant]
        labels = [str(r["size"]) for r in rows]
        for method, style in ((model, "o-"), ("QT", "s--"), ("noise (SimBase)", "^:")):
            values = [r["scores"].get(method, {}).get("delay_mape_pct", np.nan) for r in rows]
            ax.plot(labels, values, style, label=method)
        ax.set_title(f"{variant} ports")
        ax.set_xlabel("nodes (≤50: the training sizes)")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("delay MAPE (%)")
    axes[0].legend()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    return buf.getvalue()


def probe_noise(spec: dict[str, Any], duration: float, samples: int) -> None:
    """Print the SimBase delay MAPE (run 1 against run 0) of the first ``samples`` samples of ``spec`` simulated for
    ``duration`` seconds, overall and by how loaded each flow's busiest link is."""
    simulation = {"engine": "builtin", "duration": duration, "warmup": duration / 20}
    spec = {**spec, "samples": samples, "base": {**spec["base"], "simulation": simulation}}
    parsed = parse_dataset_spec(spec)
    ref, other, bottleneck = [], [], []
    cpu = 0.0
    for i in range(samples):
        net = build_network(draw_scenario(parsed, i))
        start = time.process_time()
        r0, r1 = simulate(net, runs=2)
        cpu += time.process_time() - start
        ref.append(r0.kpi("delay"))
        other.append(r1.kpi("delay"))
        load = net.offered_load / net.capacity
        bottleneck.extend(float(load[list(f.path)].max()) for f in net.flows)
    p, r, b = np.concatenate(other), np.concatenate(ref), np.array(bottleneck)
    cpu /= 2 * samples
    print(
        f"{spec['name']} at {duration:g} s: delay MAPE {100 * mre(p, r):.2f} % "
        f"({len(r)} flows, {cpu:.1f} CPU-s per run)"
    )
    for low, high in ((0, 0.5), (0.5, 0.95), (0.95, 1.05), (1.05, np.inf)):
        k = (b >= low) & (b < high)
        print(f"  busiest link load {low:g}–{high:g}: {k.sum()} flows, {100 * mre(p[k], r[k]):.2f} %")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="glance", choices=("glance", "routenet", "routenet_fermi", "gnn"))
    p.add_argument("--quick", action="store_true", help="a tiny run that shows the pipeline works (minutes)")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "bench-scale")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, help="default: 200 (3 with --quick)")
    p.add_argument("--patience", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-minutes", type=float, default=60.0, help="training time cap")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for training and inference")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reuse", action="store_true", help="load the checkpoint already in the output directory")
    p.add_argument(
        "--inputs",
        default="raw",
        choices=("raw", "scale-free"),
        help="feature columns: the model's defaults, or only scale-free ones (scale_free_options)",
    )
    p.add_argument("--relative-delay", action="store_true", help="learn delays relative to transmission times")
    p.add_argument(
        "--probe-noise",
        type=float,
        metavar="SECONDS",
        help="only print the SimBase noise of the training and 300-node specs simulated this long, and stop",
    )
    p.add_argument("--probe-samples", type=int, default=8, help="samples per spec for --probe-noise")
    a = p.parse_args()

    scale = QUICK if a.quick else FULL
    if a.probe_noise:
        probe_noise(train_spec(scale), a.probe_noise, a.probe_samples)
        tests = test_sets(scale)
        for variant in SCHEDULERS:
            probe_noise(tests[(str(SIZES[-1]), variant)], a.probe_noise / SPEEDUP, a.probe_samples)
        return
    tag = "quick" if a.quick else "full"
    inputs = ("-sf" if a.inputs == "scale-free" else "") + ("-rel" if a.relative_delay else "")
    data, out = a.out / tag / "data", a.out / tag / f"{a.model}{inputs}"
    start = time.perf_counter()
    train = _dataset(train_spec(scale), data, a.workers)
    tests = {key: _dataset(spec, data, a.workers) for key, spec in test_sets(scale).items()}
    generation = time.perf_counter() - start

    twin, cost = fit_twin(a, scale, train, out / f"{a.model}.pt")
    if cost:
        print(
            f"{twin.name}: {cost['epochs']} epochs, {cost['train_cpu_minutes']:.2f} CPU-min, peak RSS "
            f"{cost['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
    # every test set is scored in units of the training set's spread, so NMAEs compare across sizes
    iqr = {k: float(train.iqr(k)) or kpi_iqr(train.kpi(k, "train")) for k in KPIS}
    results = []
    for (size, variant), ds in tests.items():
        report = evaluate([twin], ds, kpis=KPIS, iqr=iqr)
        write_report(report, out / f"{size.strip('≤')}-{variant}")
        show(report, f"{size} nodes, {variant} ports")
        results.append({"size": size, "variant": variant, "scores": summary(report), "load": loads(ds)})

    inference = single_inference(twin, tests[(str(SIZES[-1]), "fifo")])
    print(f"\n{'size':>5} {'ports':>5}  {'method':<20} {'delay %':>8} {'spread %':>8} {'jitter %':>8} {'drop NMAE':>9}")
    for r in results:
        for method, s in r["scores"].items():
            print(
                f"{r['size']:>5} {r['variant']:>5}  {method:<20} {s['delay_mape_pct']:8.2f} "
                f"{s['delay_std_mape_pct']:8.2f} {s['jitter_mape_pct']:8.2f} {s['drop_rate_nmae']:9.3f}"
            )
    for r in results:
        ld = r["load"]
        print(
            f"{r['size']:>5} {r['variant']:>5}  busiest link offered load {ld['busiest_link_load_min']:.2f}–"
            f"{ld['busiest_link_load_max']:.2f} (median {ld['busiest_link_load_median']:.2f}), flows with loss "
            f"{100 * ld['flows_with_loss']:.0f} %, mean path {ld['mean_path_links']:.1f} links, capacities "
            f"{ld['capacity_min'] / 1e6:.2g}–{ld['capacity_max'] / 1e6:.3g} Mbps"
        )
    print(f"inference, one {SIZES[-1]}-node network: {1e3 * inference:.1f} ms; dataset generation {generation:.0f} s")
    doc = {
        "format": "nettwin-scale-benchmark",
        "scale": tag,
        "model": a.model,
        "kpis": KPIS,
        "training": {**cost, "samples": len(train), "sizes": list(scale.train_nodes)},
        "inference_seconds_300_nodes": inference,
        "generation_seconds": generation,
        "results": results,
    }
    write_json(out / "scale.json", doc)
    atomic_write_bytes(out / "scale.png", figure(results, twin.name))
    print(f"wrote {out / 'scale.json'} and {out / 'scale.png'}")


if __name__ == "__main__":
    main()
