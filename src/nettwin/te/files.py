"""The user's own network: topologies and traffic matrices from files, split ratios out to files.

**Topologies** (:func:`read_topology`): a scenario file (``.yaml``, ``.yml``, ``.json``) whose ``topology``
section is read exactly as a simulation reads it (any source, link defaults, overrides, capacity scale; other
sections are ignored), or a GML/GraphML file whose every link carries a ``capacity``. The two directions of a
link share one physical link id, so a failure takes both down.

**Networks** (:func:`read_network`): a scenario file read whole (topology, flows, routing) into the shared
:class:`~nettwin.scenario.network.Network`, for instances built from it and splits applied back to it
(:mod:`nettwin.te.network`).

**Traffic matrices** (:func:`read_demands`), in bit/s, node order of the graph:

* ``.csv`` — either a square matrix (header: a corner cell, then destination names; each row: a source name, then
  its demands) or long rows with the header ``src,dst,demand`` or ``step,src,dst,demand`` (several matrices, step
  0, 1, ... with no step left out). A cell is a plain number (in ``unit``) or a rate with its unit (``10Mbps``).
* ``.npy`` — an ``(N, N)`` or ``(T, N, N)`` array in ``unit``, rows and columns in the graph's node order.
* anything else — SNDlib's native format: the ``DEMANDS ( ... )`` section, one line
  ``id ( src dst ) routing_unit value max_path_length`` per demand, values in ``unit`` (SNDlib states none).

Every problem is one :class:`~nettwin.errors.TEError` line naming the file, the line or field, and what is wrong.
Split ratios go back out by node name through :mod:`nettwin.te.splits`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import ValidationError

from nettwin.errors import ScenarioError, TEError
from nettwin.scenario.units import UnitError, parse_rate
from nettwin.te.graph import TEGraph, one_capacity, paired_physical, te_graph
from nettwin.te.instance import TEInstance
from nettwin.te.paths import compute_paths

if TYPE_CHECKING:
    from nettwin.scenario.network import Network

__all__ = [
    "SCENARIO_SUFFIXES",
    "GRAPH_SUFFIXES",
    "is_topology_file",
    "read_topology",
    "read_network",
    "read_demands",
    "file_instances",
]

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
GRAPH_SUFFIXES = (".gml", ".graphml")


def is_topology_file(source: str | Path) -> bool:
    """Whether ``source`` names a topology file (by its extension) rather than a topohub key or built-in name.

    Examples
    --------
    >>> is_topology_file("mynet.graphml"), is_topology_file("sndlib/geant")
    (True, False)
    """
    return Path(source).suffix.lower() in SCENARIO_SUFFIXES + GRAPH_SUFFIXES


def read_topology(path: str | Path, capacity: float | None = None) -> TEGraph:
    """The TE graph of a scenario file's ``topology`` section or of a GML/GraphML file with capacities.

    ``capacity`` (bit/s) replaces every link's capacity.

    Raises
    ------
    TEError
        One line per problem, naming the file and the field or link.
    """
    from nettwin.scenario.io import format_validation_error, read_mapping
    from nettwin.scenario.network import build_links
    from nettwin.scenario.sources import file_topology
    from nettwin.scenario.spec import TopologySpec

    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in GRAPH_SUFFIXES:
            topo = file_topology(path)
            if capacity is None:
                for (u, v), attrs in zip(topo.edges, topo.edge_attrs, strict=True):
                    if "capacity" not in attrs:
                        raise TEError(
                            f"topology file '{path}': link {topo.nodes[u]}–{topo.nodes[v]} has no capacity; give "
                            "every link one (or one capacity for all links)"
                        )
            return te_graph(topo, capacity)
        if suffix not in SCENARIO_SUFFIXES:
            raise TEError(
                f"topology file '{path}': the extension must be one of {', '.join(SCENARIO_SUFFIXES + GRAPH_SUFFIXES)}"
            )
        data = read_mapping(path)
        if not isinstance(data, Mapping) or "topology" not in data:
            raise TEError(f"{path}: topology: missing (a scenario file with a 'topology' section is expected)")
        try:
            spec = TopologySpec.model_validate(data["topology"])
        except ValidationError as err:
            raise TEError(format_validation_error(err, f"{path}: topology.")) from err
        links = build_links(spec, path.parent)
    except ScenarioError as err:
        raise _in_file(path, err) from err
    caps = one_capacity(capacity, len(links.link_src)) if capacity is not None else links.capacity
    name = str(data.get("name") or path.stem)
    ends = np.column_stack([links.link_src, links.link_dst])
    physical = paired_physical(name, links.nodes, links.link_src, links.link_dst)
    return TEGraph.from_arrays(name, links.nodes, ends, caps, links.delay, physical)


def read_network(path: str | Path) -> Network:
    """The :class:`~nettwin.scenario.network.Network` of a scenario file: its topology, flows, routing and
    simulation settings, read exactly as a simulation reads them.

    Raises
    ------
    TEError
        One line per problem, naming the file and the field.
    """
    from nettwin.scenario.io import load_scenario
    from nettwin.scenario.network import build_network

    path = Path(path)
    if path.suffix.lower() not in SCENARIO_SUFFIXES:
        raise TEError(f"scenario file '{path}': the extension must be one of {', '.join(SCENARIO_SUFFIXES)}")
    try:
        return build_network(load_scenario(path), base_dir=path.parent)
    except ScenarioError as err:
        raise _in_file(path, err) from err


def _in_file(path: Path, err: ScenarioError) -> TEError:
    """A scenario-layer error as a TE error naming ``path``: the scenario layer names the field (a link the
    capacity scale takes to 0 among them), not always the file."""
    return TEError(str(err) if str(path) in str(err) else f"{path}: {err}")


# ---------------------------------------------------------------------------------------- demands


def _unit_scale(unit: str) -> float:
    try:
        return parse_rate(f"1{unit}") if unit not in ("", "bit/s", "bps") else 1.0
    except UnitError as err:
        raise TEError(f"demand unit: {err}") from err


def _value(cell: str, scale: float, where: str) -> float:
    text = cell.strip()
    try:
        value = float(text) * scale
    except ValueError:
        try:
            value = parse_rate(text)
        except UnitError as err:
            raise TEError(f"{where}: {err}") from err
    if not math.isfinite(value) or value < 0:
        raise TEError(f"{where}: a demand must be a finite rate ≥ 0, got {cell.strip()!r}")
    return value


def _node(name: str, index: Mapping[str, int], where: str) -> int:
    try:
        return index[name.strip()]
    except KeyError:
        known = ", ".join(list(index)[:8]) + (" ..." if len(index) > 8 else "")
        raise TEError(f"{where}: unknown node {name.strip()!r} (the topology has {known})") from None


def _put(out: np.ndarray, t: int, s: int, d: int, value: float, seen: set, where: str) -> None:
    if s == d:
        if value:
            raise TEError(f"{where}: a node cannot send traffic to itself")
        return
    if (t, s, d) in seen:
        raise TEError(f"{where}: a second demand for the same pair")
    seen.add((t, s, d))
    out[t, s, d] = value


def _read_csv(path: Path, graph: TEGraph, scale: float) -> np.ndarray:
    index = {n: i for i, n in enumerate(graph.nodes)}
    n = graph.n_nodes
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise TEError(f"demand file '{path}': cannot read it: {err}") from err
    rows = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not rows:
        raise TEError(f"demand file '{path}': is empty")
    header = [c.strip().lower() for c in rows[0][1]]
    seen: set = set()
    if header in (["src", "dst", "demand"], ["step", "src", "dst", "demand"]):
        stepped = len(header) == 4
        entries = []
        for line, r in rows[1:]:
            where = f"demand file '{path}', line {line}"
            if len(r) != len(header):
                raise TEError(f"{where}: {len(r)} fields, expected {len(header)} ({','.join(header)})")
            step = 0
            if stepped:
                if not r[0].strip().isdigit():
                    raise TEError(f"{where}: step must be a whole number ≥ 0, got {r[0].strip()!r}")
                step = int(r[0])
            s, d, v = r[-3:]
            entries.append((step, _node(s, index, where), _node(d, index, where), _value(v, scale, where), where))
        steps = max((e[0] for e in entries), default=0) + 1
        given = {e[0] for e in entries}
        missing = next((t for t in range(steps) if t not in given), None)
        if stepped and missing is not None:
            raise TEError(
                f"demand file '{path}': no line for step {missing} (steps run 0, 1, 2, … without a gap; give a "
                "step without traffic a line with demand 0)"
            )
        out = np.zeros((steps, n, n))
        for t, s, d, v, where in entries:
            _put(out, t, s, d, v, seen, where)
        return out
    where = f"demand file '{path}', line {rows[0][0]}"
    columns = [_node(c, index, where) for c in rows[0][1][1:]]
    if len(set(columns)) != len(columns):
        raise TEError(f"{where}: a destination node appears twice in the header")
    out = np.zeros((1, n, n))
    for line, r in rows[1:]:
        where = f"demand file '{path}', line {line}"
        if len(r) != len(columns) + 1:
            raise TEError(
                f"{where}: {len(r)} fields, expected {len(columns) + 1} (a source name, then one per header node)"
            )
        s = _node(r[0], index, where)
        for d, cell in zip(columns, r[1:], strict=True):
            _put(out, 0, s, d, _value(cell, scale, f"{where}, column {graph.nodes[d]!r}"), seen, where)
    return out


def _read_npy(path: Path, graph: TEGraph, scale: float) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise TEError(f"demand file '{path}': cannot read it as NumPy .npy: {err}") from err
    n = graph.n_nodes
    if (
        not isinstance(arr, np.ndarray)
        or arr.dtype.kind not in "iuf"
        or arr.shape[-2:] != (n, n)
        or arr.ndim not in (2, 3)
    ):
        shape = getattr(arr, "shape", None)
        raise TEError(
            f"demand file '{path}': expected numbers of shape ({n}, {n}) or (T, {n}, {n}) for the {n} nodes of "
            f"'{graph.name}', got shape {shape} of {getattr(arr, 'dtype', '?')}"
        )
    arr = arr.reshape(-1, n, n).astype(np.float64) * scale
    bad = np.argwhere(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        t, s, d = bad[0]
        raise TEError(f"demand file '{path}': entry [{t}, {s}, {d}] must be a finite rate ≥ 0, got {arr[t, s, d]!r}")
    diag = np.argwhere(arr[:, np.arange(n), np.arange(n)] != 0)
    if diag.size:
        t, s = diag[0]
        raise TEError(f"demand file '{path}': entry [{t}, {s}, {s}]: a node cannot send traffic to itself")
    return arr


_SNDLIB_DEMAND = re.compile(r"(\S+)\s+\(\s*(\S+)\s+(\S+)\s*\)\s+(\S+)\s+(\S+)\s+(\S+)")
_SNDLIB_SECTION = re.compile(r"([A-Z_]+)\s*\(")


def _read_sndlib(path: Path, graph: TEGraph, scale: float) -> np.ndarray:
    index = {n: i for i, n in enumerate(graph.nodes)}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise TEError(f"demand file '{path}': cannot read it: {err}") from err
    out = np.zeros((1, graph.n_nodes, graph.n_nodes))
    seen: set = set()
    section, found = None, False
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        where = f"demand file '{path}', line {number}"
        if not line or line.startswith("?"):
            continue
        if section is None:
            m = _SNDLIB_SECTION.fullmatch(line)
            if m is None:
                raise TEError(f"{where}: expected a section header such as 'DEMANDS (', got {line!r}")
            section = m.group(1)
            found |= section == "DEMANDS"
            continue
        if line == ")":
            section = None
            continue
        if section != "DEMANDS":
            continue
        m = _SNDLIB_DEMAND.fullmatch(line)
        if m is None:
            raise TEError(f"{where}: expected 'id ( source target ) routing_unit value max_path_length', got {line!r}")
        s, d = _node(m.group(2), index, where), _node(m.group(3), index, where)
        _put(out, 0, s, d, _value(m.group(5), scale, where), seen, where)
    if section is not None:
        raise TEError(f"demand file '{path}': section {section} is not closed with ')'")
    if not found:
        raise TEError(f"demand file '{path}': no DEMANDS section (SNDlib native format expected for this extension)")
    return out


def read_demands(path: str | Path, graph: TEGraph, unit: str = "bit/s") -> np.ndarray:
    """The ``(T, N, N)`` demand matrices (bit/s) of a CSV, ``.npy`` or SNDlib native file, in ``graph``'s node order.

    ``unit`` is the rate unit of plain numbers (``"bit/s"``, ``"kbps"``, ``"Mbps"``, ``"Gbps"``).

    Raises
    ------
    TEError
        One line naming the file, the line (or entry) and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise TEError(f"demand file '{path}' does not exist")
    scale = _unit_scale(unit)
    suffix = path.suffix.lower()
    reader = _read_csv if suffix == ".csv" else _read_npy if suffix == ".npy" else _read_sndlib
    return reader(path, graph, scale)


def file_instances(
    graph: TEGraph,
    demands: np.ndarray | Sequence[np.ndarray],
    k: int = 4,
    method: str = "yen",
    progress: Callable[[int, int], None] | None = None,
) -> list[TEInstance]:
    """One instance per demand matrix, all sharing the candidate paths of every pair that has demand in any matrix.

    Parameters
    ----------
    graph : the network.
    demands : ``(T, N, N)`` matrices in bit/s (or a sequence of ``(N, N)`` ones), node order of ``graph``.
    k, method : candidate paths (see :func:`~nettwin.te.paths.compute_paths`).
    progress : called with ``(pairs done, pairs)`` while paths are found.

    Raises
    ------
    TEError
        If the matrices do not fit the graph, or a pair with demand has no working path.
    """
    seq = np.asarray(demands, dtype=np.float64)
    seq = seq.reshape(-1, *seq.shape[-2:]) if seq.ndim >= 2 else seq
    n = graph.n_nodes
    if seq.ndim != 3 or seq.shape[1:] != (n, n) or len(seq) == 0:
        raise TEError(f"demand matrices must have shape (T, {n}, {n}) for '{graph.name}', got {np.shape(demands)}")
    s, t = np.nonzero((seq > 0).any(axis=0))
    pairs = np.column_stack([s, t]).astype(np.int64)
    if not len(pairs):
        raise TEError(f"the demand matrices of '{graph.name}' are all zero: there is nothing to route")
    paths = compute_paths(graph, pairs, k=k, method=method, progress=progress)
    return [TEInstance(graph, paths, seq[i][s, t], f"{graph.name}/t={i:04d}", {"step": i}) for i in range(len(seq))]
