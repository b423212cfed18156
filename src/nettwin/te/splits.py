"""Split ratios by node name, for another tool to apply: CSV or JSON, every instance, every pair, every path.

CSV: one row per candidate path, columns ``instance, src, dst, path, share``, ``path`` the JSON list of the path's
node names (so that any node name survives). JSON::

    {"format": "nettwin-te-splits", "version": 1,
     "instances": [{"instance", "mlu", "pairs": [{"src", "dst", "demand", "paths": [{"nodes", "share"}]}]}]}

with ``demand`` in bit/s. The shares of a pair sum to 1. :func:`read_splits` reads either back and
:func:`apply_splits` turns one instance's entry into the ratio vector of :meth:`TEInstance.mlu`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nettwin._files import atomic_write_text
from nettwin._json import write_json
from nettwin.errors import TEError
from nettwin.te.instance import TEInstance

__all__ = ["SPLITS_FORMAT", "NamedPaths", "Splits", "write_splits", "read_splits", "apply_splits"]

SPLITS_FORMAT = "nettwin-te-splits"
"""The ``format`` tag of a JSON split file."""


def _split_records(instances: Sequence[TEInstance], ratios: Sequence[np.ndarray]) -> list[dict]:
    if len(instances) != len(ratios):
        raise TEError(f"{len(ratios)} split-ratio vectors for {len(instances)} instances")
    out = []
    for inst, x in zip(instances, ratios, strict=True):
        g, ps = inst.graph, inst.paths
        x = np.asarray(x, dtype=np.float64)
        pairs = []
        for p in range(inst.n_pairs):
            paths = []
            for q in range(ps.pair_ptr[p], ps.pair_ptr[p + 1]):
                paths.append({"nodes": _path_nodes(inst, q), "share": float(x[q])})
            src, dst = (g.nodes[i] for i in ps.pairs[p])
            pairs.append({"src": src, "dst": dst, "demand": float(inst.demand[p]), "paths": paths})
        out.append({"instance": inst.name, "mlu": inst.mlu(x), "pairs": pairs})
    return out


def write_splits(path: str | Path, instances: Sequence[TEInstance], ratios: Sequence[np.ndarray]) -> None:
    """Write the split ratios of every instance with node names (module docstring): CSV for ``.csv``, JSON
    otherwise; atomically."""
    records = _split_records(instances, ratios)
    path = Path(path)
    if path.suffix.lower() != ".csv":
        write_json(path, {"format": SPLITS_FORMAT, "version": 1, "instances": records})
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["instance", "src", "dst", "path", "share"])
    for rec in records:
        for pair in rec["pairs"]:
            for p in pair["paths"]:
                w.writerow([rec["instance"], pair["src"], pair["dst"], json.dumps(p["nodes"]), repr(p["share"])])
    atomic_write_text(path, buf.getvalue())


NamedPaths = list[tuple[tuple[str, ...], float]]
"""A pair's candidate paths as node names, each with its share."""
Splits = dict[str, dict[tuple[str, str], NamedPaths]]
"""Split ratios by instance name, then by (source, destination) node names."""


def read_splits(path: str | Path) -> Splits:
    """Split ratios written by :func:`write_splits`: ``{instance: {(src, dst): [(path node names, share)]}}``.

    Raises
    ------
    TEError
        One line naming the file, the line or field, and what is wrong.
    """
    path = Path(path)
    out: Splits = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise TEError(f"split file '{path}': cannot read it: {err}") from err
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [c.strip() for c in rows[0]] != ["instance", "src", "dst", "path", "share"]:
            raise TEError(f"split file '{path}', line 1: expected the header instance,src,dst,path,share")
        for line, r in enumerate(rows[1:], 2):
            where = f"split file '{path}', line {line}"
            if len(r) != 5:
                raise TEError(f"{where}: {len(r)} fields, expected 5")
            try:
                nodes = json.loads(r[3])
                share = float(r[4])
            except ValueError as err:
                raise TEError(f"{where}: path must be a JSON list of node names and share a number ({err})") from None
            if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
                raise TEError(f"{where}: path must be a JSON list of node names, got {r[3]!r}")
            out.setdefault(r[0], {}).setdefault((r[1], r[2]), []).append((tuple(nodes), share))
        return out
    try:
        doc = json.loads(text)
        if doc.get("format") != SPLITS_FORMAT:
            raise TEError(f"split file '{path}': format: expected {SPLITS_FORMAT!r}, got {doc.get('format')!r}")
        for rec in doc["instances"]:
            pairs = out.setdefault(str(rec["instance"]), {})
            for pair in rec["pairs"]:
                pairs[(pair["src"], pair["dst"])] = [(tuple(p["nodes"]), float(p["share"])) for p in pair["paths"]]
    except TEError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise TEError(f"split file '{path}': not a split-ratio document ({type(err).__name__}: {err})") from None
    return out


def apply_splits(instance: TEInstance, splits: Mapping[tuple[str, str], NamedPaths]) -> np.ndarray:
    """The split-ratio vector of ``instance`` from named splits (one instance's entry of :func:`read_splits`).

    A candidate path the splits do not name gets share 0. Raises :class:`TEError` for a pair or path the instance
    does not have.
    """
    g, ps = instance.graph, instance.paths
    x = np.zeros(instance.n_paths)
    lookup: dict[tuple[str, ...], int] = {}
    for q in range(instance.n_paths):
        lookup[tuple(_path_nodes(instance, q))] = q
    pairs = {(g.nodes[s], g.nodes[t]) for s, t in ps.pairs.tolist()}
    for pair, paths in splits.items():
        if tuple(pair) not in pairs:
            raise TEError(f"instance '{instance.name}': no demand pair {pair[0]}→{pair[1]}")
        for nodes, share in paths:
            if tuple(nodes) not in lookup:
                raise TEError(f"instance '{instance.name}': {'→'.join(nodes)} is not a candidate path")
            x[lookup[tuple(nodes)]] = share
    return x


def _path_nodes(instance: TEInstance, q: int) -> list[str]:
    """The node names of candidate path ``q``, source first."""
    g, links = instance.graph, instance.paths.path(q)
    return [g.nodes[g.links[links[0], 0]]] + [g.nodes[g.links[e, 1]] for e in links]
