"""Network edits as values: the verbs of management and what-if analysis.

Each edit is a small frozen value whose ``apply(network)`` returns a new, validated
:class:`~nettwin.scenario.network.Network`: fail or restore a link (:class:`FailLink`, :class:`RestoreLink`) or a
node (:class:`FailNode`, :class:`RestoreNode`), change a link (:class:`ChangeLink`) or add one (:class:`AddLink`),
change a flow's rate, destination or paths (:class:`ChangeRate`, :class:`ChangeDestination`, :class:`ChangePaths`),
add or remove a flow (:class:`AddFlow`, :class:`RemoveFlow`). :class:`Edits` (a sequence of edits) is an edit, and
:func:`apply_edits` applies one or several. The input is never changed; the result shares every array and flow the
edit leaves alone, and nothing is rebuilt from the scenario, so an edit costs microseconds to a few milliseconds.
A bad edit raises :class:`~nettwin.errors.ScenarioError` with one line naming the edit's field.

**What engines see.** A failed link leaves the network's arrays (engines and twins see only the links that are up;
a failed node stays, without links, so that node indices hold). **Identity**: link indices shift as links fail and
return, so a link is named across edits by :attr:`Network.link_id <nettwin.scenario.network.Network.link_id>` (its
index in the network as built; an added link takes the next unused id) and a flow by :attr:`Network.flow_id
<nettwin.scenario.network.Network.flow_id>`. Per-link results of two networks compare by id:
``before_result[after.link_id]`` lines up with ``after_result`` when ``before`` is the network as built.

**Routing.** A flow either follows the network's routing (``routing: shortest_path`` or ``ecmp`` by its weight,
as :func:`~nettwin.scenario.network.build_network` routed it) or is pinned to its own paths (``path``/``paths`` in
the scenario, or :class:`ChangePaths`). Edits keep routing's choice current while touching only the flows it
concerns: a flow whose path loses a link is rerouted over what remains; an added, restored or cheaper link reroutes
the flows it offers a path as short as theirs (a flow hashed onto one of its ECMP paths, ``split: flow``, also draws
again when one of the others changes). A pinned flow whose paths lose a link keeps those that
remain (shares renormalised) or, if none does, follows routing until one of its paths is whole again, when it
returns to them: so restoring undoes failing, routes included. A link's capacity, delay or weight moves flows only
when routing weighs that attribute.

**Lost connectivity.** A flow whose destination becomes unreachable (or whose end node fails) makes the edit fail,
naming the flows, unless the edit says ``unreachable="drop"``: the flow then leaves the network and is kept aside
(:func:`stranded_flows` lists them by flow id) until a restore makes its destination reachable again, when it
returns with its id.

A network's ``scenario`` stops describing it after an edit (it becomes None); :func:`to_scenario` writes any wired
network as an explicit scenario that :func:`~nettwin.scenario.network.build_network` turns back into it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from nettwin.errors import ScenarioError, Unreachable
from nettwin.scenario.io import format_validation_error, parse_scenario
from nettwin.scenario.limits import MAX_BUFFER, MAX_DURATION, MAX_RATE
from nettwin.scenario.network import (
    FIFO,
    EditState,
    Flow,
    Links,
    Network,
    check_classes,
    flow_hash_path,
    node_index,
    resolve_path,
    routing_cost,
    split_flow,
)
from nettwin.scenario.routing import ecmp_paths, shortest_paths
from nettwin.scenario.spec import SCHEDULING_POLICIES, WEIGHTED_POLICIES, FlowSpec, LinkDefaults, NodeRef, Scenario
from nettwin.scenario.units import format_rate, parse_count, parse_rate, parse_time

__all__ = [
    "Edit",
    "Edits",
    "FailLink",
    "RestoreLink",
    "FailNode",
    "RestoreNode",
    "ChangeLink",
    "AddLink",
    "ChangeRate",
    "ChangeDestination",
    "ChangePaths",
    "AddFlow",
    "RemoveFlow",
    "apply_edits",
    "stranded_flows",
    "to_scenario",
]

Routes = tuple[tuple[tuple[int, ...], ...], tuple[float, ...]]
"""A flow's paths (link indices or ids) and their shares."""

Lost = Literal["error", "drop"]


class Edit:
    """A change of a network, as a value: :meth:`apply` returns the changed network and leaves its input alone."""

    def apply(self, network: Network) -> Network:
        """The network with this edit made.

        Raises
        ------
        ScenarioError
            One line naming the edit's field and what is wrong.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class Edits(Edit):
    """Several edits made one after the other: ``Edits((a, b)).apply(n) == b.apply(a.apply(n))``."""

    edits: tuple[Edit, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "edits", tuple(self.edits))
        for i, edit in enumerate(self.edits):
            if not isinstance(edit, Edit):
                raise ScenarioError(f"Edits.edits[{i}]: not an edit, got {edit!r}")

    def apply(self, network: Network) -> Network:
        for edit in self.edits:
            network = edit.apply(network)
        return network


def apply_edits(network: Network, edits: Edit | Iterable[Edit]) -> Network:
    """``network`` with ``edits`` (one edit or a sequence of them, in order) made; ``network`` is left unchanged.

    Examples
    --------
    >>> from nettwin.scenario import build_network, parse_scenario
    >>> net = build_network(parse_scenario({"topology": {"builtin": "nsfnet"},
    ...     "flows": [{"src": 0, "dst": 5, "traffic": {"model": "poisson", "rate": "1Mbps"}}]}))
    >>> cut = apply_edits(net, [FailLink(0, 2, bidirectional=True), ChangeRate(0, "2Mbps")])
    >>> net.path_nodes(0)
    (0, 2, 5)
    >>> net.n_links - cut.n_links, cut.path_nodes(0), cut.flows[0].traffic.mean_rate
    (2, (0, 1, 2, 5), 2000000.0)
    """
    return (edits if isinstance(edits, Edit) else Edits(tuple(edits))).apply(network)


def stranded_flows(network: Network) -> dict[int, Flow]:
    """The flows that lost their destination and were dropped (``unreachable="drop"``), by flow id, as they were
    before; they return when a restore makes their destination reachable again."""
    state = network.edit_state
    if state is None or state.flows is not network.flows:
        return {}
    return {fid: flow for fid, flow, _ in state.stranded}


# ----------------------------------------------------------------------------------------------------------- links


@dataclass(frozen=True)
class FailLink(Edit):
    """Take the link ``src→dst`` down (and ``dst→src`` with ``bidirectional``); its flows are rerouted.

    With parallel links, the first. ``unreachable``: ``"error"`` refuses a failure that leaves a flow without a
    path to its destination; ``"drop"`` takes such flows out (see :func:`stranded_flows`).
    """

    src: NodeRef
    dst: NodeRef
    bidirectional: bool = False
    unreachable: Lost = "error"

    def __post_init__(self) -> None:
        _check_lost(self)

    def apply(self, network: Network) -> Network:
        state = _state(network)
        ids = _link_ids(network, state, self, live=True)
        return _relink(network, state, state.links_down | ids, state.nodes_down, (), self.unreachable, _name(self))


@dataclass(frozen=True)
class RestoreLink(Edit):
    """Bring back the failed link ``src→dst`` (and ``dst→src`` with ``bidirectional``) with the attributes it had;
    flows that routing now sends over it, pinned flows whose paths it completes and stranded flows it reconnects
    take it."""

    src: NodeRef
    dst: NodeRef
    bidirectional: bool = False

    def apply(self, network: Network) -> Network:
        state = _state(network)
        ids = _link_ids(network, state, self, live=False)
        return _relink(network, state, state.links_down - ids, state.nodes_down, (), "error", _name(self))


@dataclass(frozen=True)
class FailNode(Edit):
    """Take a node down: its links fail and its flows lose their destination (see :class:`FailLink` for
    ``unreachable``). The node stays in :attr:`~nettwin.scenario.network.Network.nodes`, without links."""

    node: NodeRef
    unreachable: Lost = "error"

    def __post_init__(self) -> None:
        _check_lost(self)

    def apply(self, network: Network) -> Network:
        state = _state(network)
        u = _node(network, self.node, f"{_name(self)}.node")
        if u in state.nodes_down:
            raise ScenarioError(f"{_name(self)}.node: node '{network.nodes[u]}' is already down")
        return _relink(network, state, state.links_down, state.nodes_down | {u}, (), self.unreachable, _name(self))


@dataclass(frozen=True)
class RestoreNode(Edit):
    """Bring back a failed node with its links (those not failed on their own)."""

    node: NodeRef

    def apply(self, network: Network) -> Network:
        state = _state(network)
        u = _node(network, self.node, f"{_name(self)}.node")
        if u not in state.nodes_down:
            raise ScenarioError(f"{_name(self)}.node: node '{network.nodes[u]}' is not down")
        return _relink(network, state, state.links_down, state.nodes_down - {u}, (), "error", _name(self))


@dataclass(frozen=True)
class _LinkEdit(Edit):
    """The link ``src→dst`` (and ``dst→src`` with ``bidirectional``) and the attributes an edit gives it."""

    src: NodeRef
    dst: NodeRef
    capacity: float | str | None = None
    delay: float | str | None = None
    buffer: int | str | None = None
    weight: float | None = None
    bidirectional: bool = False


@dataclass(frozen=True)
class ChangeLink(_LinkEdit):
    """Set the ``capacity`` (bit/s or ``"10Mbps"``), ``delay`` (s or ``"2ms"``), ``buffer`` (packets; one-queue
    links only) or ``weight`` of the link ``src→dst`` (and ``dst→src`` with ``bidirectional``); None keeps a value.

    Flows keep their paths unless routing weighs the changed attribute (``weight: inverse_capacity``, ``delay`` or
    ``weight``), when the flows it moves are rerouted.
    """

    def apply(self, network: Network) -> Network:
        state = _state(network)
        what = _name(self)
        values = _link_values(self, what)
        ids = sorted(_link_ids(network, state, self, live=True))
        rows = np.searchsorted(state.link_id, ids)
        if "buffer" in values:
            for i in rows:
                if network.policy[i] != FIFO:
                    raise ScenarioError(
                        f"{what}.buffer: link {_link_name(network, i)} schedules its queues by "
                        f"{SCHEDULING_POLICIES[network.policy[i]]}; one buffer cannot size them"
                    )
        live: dict[str, np.ndarray] = {}
        full: dict[str, np.ndarray] = {}
        for key, value in values.items():
            live[key] = getattr(network, key).copy()
            live[key][rows] = value
            full[key] = getattr(state.links, key).copy()
            full[key][ids] = value
        if "buffer" in values:
            queue = network.queue_ptr[rows]
            live["queue_buffer"] = network.queue_buffer.copy()
            live["queue_buffer"][queue] = values["buffer"]
            full["queue_buffer"] = state.links.queue_buffer.copy()
            full["queue_buffer"][state.links.queue_ptr[ids]] = values["buffer"]
        edited = dataclasses.replace(network, **live)
        links = dataclasses.replace(state.links, **full)
        state = dataclasses.replace(state, links=links)
        weighs = {"inverse_capacity": "capacity", "delay": "delay", "weight": "weight"}.get(network.routing.weight)
        if weighs in values:
            return _relink(edited, state, state.links_down, state.nodes_down, ids, "error", what, before=network)
        return dataclasses.replace(
            edited, scenario=None, edit_state=dataclasses.replace(state, link_src=edited.link_src)
        )


@dataclass(frozen=True)
class AddLink(_LinkEdit):
    """Add a one-queue link ``src→dst`` (and ``dst→src`` with ``bidirectional``); attributes left out take the
    scenario format's defaults (10 Mbps, 1 ms, 32 packets, weight 1). It gets the next unused link id(s), and the
    flows routing now sends over it take it."""

    def apply(self, network: Network) -> Network:
        state = _state(network)
        what = _name(self)
        u = _node(network, self.src, f"{what}.src")
        v = _node(network, self.dst, f"{what}.dst")
        if u == v:
            raise ScenarioError(f"{what}: a link cannot connect node '{network.nodes[u]}' to itself")
        for n in (u, v):
            if n in state.nodes_down:
                raise ScenarioError(f"{what}: node '{network.nodes[n]}' is down")
        full = state.links
        pairs = [(u, v), (v, u)] if self.bidirectional else [(u, v)]
        for a, b in pairs:
            k = _find(full, a, b)
            if k >= 0:
                how = (
                    "it is down: restore it with RestoreLink" if k in state.links_down else "change it with ChangeLink"
                )
                raise ScenarioError(f"{what}: link {network.nodes[a]}→{network.nodes[b]} exists already; {how}")
        defaults = LinkDefaults()
        values = {k: getattr(defaults, k) for k in ("capacity", "delay", "buffer", "weight")}
        values.update(_link_values(self, what))
        n, q = len(full.link_src), len(full.queue_buffer)
        k = len(pairs)
        links = dataclasses.replace(
            full,
            link_src=np.append(full.link_src, [a for a, _ in pairs]),
            link_dst=np.append(full.link_dst, [b for _, b in pairs]),
            capacity=np.append(full.capacity, [values["capacity"]] * k),
            delay=np.append(full.delay, [values["delay"]] * k),
            buffer=np.append(full.buffer, [int(values["buffer"])] * k),
            weight=np.append(full.weight, [values["weight"]] * k),
            policy=np.append(full.policy, [FIFO] * k),
            queue_ptr=np.append(full.queue_ptr, q + np.arange(1, k + 1)),
            queue_buffer=np.append(full.queue_buffer, [int(values["buffer"])] * k),
            queue_weight=np.append(full.queue_weight, [0.0] * k),
        )
        state = dataclasses.replace(state, links=links)
        return _relink(network, state, state.links_down, state.nodes_down, range(n, n + k), "error", what)


# ----------------------------------------------------------------------------------------------------------- flows


@dataclass(frozen=True)
class ChangeRate(Edit):
    """Scale flow ``flow``'s traffic to the mean ``rate`` (bit/s or ``"10Mbps"``), keeping its law: an on/off
    flow keeps its periods, a ppbp flow its burst arrivals (see :meth:`~nettwin.scenario.traffic.Traffic.thinned`)."""

    flow: int
    rate: float | str

    def apply(self, network: Network) -> Network:
        what = _name(self)
        i = _flow(network, self.flow, what)
        rate = _number(parse_rate, self.rate, f"{what}.rate")
        if not 0 < rate <= MAX_RATE:
            raise ScenarioError(f"{what}.rate: must be > 0 and at most {format_rate(MAX_RATE)}, got {self.rate!r}")
        f = network.flows[i]
        traffic = f.traffic.thinned(rate / f.traffic.mean_rate)
        if not traffic.rate <= MAX_RATE:
            raise ScenarioError(
                f"{what}.rate: {format_rate(rate)} on average needs a sending rate of {format_rate(traffic.rate)}, "
                f"above {format_rate(MAX_RATE)}"
            )
        state = _state(network)
        return _set_flow(network, state, i, dataclasses.replace(f, traffic=traffic), state.pinned[i])


@dataclass(frozen=True)
class ChangeDestination(Edit):
    """Send flow ``flow`` to node ``dst`` instead, routed by the network's routing (its pinned paths, if any,
    no longer apply)."""

    flow: int
    dst: NodeRef

    def apply(self, network: Network) -> Network:
        what = _name(self)
        i = _flow(network, self.flow, what)
        state = _state(network)
        f = network.flows[i]
        t = _node(network, self.dst, f"{what}.dst")
        _check_ends(network, state, f.src, t, what)
        return _set_routed(network, state, i, t, what)


@dataclass(frozen=True)
class ChangePaths(Edit):
    """Pin flow ``flow`` to ``paths`` (each a list of nodes from its source to its destination) with ``shares``
    (default equal; normalised to sum 1); ``paths=None`` hands it back to routing. Under ``routing.split: flow`` a
    flow given several paths takes one, drawn by the shares from its hash (as the scenario format does)."""

    flow: int
    paths: Sequence[Sequence[NodeRef]] | None
    shares: Sequence[float] | None = None

    def apply(self, network: Network) -> Network:
        what = _name(self)
        i = _flow(network, self.flow, what)
        state = _state(network)
        f = network.flows[i]
        if self.paths is None:
            return _set_routed(network, state, i, f.dst, what)
        for k, p in enumerate(self.paths):
            if isinstance(p, str) or not isinstance(p, Sequence):
                raise ScenarioError(f"{what}.paths[{k}]: a path is a list of nodes, got {p!r}")
        where = _where(network)
        paths = tuple(
            resolve_path(p, f.src, f.dst, network.nodes, where, f"{what}.paths[{k}]") for k, p in enumerate(self.paths)
        )
        shares = tuple(self.shares) if self.shares is not None else (1.0,) * len(paths)
        flow = _make_flow(network, f.src, f.dst, f.traffic, f.tos, (paths, shares), int(state.flow_id[i]), what)
        return _set_flow(network, state, i, flow, _to_ids(state, (flow.routes, flow.route_shares)))


@dataclass(frozen=True)
class AddFlow(Edit):
    """Add a flow, given as a :class:`~nettwin.scenario.spec.FlowSpec` or the mapping a scenario file would hold
    (``{src, dst, traffic, path | paths, tos}``); it goes last, with the next unused flow id."""

    flow: FlowSpec | Mapping[str, Any]

    def apply(self, network: Network) -> Network:
        what = _name(self)
        spec = _flow_spec(self.flow, what)
        state = _state(network)
        nodes = network.nodes
        s = node_index(spec.src, nodes, f"{what}.src")
        t = node_index(spec.dst, nodes, f"{what}.dst")
        _check_ends(network, state, s, t, what)
        fid = state.next_flow_id
        if spec.path is None and spec.paths is None:
            routes, pinned = _route(network, [(s, t)], what)[0], False
        else:
            where = _where(network)
            given = (
                {f"{what}.flow.path": spec.path}
                if spec.path is not None
                else {f"{what}.flow.paths[{k}].path": p.path for k, p in enumerate(spec.paths)}
            )
            paths = tuple(resolve_path(p, s, t, nodes, where, field) for field, p in given.items())
            routes, pinned = (paths, (1.0,) if spec.paths is None else tuple(p.share for p in spec.paths)), True
        flow = _make_flow(network, s, t, spec.traffic, spec.tos, routes, fid, what)
        state = dataclasses.replace(
            state,
            flow_id=np.append(state.flow_id, fid),
            pinned=(*state.pinned, _to_ids(state, (flow.routes, flow.route_shares)) if pinned else None),
            next_flow_id=fid + 1,
        )
        return _with_flows(network, state, (*network.flows, flow))


@dataclass(frozen=True)
class RemoveFlow(Edit):
    """Take flow ``flow`` out of the network; the flows after it move one index down (their ids stay)."""

    flow: int

    def apply(self, network: Network) -> Network:
        what = _name(self)
        i = _flow(network, self.flow, what)
        if network.n_flows == 1:
            raise ScenarioError(f"{what}.flow: flow {i} is the network's only flow; a network carries at least one")
        state = _state(network)
        state = dataclasses.replace(
            state, flow_id=np.delete(state.flow_id, i), pinned=state.pinned[:i] + state.pinned[i + 1 :]
        )
        return _with_flows(network, state, network.flows[:i] + network.flows[i + 1 :])


# ------------------------------------------------------------------------------------------------- back to a file


def to_scenario(network: Network) -> Scenario:
    """``network`` as an explicit scenario: its nodes (with positions), its links with their attributes and
    schedulers, every flow with its paths and shares, its routing and simulation settings, so that
    :func:`~nettwin.scenario.network.build_network` of it gives the same network (link and flow ids start afresh,
    failed links are left out, and every flow is pinned to the paths it has).

    Raises
    ------
    ScenarioError
        If the network is wireless (its links follow radio settings a network does not hold), a flow uses the
        second of two parallel links (a scenario's path names nodes), or the result is not a valid scenario.
    """
    if network.medium != "wired":
        raise ScenarioError("to_scenario: writes wired networks; a wireless network's links follow its radio settings")
    names = network.nodes
    if network.positions is None:
        nodes: list[Any] = list(names)
    else:
        nodes = [
            {"name": n, "x": float(x), "y": float(y)}
            for n, (x, y) in zip(names, network.positions.tolist(), strict=True)
        ]
    links = []
    for i in range(network.n_links):
        link: dict[str, Any] = {
            "src": names[network.link_src[i]],
            "dst": names[network.link_dst[i]],
            "capacity": float(network.capacity[i]),
            "delay": float(network.delay[i]),
            "buffer": int(network.buffer[i]),
            "weight": float(network.weight[i]),
            "bidirectional": False,
        }
        if network.policy[i] != FIFO:
            policy = SCHEDULING_POLICIES[network.policy[i]]
            queues = range(network.queue_ptr[i], network.queue_ptr[i + 1])
            link["scheduler"] = {
                "policy": policy,
                "queues": [
                    {"buffer": int(network.queue_buffer[q])}
                    | ({"weight": float(network.queue_weight[q])} if policy in WEIGHTED_POLICIES else {})
                    for q in queues
                ],
            }
        links.append(link)
    first = _where(network)
    flows = []
    for i, f in enumerate(network.flows):
        spec: dict[str, Any] = {"src": names[f.src], "dst": names[f.dst], "traffic": f.traffic, "tos": f.tos}
        for p in f.routes:
            for link in p:
                if first[(int(network.link_src[link]), int(network.link_dst[link]))] != link:
                    raise ScenarioError(
                        f"to_scenario: flow {i} uses the second of parallel links {_link_name(network, link)}; a "
                        "scenario's path names nodes, so it cannot say which"
                    )
        paths = [[names[n] for n in nodes] for nodes in network.route_nodes(i)]
        if f.splits:
            spec["paths"] = [{"path": p, "share": s} for p, s in zip(paths, f.route_shares, strict=True)]
        else:
            spec["path"] = paths[0]
        flows.append(spec)
    return parse_scenario(
        {
            "name": network.name,
            "topology": {"nodes": nodes, "links": links},
            "flows": flows,
            "routing": network.routing,
            "simulation": network.simulation,
        },
        "to_scenario",
    )


# --------------------------------------------------------------------------------------------------------- helpers


def _name(edit: Edit) -> str:
    return type(edit).__name__


def _state(network: Network) -> EditState:
    """The network's edit state, or a new one (ids = indices) for a network as built or changed by other means."""
    state = network.edit_state
    if state is not None and state.link_src is network.link_src and state.flows is network.flows:
        return state
    if network.medium != "wired":
        raise ScenarioError("network edits apply to wired networks; a wireless network's links follow its radio")
    links = Links(
        nodes=network.nodes,
        link_src=network.link_src,
        link_dst=network.link_dst,
        capacity=network.capacity,
        delay=network.delay,
        buffer=network.buffer,
        weight=network.weight,
        positions=network.positions,
        policy=network.policy,
        queue_ptr=network.queue_ptr,
        queue_buffer=network.queue_buffer,
        queue_weight=network.queue_weight,
    )
    sc = network.scenario
    if sc is not None and len(sc.flows) == network.n_flows:
        pinned = tuple(
            None if fs.path is None and fs.paths is None else (f.routes, f.route_shares)
            for fs, f in zip(sc.flows, network.flows, strict=True)
        )
    else:
        pinned = tuple((f.routes, f.route_shares) for f in network.flows)
    return EditState(
        links=links,
        link_id=np.arange(network.n_links, dtype=np.int64),
        links_down=frozenset(),
        nodes_down=frozenset(),
        flow_id=np.arange(network.n_flows, dtype=np.int64),
        pinned=pinned,
        stranded=(),
        next_flow_id=network.n_flows,
        link_src=network.link_src,
        flows=network.flows,
    )


def _check_lost(edit: FailLink | FailNode) -> None:
    if edit.unreachable not in ("error", "drop"):
        raise ScenarioError(f"{_name(edit)}.unreachable: 'error' or 'drop', got {edit.unreachable!r}")


def _node(network: Network, ref: NodeRef, where: str) -> int:
    return node_index(ref, network.nodes, where)


def _flow(network: Network, index: int, what: str) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= index < network.n_flows:
        raise ScenarioError(f"{what}.flow: no flow {index!r} (the network has flows 0..{network.n_flows - 1})")
    return int(index)


def _number(parse, value: object, where: str) -> float:
    try:
        return parse(value)
    except ScenarioError as err:
        raise ScenarioError(f"{where}: {err}") from err


def _link_values(edit: _LinkEdit, what: str) -> dict[str, float]:
    """The link attributes ``edit`` gives, in SI, checked as the scenario format checks them."""
    values: dict[str, float] = {}
    if edit.capacity is not None:
        values["capacity"] = c = _number(parse_rate, edit.capacity, f"{what}.capacity")
        if not 0 < c <= MAX_RATE:
            raise ScenarioError(f"{what}.capacity: must be > 0 and at most {format_rate(MAX_RATE)}, got {c:g} bit/s")
    if edit.delay is not None:
        values["delay"] = d = _number(parse_time, edit.delay, f"{what}.delay")
        if not 0 <= d <= MAX_DURATION:
            raise ScenarioError(f"{what}.delay: must be >= 0 and at most {MAX_DURATION:g} s, got {d:g} s")
    if edit.buffer is not None:
        values["buffer"] = b = _number(parse_count, edit.buffer, f"{what}.buffer")
        if not 0 <= b <= MAX_BUFFER:
            raise ScenarioError(f"{what}.buffer: must be between 0 and {MAX_BUFFER} packets, got {b}")
    if edit.weight is not None:
        w = edit.weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 < w < np.inf:
            raise ScenarioError(f"{what}.weight: must be a finite number > 0, got {w!r}")
        values["weight"] = float(w)
    if not values and isinstance(edit, ChangeLink):
        raise ScenarioError(f"{what}: give capacity, delay, buffer or weight")
    return values


def _find(links: Links | Network, u: int, v: int) -> int:
    """The index of the first link ``u→v`` (-1 if none)."""
    hits = np.flatnonzero((links.link_src == u) & (links.link_dst == v))
    return int(hits[0]) if len(hits) else -1


def _link_ids(network: Network, state: EditState, edit: Any, live: bool) -> frozenset[int]:
    """The ids of the links ``edit.src→edit.dst`` (both ways if bidirectional) that must be up (``live``) or down."""
    what = _name(edit)
    u = _node(network, edit.src, f"{what}.src")
    v = _node(network, edit.dst, f"{what}.dst")
    ids = set()
    for a, b in ((u, v), (v, u)) if edit.bidirectional else ((u, v),):
        name = f"{network.nodes[a]}→{network.nodes[b]}"
        i = _find(network, a, b)
        if live:
            if i < 0:
                k = _find(state.links, a, b)
                why = "is down" if k >= 0 else "does not exist"
                raise ScenarioError(f"{what}: link {name} {why}")
            ids.add(int(state.link_id[i]))
        else:
            k = _find(state.links, a, b)
            if k < 0:
                raise ScenarioError(f"{what}: link {name} does not exist")
            if k not in state.links_down:
                why = "is up" if i >= 0 else "is down with its node; restore the node"
                raise ScenarioError(f"{what}: link {name} {why}")
            ids.add(k)
    return frozenset(ids)


def _link_name(network: Network, i: int) -> str:
    return f"{network.nodes[network.link_src[i]]}→{network.nodes[network.link_dst[i]]}"


def _where(network: Network) -> dict[tuple[int, int], int]:
    """``(src, dst) → index`` of the first link between them."""
    pairs = zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True)
    return {e: i for i, e in reversed(list(enumerate(pairs)))}


def _check_ends(network: Network, state: EditState, s: int, t: int, what: str) -> None:
    if s == t:
        raise ScenarioError(f"{what}: src and dst are the same node '{network.nodes[s]}'")
    for n in (s, t):
        if n in state.nodes_down:
            raise ScenarioError(f"{what}: node '{network.nodes[n]}' is down")


def _flow_spec(flow: FlowSpec | Mapping[str, Any], what: str) -> FlowSpec:
    if isinstance(flow, FlowSpec):
        return flow
    try:
        return FlowSpec.model_validate(flow)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, f"{what}.flow.")) from err


def _to_ids(state: EditState, routes: Routes) -> Routes:
    """Paths of link indices as paths of link ids."""
    ids = state.link_id
    return tuple(tuple(int(ids[link]) for link in p) for p in routes[0]), routes[1]


def _make_flow(
    network: Network, s: int, t: int, traffic, tos: int, routes: Routes, fid: int, what: str | None = None
) -> Flow:
    """A flow on ``routes``; one path drawn by its hash under ``routing.split: flow``."""
    paths, shares = routes
    if network.routing.split == "flow" and len(paths) > 1:
        pick = flow_hash_path(shares, network.simulation.seed, fid)
        paths, shares = (paths[pick],), (1.0,)
    try:
        return split_flow(s, t, traffic, paths, shares, tos)
    except ScenarioError as err:
        if what is None:
            raise
        raise ScenarioError(f"{what}: {err}") from err


def _route(network: Network, pairs: list[tuple[int, int]], what: str) -> list[Routes]:
    """Each pair's paths and shares by the network's routing over its links."""
    routing = network.routing
    cost = routing_cost(routing.weight, network)
    args = (network.n_nodes, network.link_src, network.link_dst, cost, pairs)
    try:
        # After failures some nodes cannot reach a destination: routing compares their infinite distances.
        with np.errstate(invalid="ignore"):
            if routing.policy == "ecmp":
                return ecmp_paths(*args, routing.max_paths, network.nodes)
            found = shortest_paths(*args, network.nodes)
    except ScenarioError as err:
        raise type(err)(f"{what}: {err}") from err
    return [((p,), (1.0,)) for p in found]


def _graph(network: Network, cost: np.ndarray) -> csr_matrix:
    """The links as a sparse matrix of costs, the cheapest of parallel links kept."""
    n = network.n_nodes
    order = np.lexsort((cost, network.link_dst, network.link_src))
    key = network.link_src[order] * n + network.link_dst[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    keep = order[first]
    return csr_matrix((cost[keep], (network.link_src[keep], network.link_dst[keep])), shape=(n, n))


def _shortcuts(network: Network, links: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(F,) the cost of the cheapest ``src[f]``→``dst[f]`` path over some link of ``links`` (indices), by routing's
    cost (inf where none).

    Only a flow whose current cost this reaches can change its routes when these links appear or get cheaper: for
    every other flow, no path through them is as short as the one it has.
    """
    if len(links) == 0:
        return np.full(len(src), np.inf)
    cost = routing_cost(network.routing.weight, network)
    graph = _graph(network, cost)
    to_u = dijkstra(graph.T.tocsr(), directed=True, indices=network.link_src[links])
    from_v = dijkstra(graph, directed=True, indices=network.link_dst[links])
    return np.min(to_u[:, src] + cost[links][:, None] + from_v[:, dst], axis=0)


def _reachable(network: Network, pairs: list[tuple[int, int]]) -> list[bool]:
    dests = sorted({t for _, t in pairs})
    graph = _graph(network, np.ones(network.n_links)).T.tocsr()
    hops = dict(zip(dests, dijkstra(graph, directed=True, indices=dests, unweighted=True), strict=True))
    return [bool(np.isfinite(hops[t][s])) for s, t in pairs]


def _live_arrays(full: Links, ids: np.ndarray) -> dict[str, np.ndarray]:
    """The link arrays of the links ``ids`` of ``full``, queues gathered."""
    q0 = full.queue_ptr[ids]
    counts = full.queue_ptr[ids + 1] - q0
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    queues = np.repeat(q0 - ptr[:-1], counts) + np.arange(ptr[-1])
    return {
        "link_src": full.link_src[ids],
        "link_dst": full.link_dst[ids],
        "capacity": full.capacity[ids],
        "delay": full.delay[ids],
        "buffer": full.buffer[ids],
        "weight": full.weight[ids],
        "policy": full.policy[ids],
        "queue_ptr": ptr,
        "queue_buffer": full.queue_buffer[queues],
        "queue_weight": full.queue_weight[queues],
    }


def _relink(
    network: Network,
    state: EditState,
    links_down: frozenset[int],
    nodes_down: frozenset[int],
    cheaper: Iterable[int],
    unreachable: Lost,
    what: str,
    before: Network | None = None,
) -> Network:
    """``network`` with the links up that are not in ``links_down`` nor at a node of ``nodes_down`` (and the links
    of ids ``cheaper`` changed in cost), its flows rerouted where that changes routing's choice or breaks a path.

    ``before``: the network with the links' former costs, where ``network`` already has their new ones (the same
    links); by default ``network``.
    """
    full = state.links
    alive = np.ones(len(full.link_src), dtype=bool)
    alive[list(links_down)] = False
    if nodes_down:
        down = np.fromiter(nodes_down, dtype=np.int64)
        alive &= ~(np.isin(full.link_src, down) | np.isin(full.link_dst, down))
    ids = np.flatnonzero(alive)
    old_ids = state.link_id
    index = np.full(len(alive), -1, dtype=np.int64)
    index[ids] = np.arange(len(ids))
    if before is not None or np.array_equal(ids, old_ids):
        edited = network
    else:
        edited = dataclasses.replace(network, **_live_arrays(full, ids))
    remap = index[old_ids].tolist()  # old link index -> new link index (-1 when down)

    def was_alive() -> np.ndarray:
        up = np.zeros(len(alive), dtype=bool)
        up[old_ids] = True
        return up

    moved = next((i for i, j in enumerate(remap) if i != j), len(remap))
    changed = np.union1d(np.setdiff1d(ids, old_ids), np.asarray(list(cheaper), dtype=np.int64))
    gone = set(np.setdiff1d(old_ids, ids).tolist()) | set(changed.tolist())  # ids whose state or cost changed
    gone_old = {int(i) for i in np.flatnonzero(np.isin(old_ids, list(gone)))}  # ... as old link indices
    # A flow hashed onto one of its equal-cost paths (ECMP, split: flow) draws again when a path it did not take
    # goes or changes cost: the draw depends on all of them.
    hashed = network.routing.policy == "ecmp" and network.routing.split == "flow" and bool(gone_old)
    shortcut: dict[int, float] = {}  # flows a path over a changed link reaches: the cheapest such path's cost
    if len(changed) or hashed:
        ends = np.array([(f.src, f.dst) for f in network.flows], dtype=np.int64).reshape(-1, 2)
        found = _shortcuts(edited, index[changed][index[changed] >= 0], ends[:, 0], ends[:, 1])
        if hashed:
            former = network if before is None else before
            found = np.minimum(found, _shortcuts(former, np.array(sorted(gone_old)), ends[:, 0], ends[:, 1]))
        near = np.flatnonzero(np.isfinite(found))
        shortcut = dict(zip(near.tolist(), found[near].tolist(), strict=True))
        cost = routing_cost(network.routing.weight, network).tolist()

    def gains(i: int, f: Flow) -> bool:
        """Whether a path over a new or cheaper link is as short as flow ``i``'s (old link indices)."""
        now = sum(cost[link] for link in f.path)
        return shortcut[i] <= now + 1e-9 * max(1.0, now)

    keep: list[tuple[int, Flow, Routes | None]] = []
    reroute: list[int] = []  # positions in keep to route afresh
    lost: list[tuple[int, int, Flow, Routes | None]] = []  # (old index, id, flow, pinned)
    for i, (f, fid, pin) in enumerate(zip(network.flows, state.flow_id.tolist(), state.pinned, strict=True)):
        if f.src in nodes_down or f.dst in nodes_down:
            lost.append((i, fid, f, pin))
            continue
        uses_gone = bool(gone_old) and any(not gone_old.isdisjoint(p) for p in (f.paths or (f.path,)))
        if pin is not None and any(not gone.isdisjoint(p) for p in pin[0]):
            own = _alive_pinned(pin, alive, index)
            if own[0]:
                keep.append((fid, split_flow(f.src, f.dst, f.traffic, own[0], own[1], f.tos), pin))
                continue
            reroute.append(len(keep))
        elif uses_gone or (
            i in shortcut and gains(i, f) and (pin is None or not _alive_pinned(pin, was_alive(), None)[0])
        ):
            # (a pinned flow whose own paths this edit leaves as they were uses a changed link only while routing
            # carries it; a shorter path matters to it only then)
            reroute.append(len(keep))
        elif max(f.path) >= moved or any(max(p) >= moved for p in f.paths):
            f = _remapped(f, remap)
        keep.append((fid, f, pin))

    if reroute:
        pairs = [(keep[k][1].src, keep[k][1].dst) for k in reroute]
        routes = _route_reachable(edited, pairs, what)
        for k, r in zip(reroute, routes, strict=True):
            fid, f, pin = keep[k]
            if r is None:
                lost.append((-1, fid, f, pin))
                keep[k] = None  # type: ignore[call-overload]
            else:
                keep[k] = (fid, _make_flow(edited, f.src, f.dst, f.traffic, f.tos, r, fid), pin)
        keep = [k for k in keep if k is not None]
    if lost and unreachable == "error":
        lost.sort(key=lambda x: x[1])
        _, fid, f, _ = lost[0]
        i = int(np.searchsorted(state.flow_id, fid))
        who = f"flow {i} ({network.nodes[f.src]}→{network.nodes[f.dst]})"
        if len(lost) > 1:
            who = f"flows {who[5:]} and {len(lost) - 1} more"
        raise Unreachable(
            f"{what}: {who} would lose {'their' if len(lost) > 1 else 'its'} destination; give unreachable='drop' to "
            "set such flows aside until their destination is reachable again"
        )
    stranded = [(fid, f, pin) for _, fid, f, pin in lost]
    if state.stranded and len(changed):
        back = []
        for fid, f, pin in state.stranded:
            if f.src in nodes_down or f.dst in nodes_down:
                stranded.append((fid, f, pin))
            else:
                back.append((fid, f, pin))
        if back:
            routes = _route_reachable(edited, [(f.src, f.dst) for _, f, _ in back], what)
            for (fid, f, pin), r in zip(back, routes, strict=True):
                own = _alive_pinned(pin, alive, index) if pin is not None else ((), ())
                if own[0]:
                    keep.append((fid, split_flow(f.src, f.dst, f.traffic, own[0], own[1], f.tos), pin))
                elif r is not None:
                    keep.append((fid, _make_flow(edited, f.src, f.dst, f.traffic, f.tos, r, fid), pin))
                else:
                    stranded.append((fid, f, pin))
            keep.sort(key=lambda x: x[0])
    elif state.stranded:
        stranded.extend(state.stranded)
    stranded.sort(key=lambda x: x[0])

    flows = tuple(f for _, f, _ in keep)
    if len(flows) == len(network.flows) and all(a is b for a, b in zip(flows, network.flows, strict=True)):
        flows = network.flows
    new_state = dataclasses.replace(
        state,
        link_id=ids if edited is not network else state.link_id,
        links_down=links_down,
        nodes_down=nodes_down,
        flow_id=np.fromiter((fid for fid, _, _ in keep), dtype=np.int64, count=len(keep)),
        pinned=tuple(pin for _, _, pin in keep),
        stranded=tuple(stranded),
        link_src=edited.link_src,
        flows=flows,
    )
    result = dataclasses.replace(edited, flows=flows, scenario=None, edit_state=new_state)
    if result.scheduled:
        try:
            check_classes(flows, result)
        except ScenarioError as err:
            raise ScenarioError(f"{what}: {err}") from err
    return result


def _alive_pinned(pin: Routes, alive: np.ndarray, index: np.ndarray | None) -> Routes:
    """The pinned paths whose links are all up, as link indices (or ids, without ``index``), with their shares."""
    paths, shares = [], []
    for p, s in zip(*pin, strict=True):
        if all(alive[link] for link in p):
            paths.append(p if index is None else tuple(int(index[link]) for link in p))
            shares.append(s)
    return tuple(paths), tuple(shares)


def _route_reachable(network: Network, pairs: list[tuple[int, int]], what: str) -> list[Routes | None]:
    """Routing's paths of each pair, None for a pair whose destination cannot be reached."""
    try:
        return list(_route(network, pairs, what))
    except Unreachable:
        ok = _reachable(network, pairs)
        found = iter(_route(network, [p for p, r in zip(pairs, ok, strict=True) if r], what))
        return [next(found) if r else None for r in ok]


def _remapped(flow: Flow, remap: list[int]) -> Flow:
    """``flow`` with its link indices renumbered."""
    at = remap.__getitem__
    paths = tuple(tuple(map(at, p)) for p in flow.paths)
    return Flow(flow.src, flow.dst, flow.traffic, tuple(map(at, flow.path)), flow.tos, paths, flow.shares)


def _set_flow(network: Network, state: EditState, i: int, flow: Flow, pinned: Routes | None) -> Network:
    flows = (*network.flows[:i], flow, *network.flows[i + 1 :])
    state = dataclasses.replace(state, pinned=(*state.pinned[:i], pinned, *state.pinned[i + 1 :]))
    if network.scheduled:
        check_classes((flow,), network, i)
    return _with_flows(network, state, flows)


def _set_routed(network: Network, state: EditState, i: int, dst: int, what: str) -> Network:
    """``network`` with flow ``i`` sent to ``dst`` on the paths routing gives it (unpinned)."""
    f = network.flows[i]
    routes = _route(network, [(f.src, dst)], what)[0]
    flow = _make_flow(network, f.src, dst, f.traffic, f.tos, routes, int(state.flow_id[i]))
    return _set_flow(network, state, i, flow, None)


def _with_flows(network: Network, state: EditState, flows: tuple[Flow, ...]) -> Network:
    if network.scheduled and len(flows) > network.n_flows:
        check_classes(flows[-1:], network, len(flows) - 1)
    state = dataclasses.replace(state, flows=flows, link_src=network.link_src)
    return dataclasses.replace(network, flows=flows, scenario=None, edit_state=state)
