"""The directed, capacitated graph a traffic-engineering instance routes over: a view of a network's links.

A :class:`TEGraph` views the links of a :class:`~nettwin.scenario.network.Network` — directed links ``src→dst``
with a capacity in bit/s (0 marks a failed link) and a propagation delay — and adds their *physical link ids*:
the two directions of a bidirectional link share one, so that a failure takes both directions down together.

**Capacity rule.** topohub 1.5 carries no capacities. When the topology provides a capacity on every link, those
are used. Otherwise every physical link gets a tier from its hop-count edge betweenness ``b`` (the number of node
pairs whose shortest paths cross it, equal-cost paths sharing the count): the smallest of
:data:`CAPACITY_TIERS` (10, 25, 40, 100 Gbit/s) that is at least ``100 Gbit/s × b / max b``. Central links
get fat pipes, peripheral links thin ones, which is how backbones are provisioned and what makes the choice of
paths matter. Topologies with more than 1000 nodes estimate ``b`` from 256 sampled sources (seed 0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from nettwin._validation import finite
from nettwin.errors import ScenarioError, TEError
from nettwin.scenario.network import Network
from nettwin.scenario.sources import TopologyData, builtin_topology, topohub_topology
from nettwin.scenario.spec import LinkDefaults, SimulationSpec

__all__ = ["TEGraph", "CAPACITY_TIERS", "te_graph", "paired_physical", "betweenness_capacity", "one_capacity"]

CAPACITY_TIERS = (10e9, 25e9, 40e9, 100e9)
"""Capacities (bit/s) the betweenness rule assigns, smallest first."""


@dataclass(frozen=True, eq=False)
class TEGraph:
    """The links of a :class:`~nettwin.scenario.network.Network` as traffic engineering reads them: a thin view.

    Link ``i`` of the graph is link ``i`` of ``network`` (its ends, capacity in bit/s and delay in seconds); a
    capacity of 0 marks a failed link that no traffic may cross. The view adds only the physical link ids. A graph
    of a topology without flows (topohub, built-in, a TE file) views a network holding just its links
    (:meth:`from_arrays`).

    Parameters
    ----------
    network : the network whose links the graph views.
    physical : ``(L,)`` int64 physical link ids: the two directions of a bidirectional link share one.
        Defaults to one id per directed link.

    Attributes
    ----------
    name, nodes : the network's name and node names (node ``i`` is ``nodes[i]``).
    links : ``(L, 2)`` int64 array of directed links ``(src, dst)``, no duplicates or self loops.
    capacity, delay : ``(L,)`` float64, the network's (read-only views); delay NaN where unknown.

    Raises
    ------
    TEError
        If the network's links do not make a TE graph; the message quotes the bad value.

    Examples
    --------
    >>> g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", 5.0)])
    >>> g
    TEGraph(name='graph', nodes=3, links=4, failed=0)
    >>> g.links.tolist(), g.physical.tolist(), g.network.n_links
    ([[0, 1], [1, 0], [1, 2], [2, 1]], [0, 0, 1, 1], 4)
    """

    network: Network
    physical: np.ndarray | None = None
    links: np.ndarray = field(init=False, repr=False)
    capacity: np.ndarray = field(init=False, repr=False)
    delay: np.ndarray = field(init=False, repr=False)
    _index: dict[tuple[int, int], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        net, name = self.network, self.network.name
        nodes = tuple(net.nodes)
        if len(nodes) < 2 or len(set(nodes)) != len(nodes):
            raise TEError(f"graph '{name}': needs at least 2 nodes with unique names, got {len(nodes)}")
        links = np.column_stack([net.link_src, net.link_dst]).astype(np.int64).reshape(-1, 2)
        n = len(nodes)
        if links.size and (links.min() < 0 or links.max() >= n):
            raise TEError(f"graph '{name}': a link names a node outside 0..{n - 1}")
        if np.any(links[:, 0] == links[:, 1]):
            i = int(np.nonzero(links[:, 0] == links[:, 1])[0][0])
            raise TEError(f"graph '{name}': link {i} is a self loop on node '{nodes[links[i, 0]]}'")
        capacity = np.asarray(net.capacity, dtype=np.float64).reshape(-1)
        if capacity.shape != (len(links),):
            raise TEError(f"graph '{name}': {capacity.size} capacities for {len(links)} links")
        if not np.all(np.isfinite(capacity)) or np.any(capacity < 0):
            i = int(np.nonzero(~(np.isfinite(capacity) & (capacity >= 0)))[0][0])
            u, v = (nodes[j] for j in links[i])
            raise TEError(
                f"graph '{name}': link {i} ({u}→{v}): capacity must be a finite number of bit/s ≥ 0, "
                f"got {float(capacity[i])!r}"
            )
        delay = np.asarray(net.delay, np.float64).reshape(-1)
        physical = (
            np.arange(len(links), dtype=np.int64) if self.physical is None else np.asarray(self.physical, np.int64)
        )
        if delay.shape != (len(links),) or physical.shape != (len(links),):
            raise TEError(f"graph '{name}': delay and physical need one entry per link ({len(links)})")
        index = {(int(u), int(v)): i for i, (u, v) in enumerate(links.tolist())}
        if len(index) != len(links):
            raise TEError(f"graph '{name}': a directed link appears more than once")
        for attr, arr in (("links", links), ("capacity", capacity), ("delay", delay), ("physical", physical)):
            view = arr.view()  # read-only here without freezing the network's own arrays
            view.setflags(write=False)
            object.__setattr__(self, attr, view)
        object.__setattr__(self, "_index", index)

    # ------------------------------------------------------------------------------------ construction

    @classmethod
    def from_arrays(
        cls,
        name: str,
        nodes: Sequence[str],
        links: np.ndarray,
        capacity: np.ndarray,
        delay: np.ndarray | None = None,
        physical: np.ndarray | None = None,
    ) -> TEGraph:
        """A graph of the directed ``links`` (``(L, 2)`` node indices) with ``capacity`` (bit/s) and ``delay`` (s,
        default unknown: NaN), viewing a network that holds just these links (no flows, default link settings
        otherwise).

        Raises
        ------
        TEError
            If a field is malformed.
        """
        ends = np.asarray(links, dtype=np.int64).reshape(-1, 2)
        n = len(ends)
        cap = np.asarray(capacity, dtype=np.float64).reshape(-1)
        dly = np.full(n, np.nan) if delay is None else np.asarray(delay, dtype=np.float64).reshape(-1)
        defaults = LinkDefaults()
        network = Network(
            name=name,
            nodes=tuple(nodes),
            link_src=ends[:, 0],
            link_dst=ends[:, 1],
            capacity=cap,
            delay=dly,
            buffer=np.full(n, defaults.buffer, dtype=np.int64),
            weight=np.full(n, defaults.weight),
            flows=(),
            simulation=SimulationSpec(),
        )
        return cls(network, physical)

    @classmethod
    def from_links(
        cls,
        nodes: Sequence[str],
        links: Sequence[tuple[str, str, float]],
        directed: bool = False,
        name: str = "graph",
    ) -> TEGraph:
        """A graph from ``(src, dst, capacity)`` triples naming nodes; an undirected link becomes two directed
        links sharing a physical link id."""
        index = {n: i for i, n in enumerate(nodes)}
        ends, caps, physical = [], [], []
        for k, (u, v, c) in enumerate(links):
            if u not in index or v not in index:
                raise TEError(f"graph '{name}': link {k} ({u!r}, {v!r}) names an unknown node")
            pairs = [(index[u], index[v])] if directed else [(index[u], index[v]), (index[v], index[u])]
            for p in pairs:
                ends.append(p)
                caps.append(float(c))
                physical.append(k)
        return cls.from_arrays(name, nodes, np.array(ends, dtype=np.int64), np.array(caps), physical=np.array(physical))

    @property
    def name(self) -> str:
        """The network's name."""
        return self.network.name

    @property
    def nodes(self) -> tuple[str, ...]:
        """The network's node names."""
        return tuple(self.network.nodes)

    # ------------------------------------------------------------------------------------ accessors

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    @property
    def n_links(self) -> int:
        """Number of directed links, failed ones included."""
        return len(self.links)

    @property
    def failed(self) -> np.ndarray:
        """Boolean ``(L,)`` mask of links with capacity 0."""
        return self.capacity <= 0

    def link_id(self, src: int, dst: int) -> int:
        """The index of directed link ``src→dst``; raises :class:`TEError` if there is none."""
        try:
            return self._index[(int(src), int(dst))]
        except KeyError as err:
            raise TEError(f"graph '{self.name}' has no link {src}→{dst}") from err

    def with_capacity(self, capacity: np.ndarray, name: str | None = None) -> TEGraph:
        """The same graph with other capacities (0 = failed): a view of the network with those capacities."""
        network = dataclasses.replace(
            self.network, capacity=np.asarray(capacity, dtype=np.float64), name=name or self.name, scenario=None
        )
        return TEGraph(network, self.physical)

    def to_networkx(self, weight: str = "hops") -> nx.DiGraph:
        """Working links (capacity > 0) as a DiGraph whose edges carry the attributes ``id`` (the link's index) and
        ``weight``.

        ``weight`` is ``"hops"`` (every link 1) or ``"delay"`` (seconds; links of unknown delay count 1 ms).
        """
        if weight not in ("hops", "delay"):
            raise TEError(f"path weight must be 'hops' or 'delay', got {weight!r}")
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        w = np.ones(self.n_links) if weight == "hops" else np.nan_to_num(self.delay, nan=1e-3)
        for i in np.nonzero(self.capacity > 0)[0]:
            u, v = self.links[i]
            g.add_edge(int(u), int(v), id=int(i), weight=float(max(w[i], 1e-9)))
        return g

    def __repr__(self) -> str:
        return (
            f"TEGraph(name={self.name!r}, nodes={self.n_nodes}, links={self.n_links}, failed={int(self.failed.sum())})"
        )


def betweenness_capacity(topology: TopologyData) -> np.ndarray:
    """Capacities (bit/s) per topology link by the betweenness rule described in this module's docstring."""
    g = nx.DiGraph() if topology.directed else nx.Graph()
    g.add_nodes_from(range(topology.n_nodes))
    g.add_edges_from(topology.edges)
    k = 256 if topology.n_nodes > 1000 else None
    between = nx.edge_betweenness_centrality(g, k=k, normalized=False, seed=0)
    b = np.array([between.get((u, v), between.get((v, u), 0.0)) for u, v in topology.edges], dtype=np.float64)
    top = b.max() if b.size and b.max() > 0 else 1.0
    need = CAPACITY_TIERS[-1] * b / top
    tiers = np.array(CAPACITY_TIERS)
    pick = np.searchsorted(tiers, need * (1 - 1e-12), side="left")
    return tiers[np.minimum(pick, len(tiers) - 1)]


def one_capacity(capacity: float, n_links: int) -> np.ndarray:
    """``n_links`` copies of the capacity (bit/s) given for every link, once checked to be a finite number > 0.

    Every way to a TE graph (:func:`te_graph`, :func:`~nettwin.te.files.read_topology`) takes its ``capacity``
    through here, so each refuses the same values with the same line.

    Raises
    ------
    TEError
        If ``capacity`` is not a finite number > 0.

    Examples
    --------
    >>> one_capacity(1e10, 2).tolist()
    [10000000000.0, 10000000000.0]
    """
    if not finite(capacity) or capacity <= 0:
        raise TEError(f"capacity must be a finite number of bit/s > 0, got {capacity!r}")
    return np.full(n_links, float(capacity))


def te_graph(source: TopologyData | str, capacity: float | None = None) -> TEGraph:
    """The TE graph of a topology: a :class:`TopologyData`, a topohub key or a built-in topology name.

    Parameters
    ----------
    source : ``TopologyData``, a topohub key (``"sndlib/geant"``, ``"caida/2024-08/7018"``) or a built-in name
        (``"nsfnet"``).
    capacity : one capacity (bit/s) for every link; None uses the topology's capacities where every link has one
        and the betweenness rule otherwise.

    Returns
    -------
    TEGraph
        An undirected link becomes two directed links sharing a physical link id; links ``2i`` and ``2i+1``
        are the two directions of the topology's link ``i``.

    Raises
    ------
    TEError
        If the source cannot be read.

    Examples
    --------
    >>> g = te_graph("sndlib/abilene")
    >>> g.n_nodes, g.n_links, sorted(set(g.capacity.tolist()))[-1]
    (12, 30, 100000000000.0)
    """
    if isinstance(source, str):
        try:
            topo = builtin_topology(source) if "/" not in source else topohub_topology(source)
        except ScenarioError as err:
            raise TEError(str(err)) from err
    elif isinstance(source, TopologyData):
        topo = source
    else:
        raise TEError(f"a TE graph needs a TopologyData or a topology key, got {type(source).__name__}")
    if capacity is not None:
        caps = one_capacity(capacity, topo.n_edges)
    elif topo.edge_attrs and all("capacity" in a for a in topo.edge_attrs):
        caps = np.array([a["capacity"] for a in topo.edge_attrs])
    else:
        caps = betweenness_capacity(topo)
    delays = np.array([a.get("delay", np.nan) for a in topo.edge_attrs], dtype=np.float64)
    if topo.directed:
        ends = np.array(topo.edges, dtype=np.int64).reshape(-1, 2)
        return TEGraph.from_arrays(topo.name, topo.nodes, ends, caps, delays, np.arange(len(ends)))
    fwd = np.array(topo.edges, dtype=np.int64).reshape(-1, 2)
    ends = np.empty((2 * len(fwd), 2), dtype=np.int64)
    ends[0::2], ends[1::2] = fwd, fwd[:, ::-1]
    return TEGraph.from_arrays(
        topo.name, topo.nodes, ends, np.repeat(caps, 2), np.repeat(delays, 2), np.repeat(np.arange(len(fwd)), 2)
    )


def paired_physical(name: str, nodes: Sequence[str], link_src: np.ndarray, link_dst: np.ndarray) -> np.ndarray:
    """``(L,)`` physical link ids of directed links given by their ends: a link and its reverse share one, so that a
    failure takes both down.

    Raises
    ------
    TEError
        If two links join the same nodes in the same direction (TE routes over at most one link per direction).

    Examples
    --------
    >>> paired_physical("net", "abc", np.array([0, 1, 1]), np.array([1, 0, 2])).tolist()
    [0, 0, 1]
    """
    first: dict[tuple[int, int], int] = {}
    ids: dict[tuple[int, int], int] = {}
    out = []
    for i, (u, v) in enumerate(zip(np.asarray(link_src).tolist(), np.asarray(link_dst).tolist(), strict=True)):
        j = first.setdefault((u, v), i)
        if j != i:
            raise TEError(
                f"'{name}': links {j} and {i} both go {nodes[u]}→{nodes[v]}; traffic engineering routes over at most "
                "one link per direction between two nodes"
            )
        out.append(ids.setdefault((min(u, v), max(u, v)), len(ids)))
    return np.array(out, dtype=np.int64)
