"""Datanet trees for tests and benchmarks, written as /work/shared/formats/datanet.md says the published ones are.

:func:`spec_example` writes the format's own worked example (2021 variant, and the 2020 variant of it); :func:`write`
writes any samples given as Python values; :func:`simulated` simulates small networks with the built-in engine and
writes what it measured in datanet's units, so that an import can be checked against known values.
"""

from __future__ import annotations

import io
import math
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

GRAPH_2021 = """graph [
  directed 1
  multigraph 1
  node [ id 0 label "0" queueSizes "16" schedulingPolicy "FIFO" levelsQoS 1 ]
  node [ id 1 label "1" queueSizes "16" schedulingPolicy "FIFO" levelsQoS 1 ]
  node [ id 2 label "2" queueSizes "16" schedulingPolicy "FIFO" levelsQoS 1 ]
  edge [ source 0 target 1 key 0 port 0 weight 1 bandwidth 12000.0 ]
  edge [ source 1 target 0 key 0 port 0 weight 1 bandwidth 12000.0 ]
  edge [ source 1 target 2 key 0 port 1 weight 1 bandwidth 24000.0 ]
  edge [ source 2 target 1 key 0 port 0 weight 1 bandwidth 24000.0 ]
]
"""
ROUTES_2021 = "0;1\n0;1;2\n1;0\n1;2\n2;1;0\n2;1\n"
PORTS_2020 = "-1,0,0,\n0,-1,1,\n0,0,-1,\n"
NO_TRAFFIC = "-1,0,-1,0,0"
NO_RESULT = "0,0,0,-1,-1,-1,-1,-1,-1,-1,-1"
TRAFFIC = [
    NO_TRAFFIC,
    "0,500,0.5,8,0,1000,0",
    "4,240,1.2,3,1,8,1,800,400,1200,0",
    NO_TRAFFIC,
    NO_TRAFFIC,
    "1,200,0.25,0,800,0:3,300,0.5,0.4,3,600,2,400,0.5,800,0.5,0",
    "2,450,0.3,0.6,0,1000,0",
    NO_TRAFFIC,
    NO_TRAFFIC,
]
RESULTS = [
    NO_RESULT,
    "0.498,0.498,0,0.11,-2.3,0.1,0.1,0.1,0.12,0.15,0.0004",
    "0.236,0.296,0,0.25,-1.45,0.14,0.16,0.22,0.31,0.38,0.008",
    NO_RESULT,
    NO_RESULT,
    "0.5,0.75,0,0.09,-2.5,0.04,0.05,0.08,0.12,0.15,0.002",
    "0.452,0.451,0,0.16,-1.85,0.15,0.15,0.15,0.17,0.2,0.0005",
    NO_RESULT,
    NO_RESULT,
]
FLOW_RESULT_5 = (
    "0.2,0.25,0,0.1,-2.35,0.04,0.04,0.04,0.08,0.12,0.001:0.3,0.5,0,0.085,-2.55,0.03,0.05,0.08,0.13,0.16,0.0025"
)
LINK_USAGE = [
    "-1",
    "0.0612,0,926,0.0612,0,1.07,4,926",
    "-1",
    "0.0376,0,1000,0.0376,0,1.04,3,1000",
    "-1",
    "0.0307,0,704,0.0307,0,1.03,3,704",
    "-1",
    "0.0188,0,1000,0.0188,0,1.02,2,1000",
    "-1",
]


@dataclass
class Sample:
    """One sample's lines, as the archive's text files hold them (without line ends)."""

    input_files: str
    stability: str
    traffic: str
    results: str
    flow_results: str | None = None
    link_usage: str | None = None


@dataclass
class Archive:
    """One result archive of a dataset directory."""

    name: str
    samples: list[Sample]
    extra_files: dict[str, str] = field(default_factory=dict)


def pair_line(entries: list[str], header: str | None = None) -> str:
    """A per-pair list line: ``header|e0;e1;…;`` (with the trailing ``;`` of the published files)."""
    return (f"{header}|" if header is not None else "") + "".join(f"{e};" for e in entries)


def write(
    directory: Path,
    archives: list[Archive],
    graphs: dict[str, str],
    routings: dict[str, str],
    links_bw: dict[str, str] | None = None,
    *,
    packed: bool = True,
) -> Path:
    """A dataset directory: ``graphs/``, ``routings/``, optional ``links_bw/`` and the archives (packed or not)."""
    for folder, files in (("graphs", graphs), ("routings", routings), ("links_bw", links_bw or {})):
        if files or folder != "links_bw":
            (directory / folder).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / folder / name).write_text(text)
    for archive in archives:
        texts = {
            "input_files.txt": [s.input_files for s in archive.samples],
            "stability.txt": [s.stability for s in archive.samples],
            "traffic.txt": [s.traffic for s in archive.samples],
            "simulationResults.txt": [s.results for s in archive.samples],
        }
        if any(s.flow_results is not None for s in archive.samples):
            texts["flowSimulationResults.txt"] = [s.flow_results or "" for s in archive.samples]
        if any(s.link_usage is not None for s in archive.samples):
            texts["linkUsage.txt"] = [s.link_usage or "" for s in archive.samples]
        files = {name: "\n".join(lines) + "\n" for name, lines in texts.items()} | archive.extra_files
        if packed:
            with tarfile.open(directory / f"{archive.name}.tar.gz", "w:gz") as tar:
                for name, text in files.items():
                    data = text.encode()
                    info = tarfile.TarInfo(f"{archive.name}/{name}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        else:
            (directory / archive.name).mkdir(parents=True)
            for name, text in files.items():
                (directory / archive.name / name).write_text(text)
    return directory


def spec_example(directory: Path, variant: str = "2021", *, packed: bool = True) -> Path:
    """The format's worked example: one sample of 3 nodes, four loaded pairs, five flows of every kind of law."""
    sample = Sample(
        input_files="0;graph-demo.txt;route-demo.txt",
        stability="2400;0.00097;OK;Mem(KB):51200;Time(s):12",
        traffic=pair_line(TRAFFIC, "600"),
        results=pair_line(RESULTS, "1.995,0,0.1346"),
        flow_results=pair_line([*RESULTS[:5], FLOW_RESULT_5, *RESULTS[6:]]),
    )
    if variant == "2021":
        sample.link_usage = pair_line(LINK_USAGE)
        return write(
            directory,
            [Archive("results_3_500-700_0_0", [sample])],
            {"graph-demo.txt": GRAPH_2021},
            {"route-demo.txt": ROUTES_2021},
            packed=packed,
        )
    return write(
        directory,
        [Archive("gnnet_data_set_0_0", [sample])],
        {"graph-demo.txt": GRAPH_2021},
        {"route-demo.txt": PORTS_2020},
        packed=packed,
    )


def ring_graph(n: int, capacity: float, queue: int, chords: tuple[tuple[int, int], ...] = ()) -> str:
    """A bidirectional ring of ``n`` nodes (plus ``chords``) in datanet's GML, ports numbered per node."""
    pairs = sorted({(i, (i + 1) % n) for i in range(n)} | set(chords))
    edges = sorted({p for a, b in pairs for p in ((a, b), (b, a))})
    ports: dict[int, int] = {}
    lines = ["graph [", "  directed 1", "  multigraph 1"]
    lines += [
        f'  node [ id {i} label "{i}" queueSizes "{queue}" schedulingPolicy "FIFO" levelsQoS 1 ]' for i in range(n)
    ]
    for a, b in edges:
        port = ports[a] = ports.get(a, -1) + 1
        lines.append(f"  edge [ source {a} target {b} key 0 port {port} weight 1 bandwidth {capacity} ]")
    return "\n".join([*lines, "]"]) + "\n"


def simulated(
    directory: Path, samples: int, *, nodes: int = 4, seed: int = 0, duration: float = 200.0, archives: int = 1
) -> tuple[Path, list[dict[str, np.ndarray]]]:
    """A 2021-variant dataset directory of ``samples`` ring networks with Poisson traffic between random pairs,
    simulated by the built-in engine (time unit = 1 s) and written in datanet's fields and units.

    Returns the directory and, per sample, the engine's per-flow KPIs in pair order, to compare an import against.
    """
    from nettwin.scenario import parse_scenario
    from nettwin.sim import simulate

    rng = np.random.default_rng(seed)
    capacity, queue = 10_000.0, 8
    graph = ring_graph(nodes, capacity, queue, chords=((0, nodes // 2),))
    gml_edges = [tuple(map(int, line.split()[3:6:2])) for line in graph.splitlines() if "edge [" in line]
    routes = {}
    g = nx.DiGraph(gml_edges)
    for s in range(nodes):
        for d in range(nodes):
            if s != d:
                routes[(s, d)] = nx.shortest_path(g, s, d)
    per_archive = math.ceil(samples / archives)
    built: list[Archive] = []
    truth: list[dict[str, np.ndarray]] = []
    for i in range(samples):
        pairs = [(s, d) for s in range(nodes) for d in range(nodes) if s != d and rng.random() < 0.6] or [(0, 1)]
        size_bits = float(rng.choice([800.0, 1000.0, 1200.0]))
        rates = {p: float(rng.uniform(0.1, 0.35)) * capacity for p in pairs}
        scenario = {
            "topology": {
                "nodes": list(range(nodes)),
                "links": [
                    {"src": a, "dst": b, "capacity": capacity, "delay": 0.0, "queue": queue, "bidirectional": False}
                    for a, b in gml_edges
                ],
            },
            "flows": [
                {
                    "src": s,
                    "dst": d,
                    "path": routes[(s, d)],
                    "traffic": {"model": "poisson", "rate": rates[(s, d)], "packet_size": size_bits / 8.0},
                }
                for s, d in pairs
            ],
            "simulation": {"duration": duration, "seed": seed * 1000 + i + 1},
        }
        (result,) = simulate(parse_scenario(scenario))
        k = result.flows
        truth.append(k)
        traffic, results = [], []
        flow = {p: j for j, p in enumerate(pairs)}
        for s in range(nodes):
            for d in range(nodes):
                j = flow.get((s, d))
                if j is None:
                    traffic.append(NO_TRAFFIC)
                    results.append(NO_RESULT)
                    continue
                lam = rates[(s, d)]
                traffic.append(f"0,{lam!r},{lam / size_bits!r},10,0,{size_bits!r},0")
                gen, drop = k["tx_packets"][j] / duration, k["dropped"][j] / duration
                bw = k["tx_packets"][j] * size_bits / duration / 1000.0
                var = k["delay_std"][j] ** 2
                p = [k["delay_p50"][j]] * 3 + [k["delay_p90"][j]] * 2
                results.append(
                    ",".join(repr(float(v)) for v in (bw, gen, drop, k["delay"][j], math.log(k["delay"][j]), *p, var))
                )
        built_sample = Sample(
            input_files=f"{i};ring.txt;shortest.txt",
            stability=f"{duration!r};0.001;OK",
            traffic=pair_line(traffic, repr(max(rates.values()))),
            results=pair_line(results, "0,0,0"),
        )
        if i % per_archive == 0:
            built.append(Archive(f"results_{nodes}_0-1_{i}_{min(i + per_archive, samples) - 1}", []))
        built[-1].samples.append(built_sample)
    routing = "".join(";".join(map(str, routes[(s, d)])) + "\n" for s in range(nodes) for d in range(nodes) if s != d)
    return write(directory, built, {"ring.txt": graph}, {"shortest.txt": routing}), truth


def synthetic(
    directory: Path,
    samples: int,
    *,
    nodes: int = 14,
    per_archive: int = 200,
    seed: int = 0,
    unstable: frozenset[int] = frozenset(),
) -> Path:
    """A 2021-variant dataset directory of ``samples`` samples on one ring-with-chords graph of ``nodes`` nodes, every
    pair loaded with Poisson traffic and given plausible results (not simulated: for measuring import speed); the
    samples numbered in ``unstable`` have a simulation status other than OK."""
    rng = np.random.default_rng(seed)
    capacity = 100_000.0
    chords = tuple((i, (i + nodes // 3) % nodes) for i in range(0, nodes, 3))
    graph = ring_graph(nodes, capacity, 32, chords)
    g = nx.DiGraph(tuple(map(int, line.split()[3:6:2])) for line in graph.splitlines() if "edge [" in line)
    pairs = [(s, d) for s in range(nodes) for d in range(nodes) if s != d]
    paths = dict(nx.all_pairs_shortest_path(g))
    routing = "".join(";".join(map(str, paths[s][d])) + "\n" for s, d in pairs)
    archives: list[Archive] = []
    for i in range(samples):
        traffic, results = [], []
        for s in range(nodes):
            for d in range(nodes):
                if s == d:
                    traffic.append(NO_TRAFFIC)
                    results.append(NO_RESULT)
                    continue
                lam = float(rng.uniform(100.0, 1000.0))
                delay = float(rng.uniform(0.01, 0.1))
                traffic.append(f"0,{lam:.6g},{lam / 1000.0:.6g},10,0,1000,0")
                results.append(
                    f"{lam / 1000:.6g},{lam / 1000:.6g},0,{delay:.6g},{math.log(delay):.6g},"
                    f"{delay * 0.5:.6g},{delay * 0.6:.6g},{delay:.6g},{delay * 1.4:.6g},{delay * 1.6:.6g},"
                    f"{(delay / 3) ** 2:.6g}"
                )
        status = "Unstable" if i in unstable else "OK"
        sample = Sample(
            f"{i};g.txt;r.txt", f"1000;0.001;{status}", pair_line(traffic, "1000"), pair_line(results, "1,0,0.05")
        )
        if i % per_archive == 0:
            archives.append(Archive(f"results_{nodes}_400-2000_{i}_{min(i + per_archive, samples) - 1}", []))
        archives[-1].samples.append(sample)
    return write(directory, archives, {"g.txt": graph}, {"r.txt": routing})
