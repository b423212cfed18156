"""The ``glance`` importer: GLANCE's published ns-3 Wi-Fi grid dataset (``dataset/<scenario>/``).

A scenario directory holds ``graphs/Gx*.gml`` (OLSR one-hop neighbour graphs) and split folders ``train``,
``validate`` and ``test``, each with four line-aligned files: ``gfiles.txt`` (the sample's graph), ``paths.txt``
(the flows' routes), ``traffic.txt`` (mean ON/OFF durations) and ``kpis.txt`` (tx, rx, delay, jitter, throughput
per flow). Each sample becomes a wireless scenario whose ``links`` are its neighbour graph, on a square grid whose
spacing is read from the graph's edge weights.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nettwin.data.importers.base import Excluded, ImportedSample
from nettwin.errors import DatasetError

__all__ = ["GlanceImporter", "SEMANTICS"]

_SPLITS = {"train": "train", "validate": "val", "test": "test"}
_FILES = ("gfiles.txt", "paths.txt", "traffic.txt", "kpis.txt")
_RATE = "50kbps"  # not stored by GLANCE: the rate and size that reproduce the published packet counts
_PACKET_SIZE = 210
_EDGE = re.compile(r"edge\s*\[(?P<body>[^\[\]]*)\]")
_DURATION = re.compile(r"St(?P<seconds>[0-9]+)")

SEMANTICS: dict[str, Any] = {
    "kpis": {
        "delay": "kpis.txt field 2: mean end-to-end packet delay, ms → s; null where rx = 0 (raw value in meta)",
        "jitter": "kpis.txt field 3: ns-3 jitter, ms → s; taken as FlowMonitor's mean |ΔD| of consecutive packets "
        "(the source does not document it); null where rx = 0 (raw value in meta)",
        "tx_packets": "kpis.txt field 0: packets sent",
        "rx_packets": "kpis.txt field 1: packets received",
        "dropped": "tx − rx (not stored by the source)",
        "drops": "tx − rx (not stored by the source)",
        "drop_rate": "(tx − rx) / tx; null where tx = 0",
    },
    "absent": {
        "throughput": "kpis.txt field 4 (kbit/s) is not nettwin's throughput: it can exceed the source's ON rate "
        "(headers counted or a shorter window), so it is not imported",
        "delay_std": "not in the source",
        "delay_p50": "not in the source",
        "delay_p90": "not in the source",
        "delay_p99": "not in the source",
        "link statistics": "not in the source",
    },
    "assumed": {
        "traffic": f"onoff at {_RATE} while on, {_PACKET_SIZE}-byte packets (not stored by the source; they match "
        "the published packet counts); tau_on, tau_off from traffic.txt in s",
        "positions": "node id = row · C + col on a square grid; spacing = shortest edge length, from edge weight "
        "w = 1 / ln(1 + d²)",
        "simulation": "duration from the scenario name's St<n> (seconds), no warm-up",
    },
}
"""How each GLANCE field maps to nettwin's KPIs (recorded in the manifest's ``source.semantics``)."""


class GlanceImporter:
    """Reads one GLANCE scenario directory (the one holding ``graphs/`` and the split folders)."""

    def samples(self, source: Path) -> Iterator[ImportedSample | Excluded]:
        root = _root(source)
        duration = _duration(root)
        graphs: dict[str, dict[str, Any]] = {}
        for folder, split in _SPLITS.items():
            for lineno, fields in _aligned(root, folder):
                yield _sample(root, folder, split, lineno, fields, duration, graphs)

    def count(self, source: Path) -> int | None:
        root = _root(source)
        return sum(
            sum(1 for line in (root / f / "gfiles.txt").read_text().splitlines() if line.strip())
            for f in _SPLITS
            if (root / f / "gfiles.txt").is_file()
        )

    def version(self, source: Path) -> str | None:
        return None

    def provenance(self, source: Path) -> dict[str, Any]:
        """What the manifest's ``source`` records besides format, path and version."""
        root = _root(source)
        return {"scenario": root.name, "duration_s": _duration(root), "semantics": SEMANTICS}


def _root(source: Path) -> Path | zipfile.Path:
    """The scenario folder: ``source`` itself, or the one ``dataset/<scenario>/`` inside the zip ``source``."""
    if source.is_file() and zipfile.is_zipfile(source):
        folder = zipfile.Path(source) / "dataset"
        found = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        if len(found) != 1:
            held = f"holds scenarios {', '.join(found)}" if found else "has no dataset/<scenario>/ folder"
            raise DatasetError(f"{source}: {held}; unpack it and give one dataset/<scenario>/ folder")
        return _scenario(folder / found[0], source / "dataset" / found[0])
    if not source.is_dir():
        raise DatasetError(f"{source}: not a directory or zip; give the dataset/<scenario>/ folder or dataset.zip")
    return _scenario(source, source)


def _scenario(source: Path | zipfile.Path, shown: Path) -> Path | zipfile.Path:
    if not (source / "graphs").is_dir():
        raise DatasetError(f"{shown}: has no graphs/ folder; give the dataset/<scenario>/ folder")
    if not any((source / f).is_dir() for f in _SPLITS):
        raise DatasetError(f"{shown}: has none of the split folders {', '.join(_SPLITS)}")
    return source


def _duration(root: Path | zipfile.Path) -> float:
    match = _DURATION.search(root.name)
    if match is None or int(match["seconds"]) <= 0:
        raise DatasetError(f"{root.name}: the scenario name has no St<n> (simulated seconds); keep the published name")
    return float(match["seconds"])


def _aligned(root: Path | zipfile.Path, folder: str) -> Iterator[tuple[list[int], list[str]]]:
    """Per sample: the line numbers (1-based) and stripped texts of its line in each of the four files."""
    if not (root / folder).is_dir():
        return
    columns = []
    for name in _FILES:
        path = root / folder / name
        if not path.is_file():
            raise DatasetError(f"{folder}/{name}: missing")
        # splitlines() yields a final line without a newline too (several published files lack one)
        lines = [(i, t.strip()) for i, t in enumerate(path.read_text().splitlines(), 1) if t.strip()]
        columns.append(lines)
    counts = [len(c) for c in columns]
    if len(set(counts)) > 1:
        short = counts.index(min(counts))
        long = counts.index(max(counts))
        lineno = columns[long][counts[short]][0]
        raise DatasetError(
            f"{folder}/{_FILES[long]}: line {lineno}: sample {counts[short] + 1} has no line in "
            f"{folder}/{_FILES[short]} ({counts[short]} samples there, {counts[long]} here)"
        )
    for row in zip(*columns, strict=True):
        yield [i for i, _ in row], [t for _, t in row]


def _floats(text: str, where: str) -> list[float]:
    values = []
    for k, item in enumerate(text.split(",")):
        try:
            v = float(item)
        except ValueError:
            raise DatasetError(f"{where}: value {k + 1}: not a number: {item.strip()!r}") from None
        if not math.isfinite(v) or v < 0:
            raise DatasetError(f"{where}: value {k + 1}: must be finite and ≥ 0, got {item.strip()!r}")
        values.append(v)
    return values


def _sample(
    root: Path | zipfile.Path,
    folder: str,
    split: str,
    lines: list[int],
    texts: list[str],
    duration: float,
    graphs: dict[str, dict[str, Any]],
) -> ImportedSample | Excluded:
    where = dict(zip(_FILES, (f"{folder}/{n}: line {i}" for n, i in zip(_FILES, lines, strict=True)), strict=True))
    gname = texts[0].replace("\\", "/").rsplit("/", 1)[-1]
    if gname not in graphs:
        graphs[gname] = _graph(root / "graphs" / gname, where["gfiles.txt"])
    graph = graphs[gname]
    paths = _paths(texts[1], where["paths.txt"])
    n_flows = len(paths)
    traffic = _floats(texts[2], where["traffic.txt"])
    if len(traffic) != 2 * n_flows:
        raise DatasetError(
            f"{where['traffic.txt']}: has {len(traffic)} values; {n_flows} flows in paths.txt need {2 * n_flows}"
        )
    kpis = _floats(texts[3], where["kpis.txt"])
    if len(kpis) != 5 * n_flows:
        raise DatasetError(
            f"{where['kpis.txt']}: has {len(kpis)} values; {n_flows} flows in paths.txt need {5 * n_flows}"
        )
    edges = graph["edges"]
    off_graph = None
    for j, path in enumerate(paths):
        off = [(a, b) for a, b in zip(path, path[1:], strict=False) if (a, b) not in edges]
        if off and off_graph is None:
            off_graph = f"flow {j}: hop {off[0][0]} → {off[0][1]} is not a link of graphs/{gname}"
        if tau := [v for v in traffic[2 * j : 2 * j + 2] if v <= 0]:
            raise DatasetError(f"{where['traffic.txt']}: flow {j}: ON and OFF durations must be > 0, got {tau[0]}")
    flows = []
    out: dict[str, list[Any]] = {k: [] for k in SEMANTICS["kpis"]}
    raw_when_silent = {}
    for j, path in enumerate(paths):
        tx, rx, delay_ms, jitter_ms, _throughput = kpis[5 * j : 5 * j + 5]
        if not (tx.is_integer() and rx.is_integer()):
            raise DatasetError(f"{where['kpis.txt']}: flow {j}: tx and rx must be whole packet counts")
        if rx > tx:
            raise DatasetError(f"{where['kpis.txt']}: flow {j}: rx {rx:g} exceeds tx {tx:g}")
        flows.append(
            {
                "src": path[0],
                "dst": path[-1],
                "path": path,
                "traffic": {
                    "model": "onoff",
                    "rate": _RATE,
                    "packet_size": _PACKET_SIZE,
                    "tau_on": traffic[2 * j],
                    "tau_off": traffic[2 * j + 1],
                },
            }
        )
        silent = rx == 0
        if silent:
            raw_when_silent[str(j)] = {"delay_ms": delay_ms, "jitter_ms": jitter_ms}
        out["delay"].append(None if silent else delay_ms / 1e3)
        out["jitter"].append(None if silent else jitter_ms / 1e3)
        out["tx_packets"].append(int(tx))
        out["rx_packets"].append(int(rx))
        out["dropped"].append(int(tx - rx))
        out["drops"].append(tx - rx)
        out["drop_rate"].append((tx - rx) / tx if tx > 0 else None)
    scenario = {
        "name": f"{root.name}/{folder}/{lines[0]}",
        "topology": {
            "medium": "wireless",
            "nodes": graph["nodes"],
            "links": [{"src": a, "dst": b, "bidirectional": False} for a, b in graph["edge_list"]],
        },
        "flows": flows,
        "simulation": {"engine": "ns3", "duration": duration, "warmup": 0.0},
    }
    if off_graph is not None:
        # The source's few non-geometric graphs have routes along the regular grid instead (see the format's notes):
        # no scenario can route a flow off its topology, so such a sample is left out, and recorded.
        return Excluded(where["paths.txt"], off_graph)
    meta = {"glance_split": folder, "glance_line": lines[0], "graph": gname, "grid_geometric": graph["geometric"]}
    if raw_when_silent:
        meta["rx0_raw"] = raw_when_silent
    return ImportedSample(
        where=where["paths.txt"],
        scenario=scenario,
        kpis={k: [v] for k, v in out.items()},
        split=split,
        meta=[meta],
    )


def _paths(text: str, where: str) -> list[list[int]]:
    try:
        paths = json.loads(text)
    except json.JSONDecodeError as err:
        raise DatasetError(f"{where}: not a JSON list of routes ({err.msg})") from None
    if not isinstance(paths, list) or not paths:
        raise DatasetError(f"{where}: must be a non-empty list of routes")
    for j, path in enumerate(paths):
        if (
            not isinstance(path, list)
            or len(path) < 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in path)
        ):
            raise DatasetError(f"{where}: flow {j}: a route is a list of at least 2 node ids (ints ≥ 0), got {path!r}")
    return paths


def _graph(path: Path | zipfile.Path, where: str) -> dict[str, Any]:
    """A neighbour graph: its directed edges and node positions on the square grid its weights imply."""
    if not path.is_file():
        raise DatasetError(f"{where}: graphs/{path.name}: no such graph file")
    text = path.read_text()
    edge_list: list[tuple[int, int]] = []
    lengths: dict[tuple[int, int], float] = {}
    for match in _EDGE.finditer(text):
        lineno = text.count("\n", 0, match.start()) + 1
        at = f"graphs/{path.name}: line {lineno}"
        tokens = match["body"].split()
        if len(tokens) % 2:
            raise DatasetError(f"{at}: edge: expected key value pairs")
        fields = dict(zip(tokens[::2], tokens[1::2], strict=True))
        try:
            a, b, w = int(fields["source"]), int(fields["target"]), float(fields["weight"])
        except KeyError as err:
            raise DatasetError(f"{at}: edge: no {err.args[0]}") from None
        except ValueError:
            raise DatasetError(f"{at}: edge: source and target must be ints and weight a number") from None
        if a < 0 or b < 0 or a == b or not (math.isfinite(w) and w > 0):
            raise DatasetError(f"{at}: edge: needs distinct node ids ≥ 0 and a weight > 0")
        edge_list.append((a, b))
        lengths[(a, b)] = math.sqrt(math.expm1(1.0 / w))
    if not edge_list:
        raise DatasetError(f"{where}: graphs/{path.name}: has no edges")
    side = math.isqrt(max(max(e) for e in edge_list))
    side += 1
    spacing = min(lengths.values())
    nodes = [{"name": n, "x": (n % side) * spacing, "y": (n // side) * spacing} for n in range(side * side)]
    geometric = all(
        math.isclose(d, math.dist((nodes[a]["x"], nodes[a]["y"]), (nodes[b]["x"], nodes[b]["y"])), rel_tol=0.01)
        for (a, b), d in lengths.items()
    )
    return {"nodes": nodes, "edges": set(edge_list), "edge_list": edge_list, "geometric": geometric}
