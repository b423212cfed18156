"""The ``datanet`` importer: BNN-UPC's datasets of the RouteNet papers and the Graph Neural Networking Challenges.

A dataset is a tree; every directory holding both ``graphs/`` and ``routings/`` is a *dataset directory* whose
``*.tar.gz`` result archives (or folders unpacked from them) hold line-aligned text files, one line per sample:
``input_files.txt`` (graph, routing and capacity files of the sample), ``stability.txt`` (simulated time and status),
``traffic.txt`` (the generator of every source–destination pair), ``simulationResults.txt`` (per-pair results) and,
optionally, ``flowSimulationResults.txt`` (per-flow results) and ``linkUsage.txt`` (per-port statistics). Both
variants are read: 2020 (several queues per port, scheduling policies, ToS classes, routing as a port matrix) and 2021
(one FIFO queue per port, routing as node paths, optional per-sample capacities in ``links_bw/``).

The simulator has no physical units: its time unit is read as the second, so bits per time unit become bit/s. A
sample becomes a scenario of directed links (capacity from the graph, no propagation delay, the node's queue size as
``queue``, which counts the packet being sent as the source does) whose flows follow the routing file's paths; each
field's mapping is in :data:`SEMANTICS`, recorded in the manifest's ``source.semantics``. A node's scheduling policy
(FIFO, SP, WFQ, DRR) and queues become a scheduler on each of its output links, and a flow's ToS its class. Samples a
scenario cannot express (a FIFO node with several queue sizes; several flows of a pair without per-flow results)
are left out and listed in the manifest; a sample whose simulation was not stable is left out too, as the source
says.
"""

from __future__ import annotations

import math
import tarfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from nettwin.data.importers.base import Excluded, ImportedSample
from nettwin.errors import DatasetError, NettwinWarning
from nettwin.scenario.sources import parse_gml
from nettwin.scenario.traffic import truncated_pareto_mean

__all__ = ["DatanetImporter", "SEMANTICS", "TIME_LAWS", "SIZE_LAWS"]

_FILES = ("input_files.txt", "stability.txt", "traffic.txt", "simulationResults.txt")
_OPTIONAL = ("flowSimulationResults.txt", "linkUsage.txt")
_SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "validation": "val",
    "valid": "val",
    "val": "val",
    "test": "test",
    "testing": "test",
}
_RESULT_FIELDS = 11
_NO_RESULT = (0.0, 0.0, 0.0, *(-1.0,) * 8)

TIME_LAWS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("EXPONENTIAL_T", ("EqLambda", "AvgPktsLambda", "ExpMaxFactor")),
    1: ("DETERMINISTIC_T", ("EqLambda", "AvgPktsLambda")),
    2: ("UNIFORM_T", ("EqLambda", "MinPktLambda", "MaxPktLambda")),
    3: ("NORMAL_T", ("EqLambda", "AvgPktsLambda", "StdDev")),
    4: ("ONOFF_T", ("EqLambda", "PktsLambdaOn", "AvgTOff", "AvgTOn", "ExpMaxFactor")),
    5: (
        "PPBP_T",
        ("EqLambda", "BurstGenLambda", "Bitrate", "ParetoMinSize", "ParetoMaxSize", "ParetoAlfa", "ExpMaxFactor"),
    ),
}
"""datanet's time-distribution codes: name and the parameters that follow the code, in order."""

SIZE_LAWS: dict[int, tuple[str, tuple[str, ...]]] = {
    0: ("DETERMINISTIC_S", ("AvgPktSize",)),
    1: ("UNIFORM_S", ("AvgPktSize", "MinSize", "MaxSize")),
    2: ("BINOMIAL_S", ("AvgPktSize", "PktSize1", "PktSize2")),
    3: ("GENERIC_S", ("AvgPktSize", "NumCandidates")),  # then NumCandidates pairs (size, probability)
}
"""datanet's packet-size codes: name and the parameters that follow the code, in order."""

SEMANTICS: dict[str, Any] = {
    "units": "the simulator's time unit (tu) is read as the second: bits/tu → bit/s, tu → s; sizes bits → bytes",
    "kpis": {
        "delay": "simulationResults avg_delay (tu → s); null where the source has no measurement (avg_delay < 0)",
        "delay_std": "√jitter: the source's 'jitter' is the variance of the per-packet delay (tu²), not nettwin's "
        "jitter",
        "delay_p50": "simulationResults p50 (tu → s)",
        "delay_p90": "simulationResults p90 (tu → s)",
        "throughput": "avg_bw (kbit/tu, the generated rate) × 1000 × (1 − pkts_drop / pkts_gen): the delivered rate, "
        "taking dropped packets to be of the flow's mean size",
        "drops": "pkts_drop (packets/tu) × sim_time: packets dropped",
        "drop_rate": "pkts_drop / pkts_gen; null where pkts_gen = 0",
    },
    "link_stats": {
        "utilisation": "linkUsage utilization (2021 variant, when present)",
        "mean_queue": "utilization × (avgPortOccupancy − 1): packets waiting, the one in service excluded (by Little's "
        "law, reading avgPortOccupancy as the mean sojourn in units of the mean service time, as its definition says)",
    },
    "absent": {
        "jitter": "not in the source (its 'jitter' is the delay variance, imported as delay_std)",
        "delay_p99": "not in the source",
        "tx_packets, rx_packets, dropped": "the source stores rates, not counts; drops holds pkts_drop × sim_time",
        "p10, p20, p80, avg_ln_delay": "no nettwin KPI; not imported",
        "global packets, losses, delay": "network-wide aggregates, derivable from the flows; not imported",
        "port losses, avgPacketSize, maxQueueOccupancy": "no nettwin link statistic holds a loss fraction, a mean "
        "size or a maximum; not imported",
    },
    "assumed": {
        "links": "each graph edge is a one-way link with its bandwidth as capacity and no propagation delay",
        "queues": "a node's queueSizes are the queues of each of its output ports, the packet in service included "
        "(queue: K); FIFO nodes have one",
        "scheduling": "SP, WFQ and DRR nodes give each output port a scheduler of the same policy over their queues "
        "(weights as given; SP weights, if any, unused); queue 0 is SP's highest priority (the source does not say)",
        "tos": "a flow's ToS is its class: queue ToS of every scheduled port serves it",
        "traffic": "the flow's mean rate is EqLambda; the remaining parameters set the law's shape (see docs)",
        "truncation": "ExpMaxFactor (the truncation of exponential draws at that many means) is not represented",
        "onoff": "while on, a flow sends at a constant rate (the source does not document its process when on)",
        "simulation": "duration = sim_time, no warm-up; the built-in engine re-simulates an imported sample",
    },
}
"""How each datanet field maps to nettwin's scenario and KPIs (recorded in the manifest's ``source.semantics``)."""


class DatanetImporter:
    """Reads a datanet tree: a directory holding dataset directories (or one of them, or one result archive)."""

    def samples(self, source: Path) -> Iterator[ImportedSample | Excluded]:
        root = source if source.is_dir() else source.parent
        with_links: bool | None = None
        readers: dict[Path, _DirectoryFiles] = {}
        for directory, archive in _archives(source):
            files = _Archive.read(archive, root)
            # Every sample holds the same columns: the first archive decides whether port statistics are imported.
            has_links = "linkUsage.txt" in files.lines
            if with_links is None:
                with_links = has_links
            elif has_links != with_links:
                warnings.warn(
                    f"{files.name}: {'has' if has_links else 'has no'} linkUsage.txt, unlike the first archive: its "
                    f"samples' port statistics are {'not imported' if has_links else 'null'}",
                    NettwinWarning,
                    stacklevel=2,
                )
            files.with_links = with_links
            reader = readers.setdefault(directory, _DirectoryFiles(directory, root))
            yield from files.samples(reader, _split_of(directory, root))

    def count(self, source: Path) -> int | None:
        return None  # the samples are inside compressed archives: counting them means reading them

    def version(self, source: Path) -> str | None:
        variants = sorted({_variant_of(d) for d, _ in _archives(source)} - {None})  # type: ignore[arg-type]
        return "+".join(variants) if variants else None

    def provenance(self, source: Path) -> dict[str, Any]:
        """What the manifest's ``source`` records besides format, path and version."""
        root = source if source.is_dir() else source.parent
        archives = [str(a.relative_to(root)) if a != root else a.name for _, a in _archives(source)]
        return {"archives": archives, "semantics": SEMANTICS}


# -- the tree --------------------------------------------------------------------------------------------------------


def _is_dataset_dir(path: Path) -> bool:
    return (path / "graphs").is_dir() and (path / "routings").is_dir()


def _archives(source: Path) -> list[tuple[Path, Path]]:
    """``(dataset directory, archive)`` pairs in a stable order: result archives, or folders unpacked from them."""
    if source.is_file():
        if not source.name.endswith(".tar.gz") or not _is_dataset_dir(source.parent):
            raise DatasetError(
                f"{source}: give a datanet tree, a dataset directory (holding graphs/ and routings/), or one of its "
                "*.tar.gz result archives"
            )
        return [(source.parent, source)]
    if not source.is_dir():
        raise DatasetError(f"{source}: no such directory")
    dirs = sorted({p.parent for p in source.rglob("graphs") if p.is_dir() and _is_dataset_dir(p.parent)})
    found: list[tuple[Path, Path]] = []
    for d in dirs:
        packed = sorted(d.glob("*.tar.gz"))
        stems = {p.name.removesuffix(".tar.gz") for p in packed}
        unpacked = sorted(
            p for p in d.iterdir() if p.is_dir() and p.name not in stems and _unpacked_results(p) is not None
        )
        found += [(d, a) for a in sorted([*packed, *unpacked], key=lambda p: p.name)]
    if not found:
        where = "has no dataset directory (one holding graphs/ and routings/)" if not dirs else "has no result archive"
        raise DatasetError(f"{source}: {where}; see docs/datasets.md for the datanet layout")
    return found


def _unpacked_results(folder: Path) -> Path | None:
    """The folder holding an unpacked archive's text files: ``folder`` or its only subfolder."""
    if (folder / "simulationResults.txt").is_file():
        return folder
    inner = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    if len(inner) == 1 and (inner[0] / "simulationResults.txt").is_file():
        return inner[0]
    return None


def _split_of(directory: Path, root: Path) -> str | None:
    """The split a directory's path names (``train``, ``validation``, ``test`` …), or None to draw one."""
    parts = directory.relative_to(root).parts if directory != root else ()
    for part in (*root.parts[-1:], *parts):
        if part.lower() in _SPLIT_NAMES:
            return _SPLIT_NAMES[part.lower()]
    return None


def _variant_of(directory: Path) -> str | None:
    """``2020`` (port-matrix routings) or ``2021`` (path routings), read from the first routing file."""
    for path in sorted((directory / "routings").iterdir()):
        if path.is_file():
            text = path.read_text(errors="replace").strip()
            if text:
                return "2020" if "," in text.splitlines()[0] else "2021"
    return None


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# -- graph, routing and capacity files, cached per dataset directory -------------------------------------------------


@dataclass
class _Graph:
    nodes: int
    edges: list[tuple[int, int]]
    capacity: dict[tuple[int, int], float]
    port: dict[tuple[int, int], int]
    ports: list[dict[str, Any]]  # per node, what its output links get: a queue size, or a scheduler
    refusal: str | None  # why a scenario cannot express this graph's ports, if it cannot


class _DirectoryFiles:
    """A dataset directory's graphs, routings and capacity files, each read once."""

    def __init__(self, directory: Path, root: Path) -> None:
        self.directory = directory
        self.root = root
        self.graphs: dict[str, _Graph] = {}
        self.routings: dict[tuple[str, str], dict[tuple[int, int], list[int]]] = {}
        self.capacities: dict[tuple[str, str], dict[tuple[int, int], float]] = {}

    def _file(self, folder: str, name: str, where: str) -> Path:
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise DatasetError(f"{where}: {name!r} is not a bare file name inside {folder}/")
        path = self.directory / folder / name
        if not path.is_file():
            raise DatasetError(f"{where}: {_shown(path, self.root)}: no such file")
        return path

    def graph(self, name: str, where: str) -> _Graph:
        if name not in self.graphs:
            self.graphs[name] = _read_graph(self._file("graphs", name, where), self.root)
        return self.graphs[name]

    def routing(self, name: str, graph_name: str, where: str) -> dict[tuple[int, int], list[int]]:
        key = (name, graph_name)
        if key not in self.routings:
            path = self._file("routings", name, where)
            self.routings[key] = _read_routing(path, self.graph(graph_name, where), _shown(path, self.root))
        return self.routings[key]

    def capacity(self, name: str, graph_name: str, where: str) -> dict[tuple[int, int], float]:
        key = (name, graph_name)  # checked against the graph it is used with, as a routing is
        if key not in self.capacities:
            path = self._file("links_bw", name, where)
            self.capacities[key] = _read_capacities(path, self.graph(graph_name, where), _shown(path, self.root))
        return self.capacities[key]


def _number(text: str, where: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{where}: {what}: not a number: {text.strip()!r}") from None
    if not math.isfinite(value):
        raise DatasetError(f"{where}: {what}: must be finite, got {text.strip()!r}")
    return value


def _whole(value: Any, where: str, what: str, minimum: int = 0) -> int:
    if isinstance(value, str):
        value = _number(value, where, what)
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise DatasetError(f"{where}: {what}: must be a whole number, got {value!r}")
    if value < minimum:
        raise DatasetError(f"{where}: {what}: must be ≥ {minimum}, got {value!r}")
    return int(value)


def _read_graph(path: Path, root: Path) -> _Graph:
    shown = _shown(path, root)
    try:
        g = parse_gml(path.read_text(errors="replace"), label="id")
    except (nx.NetworkXError, ValueError, KeyError) as err:
        raise DatasetError(
            f"{shown}: not a readable GML graph ({str(err).splitlines()[0] or type(err).__name__})"
        ) from None
    ids = sorted(g.nodes)
    if not ids or any(isinstance(i, bool) or not isinstance(i, int) for i in ids) or ids != list(range(len(ids))):
        raise DatasetError(f"{shown}: node ids must be 0 … N−1, got {ids[:5]}{'…' if len(ids) > 5 else ''}")
    ports: list[dict[str, Any]] = []
    refusal = None
    for n in ids:
        attrs = g.nodes[n]
        at = f"{shown}: node {n}"
        sizes_raw = attrs.get("queueSizes")
        if sizes_raw is None:
            raise DatasetError(f"{at}: no queueSizes")
        sizes = [_whole(s, at, "queueSizes", 1) for s in str(sizes_raw).split(",")]
        policy = str(attrs.get("schedulingPolicy", "FIFO"))
        if policy not in ("FIFO", "SP", "WFQ", "DRR"):
            raise DatasetError(f"{at}: schedulingPolicy: must be FIFO, SP, WFQ or DRR, got {policy!r}")
        levels = _whole(attrs.get("levelsQoS", len(sizes)), at, "levelsQoS", 1)
        if levels != len(sizes):
            raise DatasetError(f"{at}: levelsQoS is {levels} but queueSizes lists {len(sizes)} queue(s)")
        weights = None
        if "schedulingWeights" in attrs:
            weights = [_number(w, at, "schedulingWeights") for w in str(attrs["schedulingWeights"]).split(",")]
            if len(weights) != levels:
                raise DatasetError(f"{at}: schedulingWeights lists {len(weights)} weights for {levels} queue(s)")
            if any(w <= 0 for w in weights):
                raise DatasetError(f"{at}: schedulingWeights: must be > 0, got {attrs['schedulingWeights']!r}")
        elif policy in ("WFQ", "DRR"):
            raise DatasetError(f"{at}: a {policy} node needs schedulingWeights")
        if policy == "FIFO":
            if levels > 1 and refusal is None:
                refusal = (
                    f"node {n} is FIFO over {levels} queues (sizes {sizes_raw}); the source does not say how one "
                    "FIFO port uses several queue sizes"
                )
            ports.append({"queue": sizes[0]})
        else:
            queues = [{"queue": k} for k in sizes]
            if policy != "SP":  # strict priority has no use for weights (the semantics record an SP node's as unused)
                queues = [{**q, "weight": w} for q, w in zip(queues, weights or [], strict=True)]
            ports.append({"scheduler": {"policy": policy.lower(), "queues": queues}})
    capacity: dict[tuple[int, int], float] = {}
    port: dict[tuple[int, int], int] = {}
    for u, v, attrs in g.edges(data=True):
        at = f"{shown}: edge {u}→{v}"
        if u == v:
            raise DatasetError(f"{at}: a link from a node to itself")
        if (u, v) in capacity:
            raise DatasetError(f"{at}: listed twice; a port leads to one neighbour")
        if "bandwidth" not in attrs:
            raise DatasetError(f"{at}: no bandwidth")
        bw = _number(str(attrs["bandwidth"]), at, "bandwidth")
        if bw <= 0:
            raise DatasetError(f"{at}: bandwidth: must be > 0 bits per time unit, got {attrs['bandwidth']!r}")
        capacity[(u, v)] = bw
        if "port" in attrs:
            port[(u, v)] = _whole(attrs["port"], at, "port")
    if not capacity:
        raise DatasetError(f"{shown}: has no edges")
    return _Graph(len(ids), list(capacity), capacity, port, ports, refusal)


def _read_routing(path: Path, graph: _Graph, shown: str) -> dict[tuple[int, int], list[int]]:
    lines = [(i, t.strip()) for i, t in enumerate(path.read_text(errors="replace").splitlines(), 1) if t.strip()]
    if not lines:
        raise DatasetError(f"{shown}: is empty")
    n = graph.nodes
    routes: dict[tuple[int, int], list[int]] = {}
    if "," in lines[0][1]:  # 2020: a port matrix, line i = the output port of node i towards each destination
        if len(lines) != n:
            raise DatasetError(f"{shown}: a port matrix needs one line per node ({n}), has {len(lines)}")
        by_port = {(u, p): v for (u, v), p in graph.port.items()}
        matrix = []
        for lineno, text in lines:
            at = f"{shown}: line {lineno}"
            values = text.removesuffix(",").split(",")
            if len(values) != n:
                raise DatasetError(f"{at}: has {len(values)} ports; the graph has {n} nodes")
            matrix.append([_whole(v, at, f"port {j}", -1) for j, v in enumerate(values)])
        for src in range(n):
            for dst in range(n):
                if src == dst:
                    continue
                path_nodes = [src]
                while path_nodes[-1] != dst:
                    node = path_nodes[-1]
                    at = f"{shown}: line {lines[node][0]}"
                    p = matrix[node][dst]
                    if (node, p) not in by_port:
                        raise DatasetError(f"{at}: port {p} towards {dst}: node {node} has no such port")
                    path_nodes.append(by_port[(node, p)])
                    if len(path_nodes) > n:
                        raise DatasetError(f"{shown}: the ports from {src} towards {dst} loop: {path_nodes}")
                routes[(src, dst)] = path_nodes
        return routes
    for lineno, text in lines:  # 2021: one node path per line
        at = f"{shown}: line {lineno}"
        nodes = [_whole(v, at, "node", 0) for v in text.split(";")]
        if len(nodes) < 2:
            raise DatasetError(f"{at}: a route needs at least two nodes, got {text!r}")
        if any(x >= n for x in nodes):
            raise DatasetError(f"{at}: names node {max(nodes)}; the graph has nodes 0 … {n - 1}")
        hop = next(((a, b) for a, b in zip(nodes, nodes[1:], strict=False) if (a, b) not in graph.capacity), None)
        if hop is not None:
            raise DatasetError(f"{at}: hop {hop[0]}→{hop[1]} is not a link of the graph")
        if len(set(nodes)) != len(nodes):
            raise DatasetError(f"{at}: the route visits a node twice: {text}")
        key = (nodes[0], nodes[-1])
        if key in routes:
            raise DatasetError(f"{at}: a second route for {key[0]}→{key[1]}")
        routes[key] = nodes
    return routes


def _read_capacities(path: Path, graph: _Graph, shown: str) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for lineno, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not text.strip():
            continue
        at = f"{shown}: line {lineno}"
        fields = text.strip().split(";")
        if len(fields) != 3:
            raise DatasetError(f"{at}: expected src;dst;bandwidth, got {text.strip()!r}")
        u, v = _whole(fields[0], at, "src"), _whole(fields[1], at, "dst")
        if (u, v) not in graph.capacity:
            raise DatasetError(f"{at}: {u}→{v} is not a link of the graph")
        bw = _number(fields[2], at, "bandwidth")
        if bw <= 0:
            raise DatasetError(f"{at}: bandwidth: must be > 0, got {fields[2]!r}")
        out[(u, v)] = bw
    return out


# -- one result archive ----------------------------------------------------------------------------------------------


@dataclass
class _Archive:
    name: str  # as shown in messages: the archive's path below the source
    lines: dict[str, list[str]]  # file name → its lines (one per sample)
    with_links: bool = True  # whether samples hold port statistics (null where this archive has none)

    @classmethod
    def read(cls, archive: Path, root: Path) -> _Archive:
        shown = _shown(archive, root)
        texts: dict[str, str] = {}
        if archive.is_dir():
            folder = _unpacked_results(archive)
            assert folder is not None  # _archives lists only folders that hold results
            for path in folder.iterdir():
                if path.is_file():
                    texts[path.name] = path.read_text(errors="replace")
        else:
            try:
                with tarfile.open(archive, "r:gz") as tar:
                    for member in tar:
                        if member.isfile():
                            data = tar.extractfile(member)
                            texts[member.name.rsplit("/", 1)[-1]] = data.read().decode(errors="replace")  # type: ignore[union-attr]
            except (tarfile.TarError, OSError, EOFError) as err:
                raise DatasetError(f"{shown}: not a readable .tar.gz archive ({err})") from None
        missing = [f for f in _FILES if f not in texts]
        if missing:
            raise DatasetError(f"{shown}: has no {missing[0]}")
        unknown = sorted(set(texts) - {*_FILES, *_OPTIONAL})
        if unknown:
            warnings.warn(
                f"{shown}: ignored {', '.join(unknown)} (not in the datanet format)", NettwinWarning, stacklevel=2
            )
        lines = {name: texts[name].splitlines() for name in (*_FILES, *_OPTIONAL) if name in texts}
        for rows in lines.values():
            while rows and not rows[-1].strip():
                rows.pop()  # a final newline, or blank lines after the last sample
        return cls(shown, lines)

    def where(self, name: str, k: int) -> str:
        return f"{self.name}: {name}: line {k + 1}"

    def samples(self, files: _DirectoryFiles, split: str | None) -> Iterator[ImportedSample | Excluded]:
        n = min(len(self.lines["traffic.txt"]), len(self.lines["simulationResults.txt"]))
        for name, rows in self.lines.items():
            if len(rows) < n:
                raise DatasetError(f"{self.name}: {name}: has {len(rows)} line(s); the results hold {n} samples")
        for k in range(n):
            yield self._sample(k, files, split)
        for name, rows in self.lines.items():
            if len(rows) > n:
                yield Excluded(
                    self.where(name, n), f"{len(rows) - n} line(s) past the last sample that has traffic and results"
                )

    def _sample(self, k: int, files: _DirectoryFiles, split: str | None) -> ImportedSample | Excluded:
        where_in = self.where("input_files.txt", k)
        fields = self.lines["input_files.txt"][k].strip().split(";")
        if len(fields) not in (3, 4):
            raise DatasetError(f"{where_in}: expected sample_id;graph;routing[;links_bw], got {len(fields)} fields")
        sample_id = _whole(fields[0], where_in, "sample_id")
        graph_name, routing_name = fields[1].strip(), fields[2].strip()
        sim_time, status = _stability(self.lines["stability.txt"][k], self.where("stability.txt", k))
        graph = files.graph(graph_name, where_in)
        routes = files.routing(routing_name, graph_name, where_in)
        capacity = dict(graph.capacity)
        if len(fields) == 4 and fields[3].strip():
            capacity.update(files.capacity(fields[3].strip(), graph_name, where_in))
        n = graph.nodes
        traffic = _pairs(self.lines["traffic.txt"][k], n, self.where("traffic.txt", k), header=True)
        results = _pairs(self.lines["simulationResults.txt"][k], n, self.where("simulationResults.txt", k), header=True)
        per_flow = None
        if "flowSimulationResults.txt" in self.lines:
            line = self.lines["flowSimulationResults.txt"][k]
            per_flow = _pairs(line, n, self.where("flowSimulationResults.txt", k), header="|" in line)
        if status != "OK":
            return Excluded(self.where("stability.txt", k), f"the simulation's status is {status!r}, not OK")
        if graph.refusal is not None:
            return Excluded(where_in, f"graphs/{graph_name}: {graph.refusal}")
        flows, kpis, labelled = _flows(self, k, traffic, results, per_flow, routes, sim_time, n)
        if isinstance(flows, Excluded):
            return flows
        links = [
            {"src": u, "dst": v, "capacity": capacity[(u, v)], "delay": 0.0, **graph.ports[u], "bidirectional": False}
            for u, v in graph.edges
        ]
        if self.with_links:
            if "linkUsage.txt" in self.lines:
                kpis.update(_link_stats(self, k, graph.edges, capacity, n, labelled))
            else:
                kpis.update({c: [None] * len(links) for c in ("link_utilisation", "link_mean_queue")})
        scenario = {
            "name": f"{self.name.removesuffix('.tar.gz')}/{k + 1}",
            "topology": {"nodes": list(range(n)), "links": links},
            "flows": flows,
            "simulation": {"engine": "builtin", "duration": sim_time, "warmup": 0.0},
        }
        meta = {
            "archive": self.name,
            "line": k + 1,
            "sample_id": sample_id,
            "graph": graph_name,
            "routing": routing_name,
            "labelled": labelled,
            "max_avg_lambda": traffic.header[0] if traffic.header else None,
        }
        return ImportedSample(
            where=self.where("traffic.txt", k), scenario=scenario, kpis=kpis, split=split, meta=[meta]
        )


def _stability(text: str, where: str) -> tuple[float, str]:
    fields = text.strip().split(";")
    if len(fields) < 3:
        raise DatasetError(f"{where}: expected sim_time;stability;status[;Mem(KB):…][;Time(s):…], got {text.strip()!r}")
    sim_time = _number(fields[0], where, "sim_time")
    _number(fields[1], where, "stability")
    for extra in fields[3:]:
        key, _, value = extra.partition(":")
        if key.strip() not in ("Mem(KB)", "Time(s)") or not value.strip():
            raise DatasetError(f"{where}: unexpected field {extra.strip()!r} (known: Mem(KB):<int>, Time(s):<int>)")
        _number(value, where, key.strip())
    status = fields[2].strip()
    if status == "OK" and sim_time <= 0:
        raise DatasetError(f"{where}: sim_time: must be > 0, got {fields[0]!r}")
    return sim_time, status


@dataclass
class _PairList:
    header: list[float] | None
    entries: list[list[list[float]]]  # per pair k = src·N + dst: per flow, its numbers


def _pairs(text: str, n: int, where: str, *, header: bool) -> _PairList:
    """A per-pair list line: an optional ``…|`` header, then N² ``;``-separated entries of ``:``-separated flows."""
    body = text.strip()
    head = None
    if header:
        if "|" not in body:
            raise DatasetError(f"{where}: expected a '<header>|' before the per-pair list")
        first, body = body.split("|", 1)
        head = [_number(v, where, f"header value {i + 1}") for i, v in enumerate(first.split(","))]
    body = body.strip().removesuffix(";")
    entries = body.split(";")
    if len(entries) != n * n:
        raise DatasetError(f"{where}: has {len(entries)} pair entries; a graph of {n} nodes needs {n * n}")
    parsed = []
    for k, entry in enumerate(entries):
        src, dst = divmod(k, n)
        at = f"{where}: pair {src}→{dst}"
        parsed.append(
            [[_number(v, at, f"value {i + 1}") for i, v in enumerate(flow.split(","))] for flow in entry.split(":")]
        )
    return _PairList(head, parsed)


def _flows(
    archive: _Archive,
    k: int,
    traffic: _PairList,
    results: _PairList,
    per_flow: _PairList | None,
    routes: dict[tuple[int, int], list[int]],
    sim_time: float,
    n: int,
) -> tuple[list[dict[str, Any]] | Excluded, dict[str, list[Any]], bool]:
    """The sample's flows (in pair order, then flow order) and their KPIs; or why the sample is left out."""
    w_traffic = archive.where("traffic.txt", k)
    w_results = archive.where("simulationResults.txt", k)
    w_flow = archive.where("flowSimulationResults.txt", k)
    flows: list[dict[str, Any]] = []
    kpis: dict[str, list[Any]] = {name: [] for name in SEMANTICS["kpis"]}
    labelled = False
    for pair in range(n * n):
        src, dst = divmod(pair, n)
        generators = traffic.entries[pair]
        result = results.entries[pair]
        if len(result) != 1 or len(result[0]) != _RESULT_FIELDS:
            raise DatasetError(f"{w_results}: pair {src}→{dst}: expected {_RESULT_FIELDS} values")
        if generators[0][0] == -1:
            if len(generators) != 1:
                raise DatasetError(f"{w_traffic}: pair {src}→{dst}: a no-traffic entry (-1) holds one entry only")
            continue
        if src == dst:
            raise DatasetError(f"{w_traffic}: pair {src}→{dst}: a node cannot send traffic to itself")
        if (src, dst) not in routes:
            raise DatasetError(f"{w_traffic}: pair {src}→{dst}: has traffic but the routing file has no route for it")
        if per_flow is not None:
            tuples = per_flow.entries[pair]
            if len(tuples) != len(generators) or any(len(t) != _RESULT_FIELDS for t in tuples):
                raise DatasetError(
                    f"{w_flow}: pair {src}→{dst}: expected {len(generators)} flow(s) of {_RESULT_FIELDS} values"
                )
        elif len(generators) > 1:
            return (
                Excluded(
                    w_traffic,
                    f"pair {src}→{dst} has {len(generators)} flows and the archive has no flowSimulationResults.txt: "
                    "their KPIs cannot be told apart",
                ),
                kpis,
                False,
            )
        else:
            tuples = result
        for i, (values, measured) in enumerate(zip(generators, tuples, strict=True)):
            at = f"{w_traffic}: pair {src}→{dst}{f' flow {i}' if len(generators) > 1 else ''}"
            law, tos = _traffic(values, at)
            flows.append({"src": src, "dst": dst, "path": routes[(src, dst)], "tos": tos, "traffic": law})
            labelled |= _flow_kpis(measured, sim_time, kpis)
    if not flows:
        raise DatasetError(f"{w_traffic}: no pair has traffic")
    return flows, kpis, labelled


def _flow_kpis(r: list[float], sim_time: float, out: dict[str, list[Any]]) -> bool:
    """Append one flow's KPIs (None where the source withholds or lacks the value); True if it has a delay."""
    avg_bw, gen, drop, delay, _ln, _p10, _p20, p50, _p80, p90, variance = r
    measured = delay >= 0
    out["delay"].append(delay if measured else None)
    out["delay_std"].append(math.sqrt(variance) if measured and variance >= 0 else None)
    out["delay_p50"].append(p50 if measured and p50 >= 0 else None)
    out["delay_p90"].append(p90 if measured and p90 >= 0 else None)
    dropped = drop >= 0 and gen >= 0
    rate = drop / gen if dropped and gen > 0 else None
    out["drops"].append(drop * sim_time if dropped else None)
    out["drop_rate"].append(rate)
    out["throughput"].append(avg_bw * 1000.0 * (1.0 - rate) if rate is not None and avg_bw >= 0 else None)
    return measured


def _traffic(values: list[float], where: str) -> tuple[dict[str, Any], int]:
    """One flow's generator, ``time_code, time params, size_code, size params, ToS``, as a nettwin traffic and
    class."""
    code = _whole(values[0], where, "time code")
    if code not in TIME_LAWS:
        raise DatasetError(f"{where}: time code {code}: unknown (known: {', '.join(map(str, TIME_LAWS))})")
    law, names = TIME_LAWS[code]
    at = 1 + len(names)
    if len(values) < at + 1:
        raise DatasetError(f"{where}: {law} needs {', '.join(names)}, then a size code")
    t = dict(zip(names, values[1:at], strict=True))
    size, at = _size(values, at, where)
    if len(values) != at + 1:
        raise DatasetError(
            f"{where}: expected the ToS as the last value after the size law; found {len(values) - at} value(s) there"
        )
    tos = _whole(values[at], where, "ToS")
    if t["EqLambda"] <= 0:
        raise DatasetError(f"{where}: EqLambda: a flow with traffic needs a mean rate > 0, got {t['EqLambda']:g}")
    for name, value in t.items():
        if value < 0:
            raise DatasetError(f"{where}: {name}: must be ≥ 0, got {value:g}")
    rate = t["EqLambda"]
    traffic: dict[str, Any] = {"rate": rate, "packet_size": size}
    if code == 0:
        traffic["model"] = "poisson"
    elif code == 1:
        traffic["model"] = "cbr"
    elif code == 2:
        low, high = t["MinPktLambda"], t["MaxPktLambda"]
        if not 0 < low <= high:
            raise DatasetError(f"{where}: UNIFORM_T needs 0 < MinPktLambda ≤ MaxPktLambda, got {low:g}, {high:g}")
        traffic.update(model="uniform", spread=(high - low) / (high + low))
    elif code == 3:
        traffic.update(model="normal", gap_std=t["StdDev"])
    elif code == 4:
        on, off = t["AvgTOn"], t["AvgTOff"]
        if on <= 0:
            raise DatasetError(f"{where}: AvgTOn: must be > 0, got {on:g}")
        traffic.update(model="onoff", rate=rate * (on + off) / on, tau_on=on, tau_off=off)
    else:
        low, high, shape = t["ParetoMinSize"], t["ParetoMaxSize"], t["ParetoAlfa"]
        if not (0 < low <= high and shape > 0 and t["Bitrate"] > 0):
            raise DatasetError(
                f"{where}: PPBP_T needs 0 < ParetoMinSize ≤ ParetoMaxSize, ParetoAlfa > 0 and Bitrate > 0"
            )
        burst = truncated_pareto_mean(low, high, shape)
        traffic.update(
            model="ppbp",
            rate=t["Bitrate"],
            burst_arrivals=rate / burst,
            burst_min=low / 8.0,
            burst_max=high / 8.0,
            pareto_shape=shape,
        )
    return traffic, tos


def _size(values: list[float], at: int, where: str) -> tuple[dict[str, Any], int]:
    """The size law starting at ``values[at]`` (sizes in bits → bytes) and the index just after it."""
    code = _whole(values[at], where, "size code")
    if code not in SIZE_LAWS:
        raise DatasetError(f"{where}: size code {code}: unknown (known: {', '.join(map(str, SIZE_LAWS))})")
    law, names = SIZE_LAWS[code]
    start = at + 1
    if len(values) < start + len(names):
        raise DatasetError(f"{where}: {law} needs {', '.join(names)}")
    s = dict(zip(names, values[start : start + len(names)], strict=True))
    end = start + len(names)
    for name, value in s.items():
        if value <= 0 and name != "NumCandidates":
            raise DatasetError(f"{where}: {name}: a packet size must be > 0 bits, got {value:g}")
    if code == 0:
        return {"dist": "fixed", "mean": s["AvgPktSize"] / 8.0}, end
    if code == 1:
        if s["MinSize"] > s["MaxSize"]:
            raise DatasetError(f"{where}: UNIFORM_S needs MinSize ≤ MaxSize, got {s['MinSize']:g}, {s['MaxSize']:g}")
        return {"dist": "uniform", "min": s["MinSize"] / 8.0, "max": s["MaxSize"] / 8.0}, end
    if code == 2:
        return {"dist": "binomial", "sizes": [s["PktSize1"] / 8.0, s["PktSize2"] / 8.0], "p": 0.5}, end
    count = _whole(s["NumCandidates"], where, "NumCandidates", 1)
    pairs = values[end : end + 2 * count]
    if len(pairs) != 2 * count:
        raise DatasetError(f"{where}: GENERIC_S lists {count} candidates but {len(pairs) // 2} (size, prob) pairs")
    sizes, probs = pairs[0::2], pairs[1::2]
    if any(v <= 0 for v in sizes) or any(p < 0 for p in probs) or not math.isclose(sum(probs), 1.0, abs_tol=1e-3):
        raise DatasetError(f"{where}: GENERIC_S needs sizes > 0 and probabilities ≥ 0 that sum to 1, got {pairs}")
    total = sum(probs)
    return {"dist": "discrete", "sizes": [v / 8.0 for v in sizes], "probs": [p / total for p in probs]}, end + 2 * count


def _link_stats(
    archive: _Archive,
    k: int,
    edges: list[tuple[int, int]],
    capacity: dict[tuple[int, int], float],
    n: int,
    labelled: bool,
) -> dict[str, list[Any]]:
    where = archive.where("linkUsage.txt", k)
    ports = _pairs(archive.lines["linkUsage.txt"][k], n, where, header=False).entries
    out: dict[str, list[Any]] = {"link_utilisation": [], "link_mean_queue": []}
    for pair in range(n * n):
        u, v = divmod(pair, n)
        (values,) = ports[pair] if len(ports[pair]) == 1 else (None,)
        if values is None:
            raise DatasetError(f"{where}: pair {u}→{v}: a port entry holds no ':'")
        exists = (u, v) in capacity
        if values == [-1.0]:
            if exists and labelled:
                raise DatasetError(f"{where}: pair {u}→{v}: is -1 (no link) but the graph has the link {u}→{v}")
            continue
        if not exists:
            raise DatasetError(f"{where}: pair {u}→{v}: has port statistics but the graph has no link {u}→{v}")
        if len(values) < 8 or (len(values) - 3) % 5:
            raise DatasetError(f"{where}: pair {u}→{v}: expected 3 values then 5 per queue, got {len(values)}")
    for u, v in edges:
        values = ports[u * n + v][0]
        if values == [-1.0]:
            for column in out.values():
                column.append(None)
            continue
        utilisation, losses, size = values[:3]
        occupancy = values[5]
        if not (0 <= utilisation <= 1 and 0 <= losses < 1 and size > 0):
            raise DatasetError(
                f"{where}: pair {u}→{v}: utilization and losses must be in [0, 1) and avgPacketSize > 0, "
                f"got {utilisation:g}, {losses:g}, {size:g}"
            )
        out["link_utilisation"].append(utilisation)
        out["link_mean_queue"].append(utilisation * max(occupancy - 1.0, 0.0))
    return out
