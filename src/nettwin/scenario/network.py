"""A scenario resolved into arrays: the one input every engine, baseline and twin consumes."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from nettwin.errors import ScenarioError, UnknownNode
from nettwin.scenario import sources
from nettwin.scenario.limits import MAX_RATE
from nettwin.scenario.routing import ecmp_paths, shortest_paths
from nettwin.scenario.spec import (
    SCHEDULING_POLICIES,
    FlowSpec,
    LinkSpec,
    NodeRef,
    NodeSpec,
    RoutingSpec,
    Scenario,
    SchedulerSpec,
    SimulationSpec,
    TopologySpec,
)
from nettwin.scenario.traffic import Traffic
from nettwin.scenario.units import format_rate
from nettwin.scenario.wireless import link_weight, wireless_links

__all__ = [
    "FIFO",
    "SP",
    "WFQ",
    "DRR",
    "Flow",
    "Links",
    "Network",
    "EditState",
    "build_links",
    "build_network",
    "node_index",
    "node_ref",
    "split_flow",
    "flow_hash_path",
]

FIFO, SP, WFQ, DRR = range(len(SCHEDULING_POLICIES))
"""Scheduling policy codes (:attr:`Network.policy`): indices into :data:`~nettwin.scenario.spec.SCHEDULING_POLICIES`."""


@dataclass(frozen=True)
class Flow:
    """A flow with its nodes resolved to indices and its path to link indices.

    A flow that splits per packet over several paths lists them in ``paths`` with the ``shares`` of its traffic
    they carry (summing to 1); ``path`` is then the one with the largest share. A flow on one path leaves
    ``paths`` and ``shares`` empty (:attr:`routes` and :attr:`route_shares` read both cases alike).
    """

    src: int
    dst: int
    traffic: Traffic
    path: tuple[int, ...]
    tos: int = 0
    paths: tuple[tuple[int, ...], ...] = ()
    shares: tuple[float, ...] = ()

    @property
    def routes(self) -> tuple[tuple[int, ...], ...]:
        """Every path the flow's packets take."""
        return self.paths or (self.path,)

    @property
    def route_shares(self) -> tuple[float, ...]:
        """The share of the flow's traffic on each of :attr:`routes`."""
        return self.shares or (1.0,)

    @property
    def splits(self) -> bool:
        """Whether the flow divides its packets over several paths."""
        return len(self.paths) > 1


def split_flow(
    src: int, dst: int, traffic: Traffic, paths: Sequence[tuple[int, ...]], shares: Sequence[float], tos: int = 0
) -> Flow:
    """A flow over ``paths`` with ``shares`` (normalised to sum 1); one path makes a single-path flow.

    Raises
    ------
    ScenarioError
        If the counts differ, a share is not positive and finite, or a path is listed twice.
    """
    paths = tuple(tuple(int(link) for link in p) for p in paths)
    if len(paths) == 1 and len(shares) == 1 and 0.0 < float(shares[0]) < math.inf:
        return Flow(src, dst, traffic, paths[0], tos)  # the common case, without array work
    weights = np.asarray(shares, dtype=float)
    if len(paths) == 0 or len(paths) != len(weights):
        raise ScenarioError(f"a split flow needs one share per path, got {len(paths)} paths and {len(weights)} shares")
    if not np.all(np.isfinite(weights) & (weights > 0)):
        raise ScenarioError(f"path shares must be finite and > 0, got {weights.tolist()}")
    if len(set(paths)) != len(paths):
        raise ScenarioError("a flow lists the same path twice; merge their shares")
    if len(paths) == 1:
        return Flow(src, dst, traffic, paths[0], tos)
    weights = weights / weights.sum()
    main = int(np.argmax(weights))
    return Flow(src, dst, traffic, paths[main], tos, paths, tuple(weights.tolist()))


@dataclass(frozen=True, eq=False)
class Network:
    """Nodes, directed links (SI attributes), routed flows and simulation settings of one scenario.

    Link ``i`` goes from ``link_src[i]`` to ``link_dst[i]``; a bidirectional link is two links.

    Scheduling: link ``i`` serves its queues ``queue_ptr[i]:queue_ptr[i+1]`` (indices into ``queue_buffer`` and
    ``queue_weight``) by ``policy[i]`` (:data:`FIFO`, :data:`SP`, :data:`WFQ`, :data:`DRR`). A FIFO link has one
    queue, of ``buffer[i]`` packets, serving every class; on other links a flow of class ``tos`` uses queue
    ``tos``. ``queue_buffer`` counts packets waiting (not the one being sent); ``queue_weight`` is 0 where the
    policy uses no weights. ``buffer[i]`` is the link's total: its one queue (FIFO) or the sum over its queues.
    Left out, the scheduling arrays make every link one FIFO queue of ``buffer``.

    ``routing`` is how flows are routed (the scenario's); edits (:mod:`nettwin.scenario.edits`) reroute by it and
    keep in ``edit_state`` what they need beyond what engines see. Through edits a link keeps its identity
    :attr:`link_id` and a flow its :attr:`flow_id`, while indices shift as links fail and flows come and go.
    """

    name: str
    nodes: tuple[str, ...]
    link_src: np.ndarray
    link_dst: np.ndarray
    capacity: np.ndarray
    delay: np.ndarray
    buffer: np.ndarray
    weight: np.ndarray
    flows: tuple[Flow, ...]
    simulation: SimulationSpec
    medium: str = "wired"
    positions: np.ndarray | None = None
    scenario: Scenario | None = None
    policy: np.ndarray = None  # type: ignore[assignment]
    queue_ptr: np.ndarray = None  # type: ignore[assignment]
    queue_buffer: np.ndarray = None  # type: ignore[assignment]
    queue_weight: np.ndarray = None  # type: ignore[assignment]
    routing: RoutingSpec = dataclasses.field(default_factory=RoutingSpec)
    edit_state: EditState | None = None

    def __post_init__(self) -> None:
        if self.policy is None:
            n = len(self.link_src)
            object.__setattr__(self, "policy", np.full(n, FIFO, np.int64))
            object.__setattr__(self, "queue_ptr", np.arange(n + 1, dtype=np.int64))
            object.__setattr__(self, "queue_buffer", np.asarray(self.buffer, dtype=np.int64).copy())
            object.__setattr__(self, "queue_weight", np.zeros(n))

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_links(self) -> int:
        return len(self.link_src)

    @property
    def n_flows(self) -> int:
        return len(self.flows)

    @cached_property
    def tos(self) -> np.ndarray:
        """(F,) each flow's traffic class."""
        return np.fromiter((f.tos for f in self.flows), dtype=np.int64, count=self.n_flows)

    @cached_property
    def scheduled(self) -> bool:
        """Whether some link is scheduled by a policy other than FIFO."""
        return bool(np.any(self.policy != FIFO))

    @cached_property
    def path_ptr(self) -> np.ndarray:
        """CSR offsets into :attr:`path_links`: flow ``f`` uses ``path_links[path_ptr[f]:path_ptr[f+1]]``."""
        return np.concatenate([[0], np.cumsum([len(f.path) for f in self.flows])]).astype(np.int64)

    @cached_property
    def path_links(self) -> np.ndarray:
        """All flows' link indices, concatenated in path order."""
        return np.fromiter((link for f in self.flows for link in f.path), dtype=np.int64)

    def path_nodes(self, flow: int) -> tuple[int, ...]:
        """Node indices visited by ``flow``, source first."""
        f = self.flows[flow]
        return (f.src, *(int(self.link_dst[link]) for link in f.path))

    def route_nodes(self, flow: int) -> tuple[tuple[int, ...], ...]:
        """Node indices visited by each of ``flow``'s :attr:`~Flow.routes`, source first."""
        f = self.flows[flow]
        return tuple((f.src, *(int(self.link_dst[link]) for link in p)) for p in f.routes)

    @cached_property
    def multipath(self) -> bool:
        """Whether some flow splits its packets over several paths."""
        return any(f.splits for f in self.flows)

    @cached_property
    def route_flow(self) -> np.ndarray:
        """(R,) the flow of each route: every path of every flow, flow by flow (R = F without split flows)."""
        return np.repeat(np.arange(self.n_flows), [len(f.routes) for f in self.flows]).astype(np.int64)

    @cached_property
    def route_share(self) -> np.ndarray:
        """(R,) the share of its flow's traffic each route carries."""
        return np.fromiter((s for f in self.flows for s in f.route_shares), dtype=float, count=len(self.route_flow))

    @cached_property
    def route_ptr(self) -> np.ndarray:
        """CSR offsets into :attr:`route_links`: route ``r`` uses ``route_links[route_ptr[r]:route_ptr[r+1]]``."""
        return np.concatenate([[0], np.cumsum([len(p) for f in self.flows for p in f.routes])]).astype(np.int64)

    @cached_property
    def route_links(self) -> np.ndarray:
        """All routes' link indices, concatenated in path order."""
        return np.fromiter((link for f in self.flows for p in f.routes for link in p), dtype=np.int64)

    @cached_property
    def offered_load(self) -> np.ndarray:
        """(L,) long-run offered bits per second on each link, ignoring losses (a split flow's share on each path)."""
        rate = np.fromiter((f.traffic.mean_rate for f in self.flows), dtype=float, count=self.n_flows)
        per_route = (rate[self.route_flow] * self.route_share).repeat(np.diff(self.route_ptr))
        return np.bincount(self.route_links, weights=per_route, minlength=self.n_links)

    def subflows(self) -> Network:
        """This network with each path of a split flow as a flow of its own, carrying the path's share of the
        traffic (:meth:`~nettwin.scenario.traffic.Traffic.thinned`); route ``r`` becomes flow ``r``.

        A per-packet split of a Poisson flow is exactly such independent Poisson subflows; for other laws it is the
        approximation queueing theory and the twins work with. Without split flows, returns ``self``.
        """
        if not self.multipath:
            return self
        flows = tuple(
            Flow(f.src, f.dst, f.traffic.thinned(share), path, f.tos)
            for f in self.flows
            for path, share in zip(f.routes, f.route_shares, strict=True)
        )
        return dataclasses.replace(self, flows=flows, scenario=None)

    @cached_property
    def link_id(self) -> np.ndarray:
        """(L,) each link's identity: its index in the network as built, kept through edits (a failed link's id
        leaves with it and returns when it is restored; an added link gets the next unused id). Ascending."""
        state = self.edit_state
        if state is not None and state.link_src is self.link_src:
            return state.link_id
        return np.arange(self.n_links, dtype=np.int64)

    @cached_property
    def flow_id(self) -> np.ndarray:
        """(F,) each flow's identity: its index in the network as built, kept through edits (removed flows' ids
        are not reused; an added flow gets the next unused id). Ascending."""
        state = self.edit_state
        if state is not None and state.flows is self.flows:
            return state.flow_id
        return np.arange(self.n_flows, dtype=np.int64)

    def link_index(self, src: int, dst: int) -> int:
        """Index of the first link ``src→dst``."""
        hits = np.nonzero((self.link_src == src) & (self.link_dst == dst))[0]
        if len(hits) == 0:
            raise ScenarioError(f"no link {self.nodes[src]}→{self.nodes[dst]}")
        return int(hits[0])


@dataclass(frozen=True, eq=False)
class EditState:
    """What a network changed by edits (:mod:`nettwin.scenario.edits`) remembers beyond what engines see.

    ``links`` holds every link the network has had, failed ones included, row ``k`` being the link of id ``k``;
    ``link_id`` names the live ones (the network's links, in this order). ``pinned[f]`` is flow ``f``'s own paths
    (tuples of link ids) and shares, or None where routing chooses its paths. ``stranded`` holds the flows that lost
    their destination, as ``(flow id, flow, pinned)``, to return when it is reachable again. A state describes the
    ``link_src`` and ``flows`` of the network it came with; a network changed otherwise starts a new history.
    """

    links: Links
    link_id: np.ndarray
    links_down: frozenset[int]
    nodes_down: frozenset[int]
    flow_id: np.ndarray
    pinned: tuple[tuple[tuple[tuple[int, ...], ...], tuple[float, ...]] | None, ...]
    stranded: tuple[tuple[int, Flow, tuple[tuple[tuple[int, ...], ...], tuple[float, ...]] | None], ...]
    next_flow_id: int
    link_src: np.ndarray
    flows: tuple[Flow, ...]


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)")
"""A node name that is a number written out (``"0"``, ``"17"``, ``"-3"``)."""


@lru_cache(maxsize=16)
def _names(nodes: tuple[str, ...]) -> tuple[dict[str, int], bool]:
    """``name → index``, and whether some node is named by a number."""
    return {n: i for i, n in enumerate(nodes)}, any(_NUMBER.fullmatch(n) for n in nodes)


def node_index(ref: NodeRef, nodes: tuple[str, ...], where: str) -> int:
    """The index of the node ``ref`` names in a topology whose node names are ``nodes``.

    A name always means that node. A number (``3`` or ``"3"``) means the node *named* 3 when some node of the
    topology is named by a number (``nodes: [0, 1, 2]``, GÉANT2's ``"0"`` .. ``"23"``), and the node at index 3
    (0-based) otherwise (NSFNET's cities, grids' ``r0c0``). One topology never mixes the two readings, so a number
    always means one node.

    Raises
    ------
    UnknownNode
        Naming ``where`` (the field) and the node.

    Examples
    --------
    >>> node_index(1, ("a", "b"), "src"), node_index(1, ("5", "1"), "src"), node_index("b", ("a", "b"), "src")
    (1, 1, 1)
    """
    lookup, numbered = _names(nodes)
    if isinstance(ref, str) and ref in lookup:
        return lookup[ref]
    number = ref if isinstance(ref, int) else int(ref) if _NUMBER.fullmatch(ref) else None
    if number is None:
        raise UnknownNode(f"{where}: unknown node '{ref}'")
    if numbered:
        if str(number) in lookup:
            return lookup[str(number)]
        raise UnknownNode(
            f"{where}: no node is named {number} (the topology names its nodes by number, so a number is a name)"
        )
    if 0 <= number < len(nodes):
        return number
    raise UnknownNode(f"{where}: node {ref} does not exist (the topology has nodes 0..{len(nodes) - 1})")


def node_ref(nodes: tuple[str, ...], index: int) -> NodeRef:
    """A reference that :func:`node_index` resolves to ``index``: the index itself where that is unambiguous, else
    the node's name."""
    return index if not _names(nodes)[1] or nodes[index] == str(index) else nodes[index]


def _read_source(topo: TopologySpec, base_dir: Path | None) -> sources.TopologyData:
    if topo.builtin is not None:
        return sources.builtin_topology(topo.builtin)
    if topo.topohub is not None:
        return sources.topohub_topology(topo.topohub)
    if topo.file is not None:
        path = Path(topo.file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return sources.file_topology(path)
    if topo.grid is not None:
        g = topo.grid
        return sources.grid_topology(g.rows, g.cols, g.spacing, g.perturb, seed=g.seed)
    if topo.random is not None:
        r = topo.random
        return sources.random_topology(r.model, r.nodes, r.seed, **r.parameters())
    return _explicit_topology(topo)


def _explicit_topology(topo: TopologySpec) -> sources.TopologyData:
    specs = [n if isinstance(n, NodeSpec) else NodeSpec(name=n) for n in topo.nodes or []]
    names = tuple(n.name for n in specs)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ScenarioError(f"topology.nodes: node name '{dup}' appears more than once")
    positions = None
    if any(n.x is not None or n.y is not None for n in specs):
        missing = [n.name for n in specs if n.x is None or n.y is None]
        if missing:
            raise ScenarioError(f"topology.nodes: node '{missing[0]}' has no x/y while others do")
        positions = np.array([[n.x, n.y] for n in specs], dtype=float)
    edges, attrs = [], []
    for i, link in enumerate(topo.links or []):
        u = node_index(link.src, names, f"topology.links[{i}].src")
        v = node_index(link.dst, names, f"topology.links[{i}].dst")
        if u == v:
            raise ScenarioError(f"topology.links[{i}]: a link cannot connect node '{names[u]}' to itself")
        given = {k: getattr(link, k) for k in ("capacity", "delay", "buffer", "weight") if getattr(link, k) is not None}
        for a, b in ((u, v), (v, u)) if link.bidirectional else ((u, v),):
            edges.append((a, b))
            attrs.append(given)
    return sources.TopologyData(
        name="explicit", nodes=names, edges=tuple(edges), directed=True, positions=positions, edge_attrs=tuple(attrs)
    )


@dataclass(frozen=True, eq=False)
class Links:
    """A topology resolved to directed links with SI attributes, before any flow is routed over it."""

    nodes: tuple[str, ...]
    link_src: np.ndarray
    link_dst: np.ndarray
    capacity: np.ndarray
    delay: np.ndarray
    buffer: np.ndarray
    weight: np.ndarray
    positions: np.ndarray | None
    policy: np.ndarray
    queue_ptr: np.ndarray
    queue_buffer: np.ndarray
    queue_weight: np.ndarray

    @cached_property
    def index(self) -> dict[tuple[int, int], int]:
        """``(src, dst) → link index`` (the first such link)."""
        return {
            e: i for i, e in reversed(list(enumerate(zip(self.link_src.tolist(), self.link_dst.tolist(), strict=True))))
        }


def build_links(topo: TopologySpec, base_dir: Path | None = None) -> Links:
    """Read a topology source and apply link defaults, per-link overrides and the capacity scale.

    Wireless topologies get one link each way between nodes within radio range, or the links of the neighbour graph
    given as ``links``; each is weighted ``1/log(1+d²)`` (unless it states its own weight) and has the radio's rate
    as capacity.

    Raises
    ------
    ScenarioError
        If the source cannot be read, a wireless topology has no positions, or an override names no link.
    """
    data = _read_source(topo, base_dir)
    nodes = data.nodes

    if topo.medium == "wireless":
        if data.positions is None:
            raise ScenarioError(
                "topology.medium: a wireless topology needs node positions (use a grid, or give x/y for every node)"
            )
        _check_wireless_capacity(topo)
        if topo.links is not None:
            # A given neighbour graph: its links as listed, each keeping the attributes it states.
            edges, given = list(data.edges), list(data.edge_attrs)
        else:
            pairs = wireless_links(data.positions, topo.wireless)
            if not pairs:
                raise ScenarioError("topology.wireless: no two nodes are within radio range; move nodes closer")
            edges = [e for u, v in pairs for e in ((u, v), (v, u))]
            given = [{}] * len(edges)
        dist = np.array([np.linalg.norm(data.positions[u] - data.positions[v]) for u, v in edges])
        attrs = [
            {"weight": float(w), **a, "capacity": topo.wireless.rate}
            for w, a in zip(link_weight(dist), given, strict=True)
        ]
    elif data.directed:
        edges, attrs = list(data.edges), list(data.edge_attrs)
    else:
        edges = [e for u, v in data.edges for e in ((u, v), (v, u))]
        attrs = [a for a in data.edge_attrs for _ in range(2)]

    d = topo.defaults
    columns = {
        k: np.array([a.get(k, getattr(d, k)) for a in attrs], dtype=float)
        for k in ("capacity", "delay", "buffer", "weight")
    }
    # Only explicit links (in the order _explicit_topology lists them) state a scheduler of their own.
    given = [link.scheduler for link in topo.links or [] for _ in range(2 if link.bidirectional else 1)]
    schedulers = [d.scheduler if s is None else s for s in given or [None] * len(edges)]
    where = {e: i for i, e in reversed(list(enumerate(edges)))}
    for i, o in enumerate(topo.overrides):
        _apply_override(o, f"topology.overrides[{i}]", nodes, where, columns, schedulers)
    _scale_capacity(columns["capacity"], topo.capacity_scale, nodes, edges)
    buffer = columns["buffer"].astype(np.int64)
    policy, queue_ptr, queue_buffer, queue_weight = _queues(schedulers, buffer)
    return Links(
        nodes=nodes,
        link_src=np.array([u for u, _ in edges], dtype=np.int64),
        link_dst=np.array([v for _, v in edges], dtype=np.int64),
        capacity=columns["capacity"],
        delay=columns["delay"],
        buffer=np.add.reduceat(queue_buffer, queue_ptr[:-1]) if len(buffer) else buffer,
        weight=columns["weight"],
        positions=data.positions,
        policy=policy,
        queue_ptr=queue_ptr,
        queue_buffer=queue_buffer,
        queue_weight=queue_weight,
    )


def _queues(
    schedulers: list[SchedulerSpec | None], buffer: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each link's policy code and its queues as CSR arrays (offsets, buffers, weights); a queue without a size
    takes its link's ``buffer``, a link without a scheduler is one FIFO queue of ``buffer``."""
    policy = np.array(
        [SCHEDULING_POLICIES.index(s.policy) if s is not None else FIFO for s in schedulers], dtype=np.int64
    )
    sizes = [len(s.queues) if s is not None else 1 for s in schedulers]
    queue_buffer = np.array(
        [
            b if q is None or q.buffer is None else q.buffer
            for s, b in zip(schedulers, buffer.tolist(), strict=True)
            for q in (s.queues if s is not None else (None,))
        ],
        dtype=np.int64,
    )
    queue_weight = np.array(
        [
            0.0 if q is None or q.weight is None else q.weight
            for s in schedulers
            for q in (s.queues if s is not None else (None,))
        ],
        dtype=float,
    )
    return policy, np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64), queue_buffer, queue_weight


def _scale_capacity(capacity: np.ndarray, scale: float, nodes: tuple[str, ...], edges: list) -> None:
    with np.errstate(over="ignore"):
        capacity *= scale
    over = np.nonzero(~(capacity <= MAX_RATE))[0]
    if over.size:
        u, v = edges[over[0]]
        raise ScenarioError(
            f"topology.capacity_scale: {scale:g} takes link {nodes[u]}→{nodes[v]} to {format_rate(capacity[over[0]])}, "
            f"above the fastest rate nettwin accepts ({format_rate(MAX_RATE)})"
        )
    zero = np.nonzero(~(capacity > 0))[0]
    if zero.size:
        u, v = edges[zero[0]]
        raise ScenarioError(
            f"topology.capacity_scale: {scale:g} takes link {nodes[u]}→{nodes[v]} to 0 bit/s (the product of its "
            "capacity and the scale is below the smallest number a float holds)"
        )


def _check_wireless_capacity(topo: TopologySpec) -> None:
    # Every station sends at the radio's one rate, so a per-link capacity would describe nothing that is simulated.
    if topo.capacity_scale != 1.0:
        raise ScenarioError("topology.capacity_scale: wireless links all send at topology.wireless.rate; set that")
    for i, o in enumerate(topo.overrides):
        if o.capacity is not None:
            raise ScenarioError(
                f"topology.overrides[{i}].capacity: wireless links all send at topology.wireless.rate; set that"
            )


def build_network(scenario: Scenario, base_dir: Path | None = None, links: Links | None = None) -> Network:
    """Resolve a scenario: read its topology, apply link defaults and overrides, and route its flows.

    Parameters
    ----------
    scenario : the validated scenario.
    base_dir : directory relative topology file paths are read from (the scenario file's directory).
    links : the scenario's topology already resolved (:func:`build_links`), so that it is not read again.

    Raises
    ------
    ScenarioError
        With one line per problem found (unknown nodes, src == dst, broken explicit paths, unreachable pairs, ...).
    """
    links = build_links(scenario.topology, base_dir) if links is None else links
    nodes, where = links.nodes, links.index

    problems: list[ScenarioError] = []
    flows_in: list[tuple[int, int, FlowSpec]] = []
    explicit: dict[int, tuple[tuple[tuple[int, ...], ...], tuple[float, ...]]] = {}
    for i, fs in enumerate(scenario.flows):
        try:
            s = node_index(fs.src, nodes, f"flows[{i}].src")
            t = node_index(fs.dst, nodes, f"flows[{i}].dst")
            if s == t:
                raise ScenarioError(f"flows[{i}]: src and dst are the same node '{nodes[s]}'")
            if fs.path is not None:
                explicit[i] = ((resolve_path(fs.path, s, t, nodes, where, f"flows[{i}].path"),), (1.0,))
            elif fs.paths is not None:
                explicit[i] = _explicit_paths(fs.paths, s, t, nodes, where, f"flows[{i}].paths")
            flows_in.append((s, t, fs))
        except ScenarioError as err:
            problems.append(err)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ScenarioError("\n".join(map(str, problems)))

    routing = scenario.routing
    cost = routing_cost(routing.weight, links)
    to_route = [i for i in range(len(flows_in)) if i not in explicit]
    routed = dict(explicit)
    if to_route:
        pairs = [(flows_in[i][0], flows_in[i][1]) for i in to_route]
        try:
            if routing.policy == "ecmp":
                found = ecmp_paths(len(nodes), links.link_src, links.link_dst, cost, pairs, routing.max_paths, nodes)
            else:
                found = [
                    ((p,), (1.0,))
                    for p in shortest_paths(len(nodes), links.link_src, links.link_dst, cost, pairs, nodes)
                ]
        except ScenarioError as err:
            message = str(err)
            raise type(err)(message if message.startswith("routing.") else f"routing: {message}") from err
        routed.update(zip(to_route, found, strict=True))

    seed = scenario.simulation.seed
    flows = []
    for i, (s, t, fs) in enumerate(flows_in):
        paths, shares = routed[i]
        if routing.split == "flow" and len(paths) > 1:
            pick = flow_hash_path(shares, seed, i)
            paths, shares = (paths[pick],), (1.0,)
        flows.append(split_flow(s, t, fs.traffic, paths, shares, fs.tos))
    flows = tuple(flows)
    check_classes(flows, links)
    return Network(
        name=scenario.name,
        nodes=nodes,
        link_src=links.link_src,
        link_dst=links.link_dst,
        capacity=links.capacity,
        delay=links.delay,
        buffer=links.buffer,
        weight=links.weight,
        flows=flows,
        simulation=scenario.simulation,
        medium=scenario.topology.medium,
        positions=links.positions,
        scenario=scenario,
        policy=links.policy,
        queue_ptr=links.queue_ptr,
        queue_buffer=links.queue_buffer,
        queue_weight=links.queue_weight,
        routing=routing,
    )


def check_classes(flows: tuple[Flow, ...], links: Links, first: int = 0) -> None:
    """Every scheduled (non-FIFO) port on a flow's path must have a queue for the flow's class: one line per flow
    that finds one without, naming ``flows[i]`` from ``i = first``."""
    queues = np.diff(links.queue_ptr)
    problems = []
    for i, f in enumerate(flows, first):
        short = [ln for p in f.routes for ln in p if links.policy[ln] != FIFO and queues[ln] <= f.tos]
        if short:
            ln = short[0]
            problems.append(
                f"flows[{i}].tos: class {f.tos} needs queue {f.tos}, but link "
                f"{links.nodes[links.link_src[ln]]}→{links.nodes[links.link_dst[ln]]} on its path schedules "
                f"{queues[ln]} queue(s) by {SCHEDULING_POLICIES[links.policy[ln]]}"
            )
    if problems:
        raise ScenarioError("\n".join(problems))


def _apply_override(o: LinkSpec, where_txt: str, nodes, where, columns, schedulers) -> None:
    u = node_index(o.src, nodes, f"{where_txt}.src")
    v = node_index(o.dst, nodes, f"{where_txt}.dst")
    for a, b in ((u, v), (v, u)) if o.bidirectional else ((u, v),):
        if (a, b) not in where:
            raise ScenarioError(f"{where_txt}: the topology has no link {nodes[a]}→{nodes[b]}")
        for k in ("capacity", "delay", "buffer", "weight"):
            value = getattr(o, k)
            if value is not None:
                columns[k][where[(a, b)]] = value
        if o.scheduler is not None:
            schedulers[where[(a, b)]] = o.scheduler


def resolve_path(
    path: Sequence[NodeRef],
    s: int,
    t: int,
    nodes: tuple[str, ...],
    where: Mapping[tuple[int, int], int],
    what: str,
) -> tuple[int, ...]:
    """The link indices of ``path`` (nodes from ``s`` to ``t``), checked: it starts and ends at the flow's nodes,
    visits no node twice and follows existing links (``where`` maps a node pair to its link); errors name ``what``."""
    idx = [node_index(n, nodes, what) for n in path]
    if len(idx) < 2 or idx[0] != s or idx[-1] != t:
        raise ScenarioError(f"{what}: must start at the flow's src '{nodes[s]}' and end at its dst '{nodes[t]}'")
    if len(set(idx)) != len(idx):
        raise ScenarioError(f"{what}: visits a node twice (loops are not allowed)")
    links = []
    for a, b in zip(idx, idx[1:], strict=False):
        if (a, b) not in where:
            raise ScenarioError(f"{what}: not contiguous, there is no link {nodes[a]}→{nodes[b]}")
        links.append(where[(a, b)])
    return tuple(links)


def flow_hash_path(shares: Sequence[float], seed: int, flow: int) -> int:
    """The path a flow hashed onto one of its paths takes: drawn by ``shares`` from a stream keyed by the scenario
    seed and the flow's index alone, so that the choice holds across runs, engines and the order of other flows."""
    u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(flow,))).random()
    cum = np.cumsum(shares)
    return int(min(np.searchsorted(cum, u * cum[-1], side="right"), len(shares) - 1))


def _explicit_paths(paths, s, t, nodes, where, what) -> tuple[tuple[tuple[int, ...], ...], tuple[float, ...]]:
    resolved = tuple(resolve_path(p.path, s, t, nodes, where, f"{what}[{k}].path") for k, p in enumerate(paths))
    seen: dict[tuple[int, ...], int] = {}
    for k, p in enumerate(resolved):
        if p in seen:
            raise ScenarioError(f"{what}[{k}]: the same path as {what}[{seen[p]}]; merge their shares")
        seen[p] = k
    return resolved, tuple(p.share for p in paths)


def routing_cost(weight: str, links: Links | Network) -> np.ndarray:
    """Each link's cost under routing by ``weight`` (hops, inverse capacity, or a link attribute)."""
    if weight == "hops":
        return np.ones_like(links.capacity)
    if weight == "inverse_capacity":
        return 1.0 / links.capacity
    cost = getattr(links, weight).copy()
    if weight == "delay":
        # Zero-delay links still count, so that among equal delays fewer hops win.
        cost += 1e-12
    return cost
