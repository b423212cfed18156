"""The scenario format: a validated description of a network, its flows, routing and simulation settings.

Values are accepted in human units (``10Mbps``, ``2ms``, ``1500B``) or plain SI numbers and stored in SI.
Unknown keys are errors. :func:`nettwin.scenario.load_scenario` reads YAML/JSON files.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    NonNegativeInt,
    PlainValidator,
    PositiveInt,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from nettwin.scenario._model import StrictModel, at_most, field_error
from nettwin.scenario.limits import MAX_BUFFER, MAX_COORDINATE, MAX_NODES, MAX_PATHS, MAX_SEED
from nettwin.scenario.traffic import Traffic
from nettwin.scenario.units import Distance, Duration, Rate, format_time, parse_count

__all__ = [
    "NodeRef",
    "NodeSpec",
    "NodeEntry",
    "NODE_FORMS",
    "TEMPLATE",
    "QueueSpec",
    "SchedulerSpec",
    "SCHEDULING_POLICIES",
    "WEIGHTED_POLICIES",
    "MAX_QUEUES",
    "LinkSpec",
    "LinkDefaults",
    "GridSpec",
    "RandomTopologySpec",
    "WirelessSpec",
    "WIFI_RATES",
    "TOPOLOGY_SOURCES",
    "TopologySpec",
    "FlowSpec",
    "WeightedPath",
    "SHARE_TOLERANCE",
    "RoutingSpec",
    "SimulationSpec",
    "Scenario",
]

NODE_FORMS = "a node is a name, a number, or {name, x, y}"
"""What ``topology.nodes`` accepts, as error messages say it."""

TEMPLATE = "template"
"""Validation context key: the scenario is a template (a dataset's base), not one to simulate as it is."""

_MAX_NODE_NUMBER = 2**63
"""Node numbers are 64-bit, as node ids are everywhere else (files, arrays)."""


def _node_number(value: object) -> int | None:
    """``value`` as a node number (a whole number, not a boolean), or None if it is not one."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if abs(int(value)) >= _MAX_NODE_NUMBER:
            raise ValueError(f"node number {value} is out of range (at most 2**63 - 1 in magnitude)")
        return int(value)
    return None


def _node_ref(value: object) -> int | str:
    number = _node_number(value)
    if number is not None:
        return number
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"a node is a name or a number, got {value!r}")


def _node_name(value: object) -> object:
    number = _node_number(value)
    if number is not None:
        return str(number)
    if isinstance(value, bool) or value == "":
        raise ValueError(f"a node name is a non-empty string or a number, got {value!r}")
    return value


NodeRef = Annotated[int | str, PlainValidator(_node_ref)]
"""A node named by its name, or by a number: the node of that name when the topology's nodes are named by numbers,
else the node at that index (0-based). See :func:`nettwin.scenario.network.node_index`."""

NodeName = Annotated[str, BeforeValidator(_node_name)]
"""A node's name; a number is taken as its decimal text (``0`` names the node ``"0"``)."""

Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
Metres = Annotated[Distance, Field(ge=0), at_most(MAX_COORDINATE, "10,000 km")]
"""A distance in metres; accepts ``"30m"``-style strings."""


class NodeSpec(StrictModel):
    """A node of an explicit topology; ``x``/``y`` are positions in metres (needed for wireless)."""

    name: NodeName
    x: Coordinate | None = None
    y: Coordinate | None = None

    @model_validator(mode="before")
    @classmethod
    def _needs_name(cls, value: object) -> object:
        if isinstance(value, Mapping) and "name" not in value:
            raise ValueError(f"{NODE_FORMS}, got {dict(value)!r}")
        return value


def _node_entry_kind(value: object) -> str | None:
    if isinstance(value, Mapping | NodeSpec):
        return "NodeSpec"
    if isinstance(value, str) or _node_number(value) is not None:
        return "str"
    return None


NodeEntry = Annotated[
    Annotated[NodeSpec, Tag("NodeSpec")] | Annotated[NodeName, Tag("str")],
    Discriminator(_node_entry_kind, custom_error_type="node", custom_error_message=NODE_FORMS),
]
"""An entry of ``topology.nodes``: a name, a number (kept as its decimal text), or a :class:`NodeSpec`."""


Buffer = Annotated[NonNegativeInt, at_most(MAX_BUFFER, "a million packets, beyond any router", str)]
Seed = Annotated[
    NonNegativeInt, at_most(MAX_SEED, "a signed 64-bit integer", lambda v: "2**63 - 1" if v == MAX_SEED else str(v))
]
"""A seed: a non-negative 64-bit integer."""


class _QueueSize(StrictModel):
    """``buffer`` or ``queue``: a link's queue counted without or with the packet being sent.

    ``buffer`` counts the packets that may wait, excluding the one being sent (as ns-3's DropTail queue); ``queue``
    counts every packet the link holds, the one being sent included (the K of M/M/1/K; datanet's queue size), so
    ``queue: K`` is ``buffer: K − 1``. A file gives one or the other; ``queue`` is read into ``buffer`` and left
    unset.
    """

    @model_validator(mode="before")
    @classmethod
    def _queue_as_buffer(cls, value: object) -> object:
        if not isinstance(value, Mapping) or value.get("queue") is None:
            return value
        if value.get("buffer") is not None:
            raise field_error(
                ("queue",),
                "give buffer (packets waiting, excluding the one being sent) or queue (all packets, the one being "
                "sent included), not both",
                value["queue"],
            )
        try:
            queue = parse_count(value["queue"])
        except ValueError as err:
            raise field_error(("queue",), str(err), value["queue"]) from err
        if not 1 <= queue <= MAX_BUFFER + 1:
            raise field_error(
                ("queue",),
                f"must be between 1 (the packet being sent) and {MAX_BUFFER + 1}, got {queue}",
                value["queue"],
            )
        return {**value, "buffer": queue - 1, "queue": None}


SCHEDULING_POLICIES = ("fifo", "sp", "wfq", "drr")
"""Output-port scheduling policies; a policy's index here is its code in :class:`nettwin.scenario.network.Network`."""

WEIGHTED_POLICIES = ("wfq", "drr")
"""The policies that share a link by weight (every queue needs one); the others refuse weights."""

MAX_QUEUES = 64
"""Most queues (traffic classes) one output port may have."""

MAX_WEIGHT_RATIO = 1e6
"""Largest ratio of two queue weights of one port: finer shares than a millionth are not a scheduling policy."""

Tos = Annotated[NonNegativeInt, at_most(MAX_QUEUES - 1, f"a port has at most {MAX_QUEUES} queues", str)]


class QueueSpec(_QueueSize):
    """One queue (traffic class) of a scheduled output port.

    Its size is ``buffer`` (packets of its class that may wait, the one being sent not counted) or ``queue``
    (``queue: K`` is ``buffer: K − 1``); without either it takes the link's ``buffer``. ``weight`` is its share
    under ``wfq`` and ``drr`` (relative to the port's other queues) and is refused under ``fifo`` and ``sp``.
    """

    buffer: Buffer | None = None
    queue: Buffer | None = None
    weight: Annotated[float, Field(gt=0)] | None = None


class SchedulerSpec(StrictModel):
    """How an output port serves its queues: ``fifo`` (one queue, every class in it), ``sp`` (strict priority,
    queue 0 first, non-preemptive), ``wfq`` (self-clocked fair queueing) or ``drr`` (deficit round robin), the
    last two sharing the link by queue weight. Class ``c`` (a flow's ``tos``) is queue ``c`` of a non-FIFO port.
    """

    policy: Literal["fifo", "sp", "wfq", "drr"]
    queues: Annotated[list[QueueSpec], Field(min_length=1, max_length=MAX_QUEUES)] = [QueueSpec()]

    @model_validator(mode="after")
    def _weights(self) -> SchedulerSpec:
        if self.policy == "fifo" and len(self.queues) > 1:
            raise field_error(
                ("queues",),
                f"fifo serves one queue, got {len(self.queues)}; use sp, wfq or drr to serve classes in queues of "
                "their own",
                len(self.queues),
            )
        weighted = self.policy in WEIGHTED_POLICIES
        for i, q in enumerate(self.queues):
            if weighted and q.weight is None:
                raise field_error(
                    ("queues", i, "weight"), f"{self.policy} shares the link by weight: give every queue one", None
                )
            if not weighted and q.weight is not None:
                raise field_error(
                    ("queues", i, "weight"),
                    f"{self.policy} does not use weights (only {' and '.join(WEIGHTED_POLICIES)} do); leave it out",
                    q.weight,
                )
        if weighted:
            weights = [q.weight for q in self.queues]
            if max(weights) > MAX_WEIGHT_RATIO * min(weights):  # type: ignore[type-var, operator]
                raise field_error(
                    ("queues",),
                    f"the largest weight is {max(weights) / min(weights):.3g} times the smallest "  # type: ignore[type-var, operator]
                    f"(at most {MAX_WEIGHT_RATIO:g})",
                    weights,
                )
        return self


class LinkSpec(_QueueSize):
    """A link of an explicit topology, or an override of a link of any topology.

    With ``bidirectional`` (the default) it stands for both directions ``src→dst`` and ``dst→src``. Its queue is
    given as ``buffer`` or ``queue`` (see :class:`_QueueSize`); ``scheduler`` gives it several queues instead
    (see :class:`SchedulerSpec`; default one FIFO queue of ``buffer``).
    """

    src: NodeRef
    dst: NodeRef
    capacity: Annotated[Rate, Field(gt=0)] | None = None
    delay: Annotated[Duration, Field(ge=0)] | None = None
    buffer: Buffer | None = None
    queue: Buffer | None = None
    weight: Annotated[float, Field(gt=0)] | None = None
    scheduler: SchedulerSpec | None = None
    bidirectional: bool = True


class LinkDefaults(_QueueSize):
    """Link attributes used where neither the topology source nor an override gives one.

    ``buffer`` counts packets waiting, excluding the one being sent (as ns-3's DropTail queue); ``queue`` is the
    alternative that counts the packet being sent too (see :class:`_QueueSize`).
    """

    capacity: Annotated[Rate, Field(gt=0)] = 10e6
    delay: Annotated[Duration, Field(ge=0)] = 1e-3
    buffer: Buffer = 32
    queue: Buffer | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0
    scheduler: SchedulerSpec | None = None


class GridSpec(StrictModel):
    """A rows × cols lattice ``spacing`` metres apart; ``perturb`` moves each node randomly within that radius."""

    rows: PositiveInt
    cols: PositiveInt
    spacing: Annotated[Metres, Field(gt=0)] = 100.0
    perturb: Metres = 0.0
    seed: Seed = 0

    @model_validator(mode="after")
    def _size(self) -> GridSpec:
        if self.rows * self.cols > MAX_NODES:
            raise ValueError(
                f"a {self.rows} x {self.cols} grid has {self.rows * self.cols} nodes; at most {MAX_NODES} are "
                "accepted (a wireless medium compares every pair of nodes)"
            )
        return self


_RANDOM_PARAMETERS = {
    "waxman": ("alpha", "beta", "side"),
    "barabasi_albert": ("m",),
    "erdos_renyi": ("p",),
    "geometric": ("radius", "side"),
}


class RandomTopologySpec(StrictModel):
    """A connected random graph of ``nodes`` nodes drawn from ``seed`` by a networkx generator.

    ``waxman`` (``beta``, ``alpha``), ``barabasi_albert`` (``m``), ``erdos_renyi`` (``p``) or ``geometric``
    (``radius``, in units of the square's side); waxman and geometric nodes sit in a square of ``side`` metres.
    See :func:`nettwin.scenario.sources.random_topology` for the models, defaults and how the graph is connected.
    """

    model: Literal["waxman", "barabasi_albert", "erdos_renyi", "geometric"]
    nodes: Annotated[int, Field(ge=2), at_most(MAX_NODES, "the most nodes of a generated topology", str)]
    seed: Seed = 0
    alpha: Annotated[float, Field(gt=0)] | None = None
    beta: Annotated[float, Field(gt=0, le=1)] | None = None
    m: PositiveInt | None = None
    p: Annotated[float, Field(gt=0, le=1)] | None = None
    radius: Annotated[float, Field(gt=0)] | None = None
    side: Annotated[Metres, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _parameters(self) -> RandomTopologySpec:
        takes = _RANDOM_PARAMETERS[self.model]
        for key in ("alpha", "beta", "m", "p", "radius", "side"):
            if getattr(self, key) is not None and key not in takes:
                raise field_error(
                    (key,),
                    f"applies to {' and '.join(m for m, k in _RANDOM_PARAMETERS.items() if key in k)} "
                    f"graphs only, not {self.model}",
                    getattr(self, key),
                )
        if self.m is not None and self.m >= self.nodes:
            raise field_error(
                ("m",), f"each new node links to m of the others: at most nodes − 1 ({self.nodes - 1})", self.m
            )
        return self

    def parameters(self) -> dict[str, float]:
        """The model parameters given (keyword arguments of :func:`~nettwin.scenario.sources.random_topology`)."""
        return {k: getattr(self, k) for k in _RANDOM_PARAMETERS[self.model] if getattr(self, k) is not None}


WIFI_RATES = (1e6, 2e6, 5.5e6, 11e6)
"""The 802.11b (DSSS) rates in bit/s."""

DEFAULT_RX_SENSITIVITY = -101.0
"""ns-3's Wi-Fi receiver sensitivity (dBm), used when neither ``rx_sensitivity`` nor ``range`` is given."""


class WirelessSpec(StrictModel):
    """Radio model of a wireless medium: log-distance path loss ``PL(d) = reference_loss + 10·n·log10(d)`` dB.

    Two nodes are neighbours when the received power ``tx_power − PL(d)`` reaches the receiver sensitivity, i.e.
    when they are at most the radio range apart. Give the sensitivity (``rx_sensitivity``, dBm) or the range
    (``range``, m ≥ 1), not both: each determines the other through the path-loss model. The defaults are GLANCE's
    (n = 3, 46.67 dB at 1 m) with ns-3's Wi-Fi defaults for power (16.0206 dBm) and sensitivity (−101 dBm).
    ``rate`` is the 802.11b rate of data and control frames, and every wireless link's capacity.
    """

    exponent: Annotated[float, Field(gt=0)] = 3.0
    reference_loss: float = 46.67
    tx_power: float = 16.0206
    rx_sensitivity: float | None = None
    range: Annotated[Metres, Field(ge=1.0)] | None = None
    rate: Rate = 1e6

    @field_validator("rate")
    @classmethod
    def _dsss_rate(cls, v: float) -> float:
        if v not in WIFI_RATES:
            raise ValueError("802.11b sends at 1Mbps, 2Mbps, 5.5Mbps or 11Mbps")
        return v

    @model_validator(mode="after")
    def _finite_range(self) -> WirelessSpec:
        if self.range is not None:
            if self.rx_sensitivity is not None:
                raise field_error(
                    ("range",),
                    "give the radio range or rx_sensitivity, not both (each sets the other through the path-loss "
                    "model)",
                    self.range,
                )
            return self
        # log10 of the radio range (see wireless.radio_range); checked here so that the range is a finite number.
        reach = (self.tx_power - self.sensitivity - self.reference_loss) / (10.0 * self.exponent)
        if not reach <= math.log10(MAX_COORDINATE):
            raise ValueError(
                "these settings give a radio range beyond 10,000 km; check tx_power, rx_sensitivity, "
                "reference_loss and exponent"
            )
        return self

    @property
    def sensitivity(self) -> float:
        """Receiver sensitivity in dBm: ``rx_sensitivity``, or the power received at ``range``, or −101."""
        if self.range is not None:
            return self.tx_power - self.reference_loss - 10.0 * self.exponent * math.log10(self.range)
        return DEFAULT_RX_SENSITIVITY if self.rx_sensitivity is None else self.rx_sensitivity


TOPOLOGY_SOURCES = ("builtin", "topohub", "file", "grid", "random", "nodes")
"""The keys of :class:`TopologySpec` that name a topology source; a topology gives exactly one."""


class TopologySpec(StrictModel):
    """Where the topology comes from (exactly one source) plus link defaults and per-link overrides."""

    builtin: Literal["nsfnet", "geant2", "gbn"] | None = None
    topohub: str | None = None
    file: str | None = None
    grid: GridSpec | None = None
    random: RandomTopologySpec | None = None
    nodes: list[NodeEntry] | None = None
    links: list[LinkSpec] | None = None
    defaults: LinkDefaults = LinkDefaults()
    overrides: list[LinkSpec] = []
    capacity_scale: Annotated[float, Field(gt=0)] = 1.0
    medium: Literal["wired", "wireless"] = "wired"
    wireless: WirelessSpec = WirelessSpec()

    @model_validator(mode="after")
    def _one_source(self) -> TopologySpec:
        sources = [k for k in TOPOLOGY_SOURCES if getattr(self, k) is not None]
        if len(sources) != 1:
            given = ", ".join(sources) if sources else "none"
            raise ValueError(
                "give exactly one topology source (builtin, topohub, file, grid, random, or nodes + links); "
                f"got {given}"
            )
        if self.nodes is not None and not self.links and self.medium == "wired":
            raise ValueError("an explicit wired topology needs 'links' as well as 'nodes'")
        if self.links == [] and self.medium == "wireless":
            raise field_error(
                ("links",),
                "an explicit neighbour graph needs at least one link; leave 'links' out to take the links from "
                "radio range",
                [],
            )
        if self.links is not None and self.nodes is None:
            raise ValueError(
                "'links' defines an explicit topology together with 'nodes'; use 'overrides' to change "
                "links of another source"
            )
        self._check_medium()
        return self

    def _check_medium(self) -> None:
        """Refuse settings the medium would silently ignore."""
        if self.medium == "wireless":
            rules = {"capacity": "send at topology.wireless.rate", "weight": "are weighted by distance"}
            defaults = LinkDefaults()
            for key, rule in rules.items():
                if getattr(self.defaults, key) != getattr(defaults, key):
                    raise field_error(("defaults", key), f"wireless links all {rule}; leave it out", None)
            for i, link in enumerate(self.links or []):
                if link.capacity is not None:
                    raise field_error(
                        ("links", i, "capacity"), f"wireless links all {rules['capacity']}; leave it out", None
                    )
        elif self.wireless != WirelessSpec():
            raise field_error(("wireless",), "radio settings apply to medium: wireless only", None)

    @property
    def source(self) -> str:
        """Name of the topology source in use."""
        return next(k for k in TOPOLOGY_SOURCES if getattr(self, k) is not None)


SHARE_TOLERANCE = 1e-3
"""How far the shares of a flow's paths may sum from 1 (they are then divided by their sum)."""


class WeightedPath(StrictModel):
    """One of a flow's paths (nodes from src to dst) and the share of the flow's traffic it carries."""

    path: list[NodeRef]
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class FlowSpec(StrictModel):
    """A source→destination flow.

    ``path`` fixes its route as a list of nodes from src to dst; ``paths`` splits it over several such routes, each
    with the share of the traffic it carries (the shares sum to 1); with neither, ``routing`` chooses.
    ``tos`` is its traffic class: queue ``tos`` of every scheduled (non-FIFO) port on its path serves it; FIFO
    ports serve every class in their one queue.
    """

    src: NodeRef
    dst: NodeRef
    traffic: Traffic
    path: list[NodeRef] | None = None
    paths: Annotated[list[WeightedPath], Field(min_length=1)] | None = None
    tos: Tos = 0

    @model_validator(mode="after")
    def _one_route(self) -> FlowSpec:
        if self.path is not None and self.paths is not None:
            raise ValueError("give path or paths, not both")
        if self.paths is not None:
            total = math.fsum(p.share for p in self.paths)
            if abs(total - 1.0) > SHARE_TOLERANCE:
                raise field_error(("paths",), f"the shares must sum to 1, got {total:g}", self.paths)
        return self


class RoutingSpec(StrictModel):
    """How flows without an explicit path are routed, and how a flow with several paths divides its packets.

    ``shortest_path``: one shortest path by hop count or by a link attribute, ties broken towards fewer links, then
    lower node indices. ``ecmp``: every shortest path, each node dividing a flow equally among its next hops on
    shortest paths (so a path's share is the product of ``1/next hops`` along it); at most ``max_paths`` per flow.

    ``split``: ``packet`` sends each packet down a path drawn by the shares (seeded); ``flow`` sends the whole flow
    down one path, drawn by the shares from a hash of the scenario's seed and the flow (as routers hash a flow's
    header: the same flow always takes the same path).
    """

    policy: Literal["shortest_path", "ecmp"] = "shortest_path"
    weight: Literal["hops", "weight", "delay", "inverse_capacity"] = "hops"
    split: Literal["packet", "flow"] = "packet"
    max_paths: Annotated[PositiveInt, at_most(MAX_PATHS, "each path is simulated and predicted as a route")] = 64


class SimulationSpec(StrictModel):
    """Which engine runs the scenario, for how long, and with which seed.

    Sources send during ``[0, duration)``; packets sent before ``warmup`` are not counted; packets still in the
    network at ``duration`` are drained so that every counted packet is either received or dropped.
    """

    engine: str = "builtin"
    duration: Annotated[Duration, Field(gt=0)] = 100.0
    warmup: Annotated[Duration, Field(ge=0)] = 0.0
    seed: Seed = 1

    @model_validator(mode="after")
    def _check(self) -> SimulationSpec:
        if self.warmup >= self.duration:
            raise ValueError(f"warmup ({self.warmup:g} s) must be shorter than duration ({self.duration:g} s)")
        return self


class Scenario(StrictModel):
    """A whole network description; see ``docs/scenario-format.md``.

    The measured window (``duration − warmup``) must be long enough for the flows, together, to be expected to send
    at least one packet: a shorter one measures nothing. (Not checked when validated with ``context={TEMPLATE:
    True}``, as the base of a dataset spec is: its samples are.)
    """

    name: str = "scenario"
    topology: TopologySpec
    flows: list[FlowSpec] = Field(min_length=1)
    routing: RoutingSpec = RoutingSpec()
    simulation: SimulationSpec = SimulationSpec()

    @model_validator(mode="after")
    def _carries_packets(self, info: ValidationInfo) -> Scenario:
        if (info.context or {}).get(TEMPLATE):
            return self  # a dataset's base: the samples drawn from it are checked
        sim = self.simulation
        per_second = sum(f.traffic.packet_rate for f in self.flows)
        window = sim.duration - sim.warmup
        if window * per_second < 1.0:
            raise field_error(
                ("simulation", "duration"),
                f"the flows are expected to send {window * per_second:.2g} packets in the measured window "
                f"(duration - warmup = {format_time(window)}); make duration at least "
                f"{format_time(sim.warmup + 1.0 / per_second)} so that they send one",
                sim.duration,
            )
        return self
