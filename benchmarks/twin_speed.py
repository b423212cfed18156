"""Twin speed: one forward pass on a 200-node topology with 39,800 paths, and batched inference vs simulation.

Usage::

    python benchmarks/twin_speed.py                      # both measurements, every model
    python benchmarks/twin_speed.py --part forward --models glance --threads 2
    python benchmarks/twin_speed.py --part batched --dataset out/nsfnet-glance --samples 200
    python benchmarks/twin_speed.py --part links --dataset demo-out/dataset --scales 1,10,100,1000 --resimulate 5

``forward``: a 10 × 20 grid (200 nodes, 710 directed links), one flow per ordered node pair (39,800 paths, shortest
paths by hops) with random Poisson/CBR/on-off traffic; prints the wall time of one forward pass per model (median of
``--repeats``), after one warm-up pass. The bar: ≤ 1 s on CPU.

``batched``: per-sample time of batched twin inference (from resolved networks: encode, batch, forward; and the
model alone on encoded graphs) against the simulation time of the same samples: the built-in engine's (run R0 wall
time recorded in the dataset, and re-measured for ``--resimulate`` samples) and ns-3's (re-measured for ``--ns3``
samples). The bar: ≥ 10,000× faster. Next to each speed-up it prints the model's matrix-multiply FLOPs per sample
and the most any implementation could reach on this CPU: those FLOPs at the CPU's own large-matmul rate. Without
``--dataset`` it generates a small NSFNET dataset from ``examples/datasets/nsfnet-glance.yaml``.

``links``: the same test samples with every link and every flow ``k``× faster (``--scales``; packet sizes, buffers,
on/off periods and the simulated duration unchanged), simulated by the built-in engine (``--resimulate`` samples
per ``k``) and predicted by each twin: a packet-level engine's cost grows with the packets it simulates, a twin's
does not.
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
from nettwin.scenario.units import format_rate
from nettwin.twin import Twin, build_model
from nettwin.twin.batch import GraphBatch
from nettwin.twin.evaluate import predict_timed
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


def _flops_per_sample(model: torch.nn.Module, batch: GraphBatch) -> float:
    """Matrix-multiply FLOPs of one forward pass over ``batch``, per network (what dominates a twin's cost)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(batch)
    return counter.get_total_flops() / batch.n_graphs


def _matmul_gflops(threads: int, n: int = 1024, repeats: int = 10) -> float:
    """This CPU's float32 matrix-multiply rate with ``threads`` threads: the ceiling for any twin's forward pass."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def _simulation_times(networks: list, builtin_runs: int, ns3_runs: int) -> dict[str, float]:
    """Mean wall seconds per sample of each engine, re-measured on the first samples (engine-reported wall time:
    the simulation itself, ns-3's interpreter start-up excluded)."""
    from nettwin.sim import simulate
    from nettwin.sim.ns3 import ns3_available

    out = {}
    if builtin_runs:
        simulate(networks[0], engine="builtin")  # compile the kernel first
        walls = [simulate(n, engine="builtin")[0].meta["wall_seconds"] for n in networks[:builtin_runs]]
        out["builtin"] = float(np.mean(walls))
    if ns3_runs and ns3_available():
        walls = [simulate(n, engine="ns3")[0].meta["wall_seconds"] for n in networks[:ns3_runs]]
        out["ns3"] = float(np.mean(walls))
    elif ns3_runs:
        print("  ns-3 not installed (pip install 'nettwin[ns3]'): no ns-3 comparison")
    return out


def _dataset(path: str | None):
    """The dataset at ``path``, or a small NSFNET dataset generated from ``examples/datasets/nsfnet-glance.yaml``."""
    from nettwin.data import Dataset, generate_dataset

    if path is None:
        tmp = Path(tempfile.mkdtemp()) / "nsfnet-glance"
        spec = Path(__file__).resolve().parent.parent / "examples" / "datasets" / "nsfnet-glance.yaml"
        generate_dataset(spec, tmp, workers=2)
        path = str(tmp)
    return Dataset(path)


def _speed_twin(name: str, ds, threads: int) -> Twin:
    """A twin fitted for one epoch on 32 samples: timing needs its shapes, not its accuracy."""
    return Twin(name, epochs=1, threads=threads).fit(list(ds.samples("train"))[:32])


def batched(
    models: list[str], dataset: str | None, samples: int, threads: int, batch_size: int, resimulate: int, ns3: int
) -> list[dict]:
    ds = _dataset(dataset)
    test = list(ds.samples("test"))[:samples]
    networks = [s.network() for s in test]
    sim = {"builtin (dataset record)": float(np.mean([s.meta[0]["wall_seconds"] for s in test]))}
    sim.update(_simulation_times(networks, resimulate, ns3))
    ceiling = _matmul_gflops(threads)
    print(
        f"{ds.manifest.get('name')}: {len(test)} test samples, {networks[0].n_flows} flows each; "
        + ", ".join(f"{k} {v * 1e3:.2f} ms/sample" for k, v in sim.items())
        + f"; this CPU multiplies matrices at {ceiling:.0f} GFLOP/s with {threads} thread(s)"
    )
    out = []
    for name in models:
        twin = _speed_twin(name, ds, threads)
        _, timing = predict_timed(twin, networks, batch_size)
        per, model_only = timing["seconds_per_sample"], timing["model_seconds_per_sample"]
        graphs = [graph_from_network(n) for n in networks[:batch_size]]
        flops = _flops_per_sample(next(iter(twin.models_.values())), GraphBatch.collate(graphs, twin.normalisation_))
        floor = flops / (ceiling * 1e9)
        rec = {
            "model": name,
            "threads": threads,
            "batch_size": batch_size,
            "seconds_per_sample": per,
            "model_seconds_per_sample": model_only,
            "flops_per_sample": flops,
            "achieved_gflops": flops / model_only / 1e9,
            "matmul_floor_seconds_per_sample": floor,
            "simulation_seconds_per_sample": sim,
            "speedup": {k: v / per for k, v in sim.items()},
            "speedup_model_only": {k: v / model_only for k, v in sim.items()},
            "speedup_ceiling": {k: v / floor for k, v in sim.items()},
        }
        out.append(rec)
        print(
            f"  {twin.name:22s} {per * 1e6:7.1f} µs/sample end to end, {model_only * 1e6:.1f} µs model only "
            f"({flops / 1e6:.2f} MFLOP/sample at {rec['achieved_gflops']:.0f} GFLOP/s; at this CPU's matmul rate "
            f"{floor * 1e6:.1f} µs)"
        )
        for k in sim:
            print(
                f"    vs {k:24s} {rec['speedup'][k]:9,.0f}× end to end, {rec['speedup_model_only'][k]:9,.0f}× model "
                f"only, {rec['speedup_ceiling'][k]:9,.0f}× at most on this CPU"
            )
    return out


def faster_links(network, k: float):
    """The same network with every link ``k``× faster and every flow sending ``k``× more: packet sizes, buffers,
    propagation delays, on/off time scales and the simulated duration stay as they are."""
    sc = network.scenario
    topology = sc.topology.model_copy(update={"capacity_scale": sc.topology.capacity_scale * k})
    flows = [
        f.model_copy(update={"traffic": f.traffic.model_copy(update={"rate": f.traffic.rate * k})}) for f in sc.flows
    ]
    return build_network(sc.model_copy(update={"topology": topology, "flows": flows}))


def link_speeds(
    models: list[str], dataset: str | None, samples: int, threads: int, batch_size: int, scales: list[float], runs: int
) -> list[dict]:
    """Speed-up against the built-in engine as links get faster at the same relative load.

    The engine's cost grows with the packets it simulates; a twin's does not (it reads traffic as features). So the
    same NSFNET samples with links and flows ``k``× faster are simulated (``runs`` samples per ``k``) and predicted.
    """
    from nettwin.sim import simulate

    ds = _dataset(dataset)
    base = [s.network() for s in list(ds.samples("test"))[:samples]]
    twins = {name: _speed_twin(name, ds, threads) for name in models}
    simulate(base[0], engine="builtin")  # compile the kernel first
    out = []
    print(
        "speed-up against the built-in engine as links get faster (median link capacity; same loads, packet "
        "sizes, on/off periods):"
    )
    for k in scales:
        networks = [faster_links(n, k) for n in base]
        walls = [simulate(n, engine="builtin")[0].meta["wall_seconds"] for n in networks[:runs]]
        sim = float(np.mean(walls))
        capacity = float(np.median(np.concatenate([n.capacity for n in networks])))
        rec = {"scale": k, "link_capacity_bps": capacity, "simulation_seconds": sim}
        line = f"  ×{k:<6g} links {format_rate(capacity):>9}: built-in engine {sim * 1e3:8.1f} ms/sample"
        for name, twin in twins.items():
            per = predict_timed(twin, networks, batch_size)[1]["model_seconds_per_sample"]
            rec[name] = {"model_seconds_per_sample": per, "speedup": sim / per}
            line += f"; {twin.name} {per * 1e6:.0f} µs, {sim / per:,.0f}×"
        print(line, flush=True)
        out.append(rec)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("forward", "batched", "links", "both"), default="both")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dataset")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--resimulate", type=int, default=20, help="samples re-simulated with the built-in engine")
    p.add_argument("--ns3", type=int, default=0, help="samples re-simulated with ns-3 (needs the ns3 extra)")
    p.add_argument("--scales", default="1,10,100,1000", help="links: link-speed multipliers")
    p.add_argument("--json", help="write the figures to this file")
    a = p.parse_args()
    models = a.models.split(",")
    result = {}
    if a.part in ("forward", "both"):
        result["forward"] = forward(models, a.threads, a.repeats)
    if a.part in ("batched", "both"):
        result["batched"] = batched(models, a.dataset, a.samples, a.threads, a.batch_size, a.resimulate, a.ns3)
    if a.part == "links":
        scales = [float(x) for x in a.scales.split(",")]
        result["links"] = link_speeds(models, a.dataset, a.samples, a.threads, a.batch_size, scales, a.resimulate)
    if a.json:
        Path(a.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
