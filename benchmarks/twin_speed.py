"""Twin speed: one forward pass on a 200-node topology with 39,800 paths, and batched inference vs simulation.

Usage::

    python benchmarks/twin_speed.py                      # both measurements, every model
    python benchmarks/twin_speed.py --part forward --models glance --threads 2
    python benchmarks/twin_speed.py --part batched --dataset out/nsfnet-glance --samples 200

``forward``: a 10 × 20 grid (200 nodes, 710 directed links), one flow per ordered node pair (39,800 paths, shortest
paths by hops) with random Poisson/CBR/on-off traffic; prints the wall time of one forward pass per model (median of
``--repeats``), after one warm-up pass. The bar: ≤ 1 s on CPU.

``batched``: per-sample time of batched twin inference (from resolved networks: encode, batch, forward) against the
built-in engine's simulation time of the same samples (run R0 wall time recorded in the dataset, and re-measured
here for ``--resimulate`` samples). The bar: ≥ 10,000× faster. Without ``--dataset`` it generates a small
NSFNET dataset from ``examples/datasets/nsfnet-glance.yaml``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin import Twin, build_model
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import graph_from_network
from nettwin.twin.normalise import Normalisation

MODELS = ("glance", "routenet", "routenet_fermi", "gnn")


def big_network(rows: int = 10, cols: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = rows * cols
    flows = []
    models = ("poisson", "cbr", "onoff")
    for s in range(n):
        for d in range(n):
            if s == d:
                continue
            m = models[rng.integers(3)]
            traffic = {"model": m, "rate": float(rng.uniform(1e3, 2e4)), "packet_size": 1000}
            if m == "onoff":
                traffic.update(tau_on=float(rng.choice([1, 10])), tau_off=float(rng.choice([1, 10])))
            flows.append({"src": s, "dst": d, "traffic": traffic})
    scenario = parse_scenario(
        {
            "name": f"grid-{rows}x{cols}",
            "topology": {"grid": {"rows": rows, "cols": cols}, "defaults": {"capacity": "10Mbps"}},
            "flows": flows,
        }
    )
    return build_network(scenario)


def forward(models: list[str], threads: int, repeats: int) -> list[dict]:
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    net = big_network()
    t1 = time.perf_counter()
    graph = graph_from_network(net)
    norm = Normalisation.fit([graph], [{}], ())
    t2 = time.perf_counter()
    batch = GraphBatch.collate([graph], norm)
    t3 = time.perf_counter()
    print(
        f"{net.name}: {net.n_nodes} nodes, {net.n_links} links, {batch.n_paths} paths, {batch.n_hops} hops, "
        f"longest path {len(batch.step_sizes)} links"
    )
    print(f"  build network {t1 - t0:.2f} s, encode graph {t2 - t1:.2f} s, collate batch {t3 - t2:.3f} s")
    out = []
    for name in models:
        torch.manual_seed(0)
        model = build_model(name, kpis=["delay", "jitter", "throughput", "drops"]).eval()
        times = []
        with torch.inference_mode():
            model(batch)  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                model(batch)
                times.append(time.perf_counter() - start)
        rec = {
            "model": name,
            "repr": repr(model),
            "threads": threads,
            "paths": batch.n_paths,
            "forward_seconds_median": statistics.median(times),
            "forward_seconds_min": min(times),
        }
        out.append(rec)
        print(
            f"  {repr(model):50s} forward {rec['forward_seconds_median']:.3f} s "
            f"(min {rec['forward_seconds_min']:.3f})"
            f"  [{threads} thread(s)]  {'≤ 1 s: yes' if rec['forward_seconds_median'] <= 1 else '≤ 1 s: NO'}"
        )
    return out


def batched(
    models: list[str], dataset: str | None, samples: int, threads: int, batch_size: int, resimulate: int
) -> list[dict]:
    from nettwin.data import Dataset, generate_dataset
    from nettwin.sim import simulate

    if dataset is None:
        tmp = Path(tempfile.mkdtemp()) / "nsfnet-glance"
        spec = Path(__file__).resolve().parent.parent / "examples" / "datasets" / "nsfnet-glance.yaml"
        generate_dataset(spec, tmp, workers=2)
        dataset = str(tmp)
    ds = Dataset(dataset)
    test = list(ds.samples("test"))[:samples]
    networks = [s.network() for s in test]
    sim = float(np.mean([s.meta[0]["wall_seconds"] for s in test]))
    again = []
    for net in networks[:resimulate]:
        start = time.perf_counter()
        simulate(net, engine="builtin")
        again.append(time.perf_counter() - start)
    sim_again = float(np.mean(again)) if again else None
    print(
        f"{ds.manifest.get('name')}: {len(test)} test samples, {networks[0].n_flows} flows each; built-in engine "
        f"{sim * 1e3:.2f} ms/sample (dataset record)"
        + (f", {sim_again * 1e3:.2f} ms/sample re-measured incl. Python overhead" if again else "")
    )
    out = []
    for name in models:
        twin = Twin(name, epochs=1, threads=threads).fit(list(ds.samples("train"))[:32])
        twin.predict(networks[:batch_size])  # warm-up
        start = time.perf_counter()
        graphs = [graph_from_network(n) for n in networks]
        mid = time.perf_counter()
        twin.predict_graphs(graphs, batch_size=batch_size)
        end = time.perf_counter()
        per = (end - start) / len(networks)
        model_only = (end - mid) / len(networks)
        rec = {
            "model": name,
            "threads": threads,
            "batch_size": batch_size,
            "seconds_per_sample": per,
            "model_seconds_per_sample": model_only,
            "simulation_seconds_per_sample": sim,
            "speedup": sim / per,
            "speedup_model_only": sim / model_only,
        }
        out.append(rec)
        print(
            f"  {twin.name:22s} {per * 1e6:8.1f} µs/sample end to end ({model_only * 1e6:.1f} µs model only): "
            f"{rec['speedup']:,.0f}× ({rec['speedup_model_only']:,.0f}×) faster than simulating"
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("forward", "batched", "both"), default="both")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dataset")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--resimulate", type=int, default=20)
    p.add_argument("--json", help="write the figures to this file")
    a = p.parse_args()
    models = a.models.split(",")
    result = {}
    if a.part in ("forward", "both"):
        result["forward"] = forward(models, a.threads, a.repeats)
    if a.part in ("batched", "both"):
        result["batched"] = batched(models, a.dataset, a.samples, a.threads, a.batch_size, a.resimulate)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
