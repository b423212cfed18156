"""Topology sources: every way a scenario can name a topology, read into one plain :class:`TopologyData`.

Sources are the built-in reference networks (:func:`builtin_topology`), regular and perturbed grids
(:func:`grid_topology`), random graphs (:func:`random_topology`), the topohub repository of real and synthetic
networks (:func:`topohub_topology`) and GML/GraphML files (:func:`file_topology`). Each returns nodes, edges,
optional positions in metres and the link attributes the source itself provides, in SI units; scenario defaults
fill in the rest later (:func:`nettwin.scenario.build_network`).

Geographic coordinates become planar positions by an equirectangular projection around the topology's mean
latitude and longitude. Planar distances then stay within a few per cent of great-circle ones for a national
network and within about 15 % for a continental one (GEANT), which is enough for drawing and for placing
nodes; delays derived from geography always use the great-circle (haversine) distance, never the projected
positions.
"""

from __future__ import annotations

import difflib
import importlib.resources
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from nettwin.errors import ScenarioError
from nettwin.scenario.units import UnitError, parse_count, parse_rate, parse_time

__all__ = [
    "TopologyData",
    "BUILTIN_TOPOLOGIES",
    "EDGE_ATTRIBUTES",
    "PROPAGATION_SPEED",
    "builtin_topology",
    "grid_topology",
    "RANDOM_MODELS",
    "random_topology",
    "topohub_topology",
    "topohub_keys",
    "file_topology",
    "parse_gml",
    "topology_to_networkx",
]

BUILTIN_TOPOLOGIES = ("nsfnet", "geant2", "gbn")
"""Names accepted by :func:`builtin_topology`."""

EDGE_ATTRIBUTES = ("capacity", "delay", "buffer", "weight")
"""Link attributes a source may provide: capacity (bit/s), delay (s), buffer (packets), weight (routing)."""

PROPAGATION_SPEED = 2e8
"""Signal speed in m/s that turns a link's length into its propagation delay (light in fibre, ~2/3 c)."""

EARTH_RADIUS = 6_371_008.8
"""Mean Earth radius in metres, used by the projection and the great-circle distance."""

_TOPOHUB_PLANAR_GROUPS = frozenset({"gabriel"})
"""topohub groups whose ``pos`` are planar coordinates in kilometres rather than (longitude, latitude)."""


@dataclass(frozen=True, eq=False)
class TopologyData:
    """A topology as read from its source, before scenario defaults are applied.

    Parameters
    ----------
    name : the topology's name.
    nodes : node names, unique; a node's id is its index in this tuple.
    edges : ``(u, v)`` node-id pairs without duplicates or self loops. Undirected topologies list each
        bidirectional link once with ``u < v``; directed ones list each direction that exists.
    directed : whether ``edges`` are one-way links.
    positions : ``(N, 2)`` float64 array of planar positions in metres, or None when the source has none.
    edge_attrs : per edge, the SI attributes the source provides, any of ``capacity`` (bit/s, > 0), ``delay``
        (s, ≥ 0), ``buffer`` (packets, a whole number ≥ 0) and ``weight`` (> 0). Defaults to one empty dict
        per edge.

    Raises
    ------
    ScenarioError
        If any field is malformed; the message names the field and quotes the bad value.

    Examples
    --------
    >>> t = TopologyData("line", ("a", "b", "c"), ((0, 1), (1, 2)), edge_attrs=({"delay": 0.002}, {}))
    >>> t
    TopologyData(name='line', nodes=3, edges=2, directed=False, positions=None)
    >>> t.edge_attrs[1]
    {}
    """

    name: str
    nodes: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    directed: bool = False
    positions: np.ndarray | None = None
    edge_attrs: tuple[dict[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ScenarioError(f"topology name must be a string, got {self.name!r}")
        where = f"topology '{self.name}'"
        nodes = _check_nodes(self.nodes, where)
        if not isinstance(self.directed, bool):
            raise ScenarioError(f"{where}: directed must be true or false, got {self.directed!r}")
        edges = _check_edges(self.edges, nodes, self.directed, where)
        positions = _check_positions(self.positions, len(nodes), where)
        attrs = tuple({} for _ in edges) if len(self.edge_attrs) == 0 else self.edge_attrs
        if len(attrs) != len(edges):
            raise ScenarioError(f"{where}: {len(attrs)} edge attribute entries for {len(edges)} edges")
        attrs = tuple(
            _check_attrs(a, f"{where}: edge {i} ({nodes[u]}–{nodes[v]})")
            for i, (a, (u, v)) in enumerate(zip(attrs, edges, strict=True))
        )
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "edge_attrs", attrs)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        """Number of edges (bidirectional links count once unless :attr:`directed`)."""
        return len(self.edges)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TopologyData):
            return NotImplemented
        same_positions = (self.positions is None and other.positions is None) or (
            self.positions is not None
            and other.positions is not None
            and np.array_equal(self.positions, other.positions)
        )
        return (self.name, self.nodes, self.edges, self.directed, self.edge_attrs) == (
            other.name,
            other.nodes,
            other.edges,
            other.directed,
            other.edge_attrs,
        ) and same_positions

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        pos = "None" if self.positions is None else "(N, 2)"
        return (
            f"TopologyData(name={self.name!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
            f"directed={self.directed}, positions={pos})"
        )


# ---------------------------------------------------------------------------------------- validation


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_nodes(nodes: object, where: str) -> tuple[str, ...]:
    if isinstance(nodes, str) or not isinstance(nodes, Iterable):
        raise ScenarioError(f"{where}: nodes must be a sequence of names, got {nodes!r}")
    names = tuple(nodes)
    if not names:
        raise ScenarioError(f"{where}: a topology needs at least one node")
    seen: set[str] = set()
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n:
            raise ScenarioError(f"{where}: node {i} must have a non-empty string name, got {n!r}")
        if n in seen:
            raise ScenarioError(f"{where}: node name '{n}' appears more than once")
        seen.add(n)
    return names


def _check_edges(edges: object, nodes: tuple[str, ...], directed: bool, where: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(edges, Iterable):
        raise ScenarioError(f"{where}: edges must be a sequence of (u, v) pairs, got {edges!r}")
    out: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    n = len(nodes)
    for i, e in enumerate(edges):
        if not isinstance(e, Sequence) or len(e) != 2 or not all(_is_int(x) for x in e):
            raise ScenarioError(f"{where}: edge {i} must be a pair of node ids, got {e!r}")
        u, v = int(e[0]), int(e[1])
        if not (0 <= u < n and 0 <= v < n):
            raise ScenarioError(f"{where}: edge {i} {e!r} names a node outside 0..{n - 1}")
        if u == v:
            raise ScenarioError(f"{where}: edge {i} is a self loop on node '{nodes[u]}'")
        if not directed and u > v:
            raise ScenarioError(f"{where}: edge {i} ({u}, {v}) of an undirected topology must have u < v")
        if (u, v) in seen:
            raise ScenarioError(f"{where}: edge {i} {nodes[u]}–{nodes[v]} appears more than once")
        seen.add((u, v))
        out.append((u, v))
    return tuple(out)


def _check_positions(positions: object, n: int, where: str) -> np.ndarray | None:
    if positions is None:
        return None
    try:
        pos = np.array(positions, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ScenarioError(f"{where}: positions must be numbers, got {positions!r}") from err
    if pos.shape != (n, 2):
        raise ScenarioError(f"{where}: positions must have shape ({n}, 2), got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        bad = int(np.nonzero(~np.isfinite(pos).all(axis=1))[0][0])
        raise ScenarioError(f"{where}: node {bad} has a non-finite position {pos[bad].tolist()}")
    pos.setflags(write=False)
    return pos


_ATTR_RULES = {
    "capacity": (lambda x: x > 0, "must be > 0 bit/s"),
    "delay": (lambda x: x >= 0, "must be ≥ 0 s"),
    "buffer": (lambda x: x >= 0 and x == int(x), "must be a whole number of packets ≥ 0"),
    "weight": (lambda x: x > 0, "must be > 0"),
}


def _check_attrs(attrs: object, where: str) -> dict[str, float]:
    if not isinstance(attrs, Mapping):
        raise ScenarioError(f"{where}: attributes must be a mapping, got {attrs!r}")
    out: dict[str, float] = {}
    for key, value in attrs.items():
        if key not in _ATTR_RULES:
            raise ScenarioError(f"{where}: unknown attribute {key!r}; expected one of {', '.join(EDGE_ATTRIBUTES)}")
        ok, rule = _ATTR_RULES[key]
        if not _is_real(value) or not math.isfinite(value) or not ok(value):
            raise ScenarioError(f"{where}: {key} {rule}, got {value!r}")
        out[key] = float(value)
    return out


# ---------------------------------------------------------------------------------------- geography


def _project(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Equirectangular projection to metres around the points' mean latitude and (circular) mean longitude."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    lon0 = math.atan2(np.sin(lon_r).mean(), np.cos(lon_r).mean())
    lat0 = float(lat_r.mean())
    dlon = (lon_r - lon0 + math.pi) % (2 * math.pi) - math.pi
    return np.column_stack([EARTH_RADIUS * dlon * math.cos(lat0), EARTH_RADIUS * (lat_r - lat0)])


def _haversine(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres between (lon1, lat1) and (lon2, lat2), in degrees; numpy-vectorised."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _unique_names(raw: Sequence[str]) -> tuple[str, ...]:
    """Keep names as given, suffixing repeats ``-2``, ``-3``, ... so that every node has its own name."""
    taken = set(raw)
    seen: set[str] = set()
    out = []
    for name in raw:
        if name in seen:
            k = 2
            while f"{name}-{k}" in taken:
                k += 1
            name = f"{name}-{k}"
            taken.add(name)
        seen.add(name)
        out.append(name)
    return tuple(out)


def _simple_edges(
    pairs: Iterable[tuple[int, int, dict[str, float]]],
    directed: bool,
) -> tuple[tuple[tuple[int, int], ...], tuple[dict[str, float], ...]]:
    """Drop self loops and repeated edges (the first one wins); orient undirected edges u < v."""
    edges: list[tuple[int, int]] = []
    attrs: list[dict[str, float]] = []
    seen: set[tuple[int, int]] = set()
    for u, v, a in pairs:
        if u == v:
            continue
        key = (u, v) if directed else (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        edges.append(key)
        attrs.append(a)
    return tuple(edges), tuple(attrs)


# ---------------------------------------------------------------------------------------- built-ins


def builtin_topology(name: str) -> TopologyData:
    """One of the reference topologies of the RouteNet/KDN datasets, numbered as in those datasets.

    =========  =====  =====  ==============================================================
    name       nodes  links  notes
    =========  =====  =====  ==============================================================
    nsfnet     14     21     NSFNET T1 backbone; nodes named by city, approximate positions
    geant2     24     37     GEANT2; nodes named ``"0"`` .. ``"23"``, no positions
    gbn        17     26     German Backbone Network; nodes named by city, approximate positions
    =========  =====  =====  ==============================================================

    Links are bidirectional and carry no attributes (the datasets vary capacities per sample), so the
    scenario's link defaults apply. Positions are projected from approximate city coordinates; they are meant
    for drawing and do not set delays.

    Parameters
    ----------
    name : one of :data:`BUILTIN_TOPOLOGIES` (case-insensitive).

    Returns
    -------
    TopologyData

    Raises
    ------
    ScenarioError
        If ``name`` is not a built-in topology.

    Examples
    --------
    >>> t = builtin_topology("nsfnet")
    >>> t.n_nodes, t.n_edges, t.nodes[0]
    (14, 21, 'Palo Alto')
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in BUILTIN_TOPOLOGIES:
        raise ScenarioError(f"unknown built-in topology {name!r}; choose one of {', '.join(BUILTIN_TOPOLOGIES)}")
    resource = importlib.resources.files("nettwin.scenario").joinpath("builtin", f"{key}.json")
    doc = json.loads(resource.read_text(encoding="utf-8"))
    nodes = doc["nodes"]
    positions = None
    if all("lon" in n and "lat" in n for n in nodes):
        positions = _project(np.array([n["lon"] for n in nodes]), np.array([n["lat"] for n in nodes]))
    return TopologyData(
        name=doc["name"],
        nodes=tuple(n["name"] for n in nodes),
        edges=tuple((int(u), int(v)) for u, v in doc["edges"]),
        positions=positions,
    )


# ---------------------------------------------------------------------------------------- grids


def grid_topology(rows: int, cols: int, spacing: float, perturb: float = 0.0, seed: int | None = None) -> TopologyData:
    """Nodes on a ``rows × cols`` lattice ``spacing`` metres apart, optionally perturbed.

    These are GLANCE's RegGrid and PertGrid. Node ``r * cols + c`` is named ``r{r}c{c}`` and sits at
    ``(c * spacing, r * spacing)``. With ``perturb > 0`` every node then moves by an offset drawn uniformly
    inside a disc of radius ``perturb`` metres, from ``numpy.random.default_rng(seed)``: the same seed gives
    the same positions. Edges join lattice neighbours (4-neighbourhood) whether or not nodes were moved; a
    wireless medium replaces them by radio neighbours.

    Parameters
    ----------
    rows, cols : lattice size, each ≥ 1, with at least two nodes in all.
    spacing : distance between lattice neighbours in metres, > 0.
    perturb : radius of the random displacement in metres, ≥ 0 (0 means a regular grid).
    seed : seed of the displacement; None draws fresh randomness.

    Returns
    -------
    TopologyData
        ``rows * cols`` nodes and ``rows * (cols - 1) + cols * (rows - 1)`` undirected edges, with positions.

    Raises
    ------
    ScenarioError
        If a parameter is out of range.

    Examples
    --------
    >>> t = grid_topology(2, 3, spacing=100.0)
    >>> t.n_nodes, t.n_edges, t.positions[4].tolist()
    (6, 7, [100.0, 100.0])
    """
    for label, value in (("rows", rows), ("cols", cols)):
        if not _is_int(value) or value < 1:
            raise ScenarioError(f"grid {label} must be a whole number ≥ 1, got {value!r}")
    if rows * cols < 2:
        raise ScenarioError(f"a grid needs at least 2 nodes, got {rows}×{cols}")
    if not _is_real(spacing) or not math.isfinite(spacing) or spacing <= 0:
        raise ScenarioError(f"grid spacing must be a finite number of metres > 0, got {spacing!r}")
    if not _is_real(perturb) or not math.isfinite(perturb) or perturb < 0:
        raise ScenarioError(f"grid perturb must be a finite number of metres ≥ 0, got {perturb!r}")
    rows, cols = int(rows), int(cols)
    r, c = np.divmod(np.arange(rows * cols), cols)
    positions = np.column_stack([c * float(spacing), r * float(spacing)])
    if perturb > 0:
        rng = np.random.default_rng(seed)
        u = rng.random((rows * cols, 2))
        radius = float(perturb) * np.sqrt(u[:, 0])
        angle = 2 * np.pi * u[:, 1]
        positions += np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    edges = []
    for i in range(rows * cols):
        if (i + 1) % cols:
            edges.append((i, i + 1))
        if i + cols < rows * cols:
            edges.append((i, i + cols))
    kind = "pertgrid" if perturb > 0 else "grid"
    return TopologyData(
        name=f"{kind}-{rows}x{cols}",
        nodes=tuple(f"r{i // cols}c{i % cols}" for i in range(rows * cols)),
        edges=tuple(edges),
        positions=positions,
    )


# ---------------------------------------------------------------------------------------- random graphs

RANDOM_MODELS = ("waxman", "barabasi_albert", "erdos_renyi", "geometric")
"""Random graph models of :func:`random_topology`."""

_POSITIONED_MODELS = frozenset({"waxman", "geometric"})
"""Models that place their nodes in the plane (the others have no positions)."""


def random_topology(
    model: str,
    nodes: int,
    seed: int = 0,
    *,
    alpha: float | None = None,
    beta: float | None = None,
    m: int | None = None,
    p: float | None = None,
    radius: float | None = None,
    side: float = 1e6,
) -> TopologyData:
    """A connected random graph of ``nodes`` nodes, drawn by a networkx generator from ``seed``.

    ===============  ============================================================  ===========================
    model            links                                                         parameters (default)
    ===============  ============================================================  ===========================
    waxman           nodes uniform in the unit square; u–v with probability        ``beta`` (0.4),
                     β·exp(−d/(α·L)), L the largest distance                       ``alpha`` (0.1)
    barabasi_albert  preferential attachment: each new node links to ``m`` others  ``m`` (2, or 1 for 2 nodes)
    erdos_renyi      every pair with probability ``p``                             ``p`` (2·ln n / n, ≤ 1)
    geometric        nodes uniform in the unit square; u–v when d ≤ ``radius``     ``radius`` (√(2·ln n/(π·n)))
    ===============  ============================================================  ===========================

    The graph is always connected: while it has several components, each component other than the largest (larger
    first, then by lowest node) gets one link to the nodes already joined, between the closest pair of nodes for
    models with positions and between a pair drawn from ``seed`` for the others. So every graph has exactly
    ``nodes`` nodes and the same arguments give the same graph. Nodes are named ``"0"`` .. ``"n-1"``; waxman and
    geometric graphs have positions, the unit square scaled to ``side`` metres. Links carry no attributes (the
    scenario's link defaults apply).

    Raises
    ------
    ScenarioError
        If the model is unknown or a parameter is out of range or does not apply to the model.

    Examples
    --------
    >>> t = random_topology("barabasi_albert", 30, seed=3, m=2)
    >>> t.n_nodes, t.n_edges, t.name
    (30, 56, 'barabasi_albert-30-s3')
    """
    if model not in RANDOM_MODELS:
        raise ScenarioError(f"unknown random topology model {model!r}; choose one of {', '.join(RANDOM_MODELS)}")
    if not _is_int(nodes) or nodes < 2:
        raise ScenarioError(f"a random topology needs a whole number of nodes ≥ 2, got {nodes!r}")
    if not _is_int(seed) or seed < 0:
        raise ScenarioError(f"random topology seed must be a whole number ≥ 0, got {seed!r}")
    n = int(nodes)
    given = {"alpha": alpha, "beta": beta, "m": m, "p": p, "radius": radius}
    takes = {"waxman": ("alpha", "beta"), "barabasi_albert": ("m",), "erdos_renyi": ("p",), "geometric": ("radius",)}
    for key, value in given.items():
        if value is not None and key not in takes[model]:
            raise ScenarioError(f"random topology parameter {key} does not apply to {model} graphs")
    if model == "waxman":
        graph = nx.waxman_graph(n, beta=0.4 if beta is None else beta, alpha=0.1 if alpha is None else alpha, seed=seed)
    elif model == "barabasi_albert":
        links = min(2, n - 1) if m is None else m
        if not 1 <= links < n:
            raise ScenarioError(f"barabasi_albert m must be between 1 and nodes − 1 ({n - 1}), got {links}")
        graph = nx.barabasi_albert_graph(n, links, seed=seed)
    elif model == "erdos_renyi":
        graph = nx.fast_gnp_random_graph(n, min(1.0, 2.0 * math.log(n) / n) if p is None else p, seed=seed)
    else:
        reach = math.sqrt(2.0 * math.log(n) / (math.pi * n)) if radius is None else radius
        graph = nx.random_geometric_graph(n, reach, seed=seed)
    positions = None
    if model in _POSITIONED_MODELS:
        positions = np.array([graph.nodes[i]["pos"] for i in range(n)], dtype=np.float64) * float(side)
    _connect(graph, positions, np.random.default_rng([seed, 1]))
    return TopologyData(
        name=f"{model}-{n}-s{seed}",
        nodes=tuple(str(i) for i in range(n)),
        edges=tuple(sorted((min(u, v), max(u, v)) for u, v in graph.edges)),
        positions=positions,
    )


def _connect(graph: nx.Graph, positions: np.ndarray | None, rng: np.random.Generator) -> None:
    """Join every component to the largest by one link each (see :func:`random_topology`), in place."""
    parts = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    joined = list(parts[0])
    for part in parts[1:]:
        if positions is None:
            u, v = part[int(rng.integers(len(part)))], joined[int(rng.integers(len(joined)))]
        else:
            d = np.linalg.norm(positions[part][:, None, :] - positions[joined][None, :, :], axis=2)
            a, b = np.unravel_index(int(np.argmin(d)), d.shape)
            u, v = part[a], joined[b]
        graph.add_edge(u, v)
        joined.extend(part)


# ---------------------------------------------------------------------------------------- topohub

_TOPOHUB_KEY = re.compile(r"[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*")


def topohub_keys() -> list[str]:
    """All keys :func:`topohub_topology` accepts, sorted (read from the data shipped inside topohub).

    Examples
    --------
    >>> keys = topohub_keys()
    >>> "sndlib/geant" in keys and "topozoo/Abilene" in keys
    True
    """
    import topohub

    root = importlib.resources.files(topohub).joinpath("data")
    keys: list[str] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                stack.append((entry, f"{prefix}{entry.name}/"))
            elif entry.name.endswith(".json"):
                keys.append(prefix + entry.name[: -len(".json")])
    return sorted(keys)


def _topohub_unknown(key: str) -> ScenarioError:
    keys = topohub_keys()
    by_lower = {k.lower(): k for k in keys}
    if key.lower() in by_lower:
        close = [by_lower[key.lower()]]
    else:
        close = [by_lower[k] for k in difflib.get_close_matches(key.lower(), list(by_lower), n=3, cutoff=0.6)]
    hint = f"; did you mean {' or '.join(repr(k) for k in close)}?" if close else "."
    return ScenarioError(
        f"unknown topohub topology {key!r}{hint} Keys look like 'sndlib/geant', 'topozoo/Abilene', "
        f"'caida/2024-08/1853' or 'gabriel/25/0'; list them all with nettwin.scenario.sources.topohub_keys()"
    )


def topohub_topology(key: str) -> TopologyData:
    """A topology from the topohub repository (shipped inside the ``topohub`` package, read offline).

    Keys are ``group/name``: ``sndlib/<name>`` (e.g. ``sndlib/geant``, ``sndlib/abilene``),
    ``topozoo/<Name>`` (Topology Zoo, e.g. ``topozoo/Abilene``), ``caida/<snapshot>/<asn>`` (e.g.
    ``caida/2024-08/1853``), ``backbone/<region>`` (e.g. ``backbone/europe``) and ``gabriel/<nodes>/<seed>``
    (synthetic Gabriel graphs, e.g. ``gabriel/25/0``); :func:`topohub_keys` lists them all.

    What is kept and how:

    * node names are topohub's ``name`` (the node id where there is none); repeats get ``-2``, ``-3``, ...;
    * positions: topohub's (longitude, latitude) projected to metres; for the planar ``gabriel`` group the
      coordinates are taken as kilometres, the unit topohub uses for its link lengths;
    * **delay rule**: ``delay = length / 2e8 m/s`` (:data:`PROPAGATION_SPEED`), where ``length`` is topohub's
      link length ``dist`` (km, along the cable where topohub knows it) or, without one, the great-circle
      distance between the ends' coordinates. Links of zero length (ends placed at the same coordinates) get
      no delay, so the scenario default applies;
    * capacities: topohub 1.5 carries none, so the scenario's default capacity applies;
    * self loops and repeated links are dropped (the first one wins). Disconnected topologies keep all their
      nodes; routing reports pairs that cannot reach each other.

    Parameters
    ----------
    key : a topohub key, such as ``"sndlib/geant"``.

    Returns
    -------
    TopologyData

    Raises
    ------
    ScenarioError
        If the key is unknown (with close matches and how to list keys) or its data cannot be read.

    Examples
    --------
    >>> t = topohub_topology("sndlib/abilene")
    >>> t.n_nodes, t.n_edges, t.positions is not None, "delay" in t.edge_attrs[0]
    (12, 15, True, True)
    """
    import topohub

    if not isinstance(key, str) or not _TOPOHUB_KEY.fullmatch(key.strip()) or ".." in key:
        raise ScenarioError(f"a topohub key looks like 'sndlib/geant', got {key!r}")
    key = key.strip().removesuffix(".json")
    try:
        doc = topohub.get(key)
    except KeyError as err:
        raise _topohub_unknown(key) from err
    except (OSError, ValueError) as err:
        raise ScenarioError(f"cannot read topohub topology {key!r}: {err}") from err

    nodes = doc.get("nodes", [])
    index = {n["id"]: i for i, n in enumerate(nodes)}
    names = _unique_names([str(n.get("name") or n["id"]) for n in nodes])
    planar = key.split("/", 1)[0] in _TOPOHUB_PLANAR_GROUPS
    coords = None
    positions = None
    if nodes and all(isinstance(n.get("pos"), Sequence) and len(n["pos"]) == 2 for n in nodes):
        coords = np.array([n["pos"] for n in nodes], dtype=np.float64)
        positions = coords * 1000.0 if planar else _project(coords[:, 0], coords[:, 1])

    def attrs(e: Mapping[str, Any]) -> dict[str, float]:
        u, v = index[e["source"]], index[e["target"]]
        dist = e.get("dist")
        if _is_real(dist) and math.isfinite(dist) and dist >= 0:
            length = float(dist) * 1000.0
        elif coords is not None and planar:
            length = float(np.hypot(*(coords[u] - coords[v]))) * 1000.0
        elif coords is not None:
            length = float(_haversine(coords[u, 0], coords[u, 1], coords[v, 0], coords[v, 1]))
        else:
            return {}
        return {"delay": length / PROPAGATION_SPEED} if length > 0 else {}

    directed = bool(doc.get("directed", False))
    edges, edge_attrs = _simple_edges(
        ((index[e["source"]], index[e["target"]], attrs(e)) for e in doc.get("edges", [])), directed
    )
    graph = doc.get("graph") or {}
    return TopologyData(
        name=str(graph.get("name") or key),
        nodes=names,
        edges=edges,
        directed=directed,
        positions=positions,
        edge_attrs=edge_attrs,
    )


# ---------------------------------------------------------------------------------------- files

_FILE_READERS = {".gml": "GML", ".graphml": "GraphML"}


_GML_STRING = re.compile(r'("[^"]*")')
_GML_EXPONENT = re.compile(r"(?<![\w.+-])([+-]?[0-9]+)([eE][+-]?[0-9]+)(?![\w.])")


def parse_gml(text: str, label: str | None = "label") -> nx.Graph:
    """A GML document as a networkx graph, reading numbers with an exponent and no decimal point (``1e9``) as
    numbers, as GML writers print them (networkx's reader takes only ``1.0e9``).

    Raises
    ------
    networkx.NetworkXError
        If the text is not GML.
    """
    parts = _GML_STRING.split(text)
    parts[::2] = [_GML_EXPONENT.sub(r"\1.0\2", part) for part in parts[::2]]  # outside quoted strings only
    return nx.parse_gml("".join(parts), label=label)


def _read_graph(path: Path) -> nx.Graph:
    if path.suffix.lower() == ".gml":
        return parse_gml(path.read_text(errors="replace"), label=None)
    return nx.read_graphml(path)


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def _file_attrs(data: Mapping[str, Any], where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        if data.get("capacity") is not None:
            out["capacity"] = parse_rate(data["capacity"])
        elif _is_real(data.get("LinkSpeedRaw")) and data["LinkSpeedRaw"] > 0:
            out["capacity"] = float(data["LinkSpeedRaw"])
        if data.get("delay") is not None:
            out["delay"] = parse_time(data["delay"])
        if data.get("buffer") is not None:
            out["buffer"] = float(parse_count(data["buffer"]))
    except UnitError as err:
        raise ScenarioError(f"{where}: {err}") from err
    if data.get("weight") is not None:
        weight = data["weight"]
        try:
            value = float(weight) if isinstance(weight, str) else weight
        except ValueError:
            value = None
        if not _is_real(value) or not math.isfinite(value) or value <= 0:
            raise ScenarioError(f"{where}: weight must be a number > 0, got {weight!r}")
        out["weight"] = float(value)
    if out.get("capacity") == 0:
        raise ScenarioError(f"{where}: capacity must be > 0, got {data.get('capacity')!r}")
    return out


def _node_positions(attrs: list[Mapping[str, Any]]) -> np.ndarray | None:
    def column(*names: str) -> list[float] | None:
        values = []
        for a in attrs:
            v = next((a[n] for n in names if n in a), None)
            if not _is_real(v) or not math.isfinite(v):
                return None
            values.append(float(v))
        return values

    x, y = column("x"), column("y")
    if x is not None and y is not None:
        return np.column_stack([x, y])
    lon, lat = column("Longitude", "longitude", "lon"), column("Latitude", "latitude", "lat")
    if lon is not None and lat is not None:
        return _project(np.array(lon), np.array(lat))
    return None


def file_topology(path: str | Path) -> TopologyData:
    """A topology read from a GML (``.gml``) or GraphML (``.graphml``) file.

    * Node names: the node's ``label`` (or ``name``) attribute, else its id; repeats get ``-2``, ``-3``, ...
    * Positions: node attributes ``x``/``y`` in metres if every node has both; otherwise
      ``Longitude``/``Latitude`` (Topology Zoo style; ``lon``/``lat`` also work) projected to metres if every
      node has both; otherwise none.
    * Edge attributes ``capacity``, ``delay``, ``buffer`` and ``weight`` as plain SI numbers or human strings
      (``"10Mbps"``, ``"2ms"``, ``"32"``); Topology Zoo's ``LinkSpeedRaw`` (bit/s) counts as capacity when
      ``capacity`` is absent. Other attributes are ignored. No delay is derived from coordinates.
    * Directed files stay directed. Self loops and repeated (parallel) edges are dropped, the first one wins.
      Disconnected graphs keep all their nodes; routing reports pairs that cannot reach each other.

    Parameters
    ----------
    path : the file to read.

    Returns
    -------
    TopologyData

    Raises
    ------
    ScenarioError
        If the file is missing, has another extension, cannot be parsed, or has a bad attribute value; the
        message names the file.

    Examples
    --------
    >>> import tempfile, networkx as nx
    >>> g = nx.Graph()
    >>> g.add_edge("a", "b", capacity="10Mbps", delay="2ms")
    >>> f = Path(tempfile.mkdtemp()) / "ab.graphml"
    >>> nx.write_graphml(g, f)
    >>> file_topology(f).edge_attrs
    ({'capacity': 10000000.0, 'delay': 0.002},)
    """
    path = Path(path)
    if path.suffix.lower() not in _FILE_READERS:
        raise ScenarioError(f"cannot read topology file '{path}': the extension must be .gml or .graphml")
    if not path.is_file():
        raise ScenarioError(f"topology file '{path}' does not exist")
    try:
        graph = _read_graph(path)
    except (nx.NetworkXException, OSError, ValueError, SyntaxError, KeyError, TypeError, IndexError) as err:
        kind = _FILE_READERS[path.suffix.lower()]
        raise ScenarioError(f"cannot read topology file '{path}' as {kind}: {_first_line(err)}") from err

    keys = list(graph.nodes)
    if not keys:
        raise ScenarioError(f"topology file '{path}' has no nodes")
    node_data = [graph.nodes[k] for k in keys]
    raw = []
    for k, a in zip(keys, node_data, strict=True):
        label = a.get("label", a.get("name"))
        raw.append(str(label) if label not in (None, "") else str(k))
    index = {k: i for i, k in enumerate(keys)}
    names = _unique_names(raw)
    directed = graph.is_directed()
    edge_iter = graph.edges(data=True)

    def pairs() -> Iterable[tuple[int, int, dict[str, float]]]:
        for u, v, data in edge_iter:
            if u == v:
                continue
            where = f"topology file '{path}': edge {names[index[u]]}–{names[index[v]]}"
            yield index[u], index[v], _file_attrs(data, where)

    edges, attrs = _simple_edges(pairs(), directed)
    name = graph.graph.get("name") or graph.graph.get("label") or path.stem
    return TopologyData(
        name=str(name),
        nodes=names,
        edges=edges,
        directed=directed,
        positions=_node_positions(node_data),
        edge_attrs=attrs,
    )


# ---------------------------------------------------------------------------------------- networkx


def topology_to_networkx(t: TopologyData) -> nx.Graph | nx.DiGraph:
    """The topology as a networkx graph, with the same node ids and the source's SI edge attributes.

    Nodes are ``0..N-1`` with a ``name`` attribute, and ``pos`` (x, y) in metres when positions are known;
    ``graph.graph["name"]`` is the topology's name. Directed topologies give a ``DiGraph``.

    Examples
    --------
    >>> g = topology_to_networkx(grid_topology(2, 2, spacing=10.0))
    >>> sorted(g.edges()), g.nodes[3]["name"], g.nodes[3]["pos"]
    ([(0, 1), (0, 2), (1, 3), (2, 3)], 'r1c1', (10.0, 10.0))
    """
    graph: nx.Graph = nx.DiGraph() if t.directed else nx.Graph()
    graph.graph["name"] = t.name
    for i, name in enumerate(t.nodes):
        graph.add_node(i, name=name)
        if t.positions is not None:
            graph.nodes[i]["pos"] = (float(t.positions[i, 0]), float(t.positions[i, 1]))
    for (u, v), attrs in zip(t.edges, t.edge_attrs, strict=True):
        graph.add_edge(u, v, **attrs)
    return graph
