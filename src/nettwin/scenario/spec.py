"""The scenario format: a validated description of a network, its flows, routing and simulation settings.

Values are accepted in human units (``10Mbps``, ``2ms``, ``1500B``) or plain SI numbers and stored in SI.
Unknown keys are errors. :func:`nettwin.scenario.load_scenario` reads YAML/JSON files.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from nettwin.scenario.traffic import Traffic
from nettwin.scenario.units import Duration, Rate

__all__ = [
    "NodeRef",
    "NodeSpec",
    "LinkSpec",
    "LinkDefaults",
    "GridSpec",
    "WirelessSpec",
    "WIFI_RATES",
    "TopologySpec",
    "FlowSpec",
    "RoutingSpec",
    "SimulationSpec",
    "Scenario",
]

NodeRef = int | str
"""A node named by its index (0-based) or by its name."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSpec(_Strict):
    """A node of an explicit topology; ``x``/``y`` are positions in metres (needed for wireless)."""

    name: str
    x: float | None = None
    y: float | None = None


class LinkSpec(_Strict):
    """A link of an explicit topology, or an override of a link of any topology.

    With ``bidirectional`` (the default) it stands for both directions ``src→dst`` and ``dst→src``.
    """

    src: NodeRef
    dst: NodeRef
    capacity: Annotated[Rate, Field(gt=0)] | None = None
    delay: Annotated[Duration, Field(ge=0)] | None = None
    buffer: NonNegativeInt | None = None
    weight: Annotated[float, Field(gt=0)] | None = None
    bidirectional: bool = True


class LinkDefaults(_Strict):
    """Link attributes used where neither the topology source nor an override gives one.

    ``buffer`` counts packets waiting, excluding the one being sent (as ns-3's DropTail queue).
    """

    capacity: Annotated[Rate, Field(gt=0)] = 10e6
    delay: Annotated[Duration, Field(ge=0)] = 1e-3
    buffer: NonNegativeInt = 32
    weight: Annotated[float, Field(gt=0)] = 1.0


class GridSpec(_Strict):
    """A rows × cols lattice ``spacing`` metres apart; ``perturb`` moves each node randomly within that radius."""

    rows: PositiveInt
    cols: PositiveInt
    spacing: Annotated[float, Field(gt=0)] = 100.0
    perturb: Annotated[float, Field(ge=0)] = 0.0
    seed: int = 0


WIFI_RATES = (1e6, 2e6, 5.5e6, 11e6)
"""The 802.11b (DSSS) rates in bit/s."""


class WirelessSpec(_Strict):
    """Radio model of a wireless medium: log-distance path loss ``PL(d) = reference_loss + 10·n·log10(d)`` dB.

    Two nodes are neighbours when the received power ``tx_power − PL(d)`` reaches ``rx_sensitivity``. The defaults
    are GLANCE's (n = 3, 46.67 dB at 1 m) with ns-3's Wi-Fi defaults for power (16.0206 dBm) and sensitivity
    (−101 dBm). ``rate`` is the 802.11b rate of data and control frames, and every wireless link's capacity.
    """

    exponent: Annotated[float, Field(gt=0)] = 3.0
    reference_loss: float = 46.67
    tx_power: float = 16.0206
    rx_sensitivity: float = -101.0
    rate: Rate = 1e6

    @field_validator("rate")
    @classmethod
    def _dsss_rate(cls, v: float) -> float:
        if v not in WIFI_RATES:
            raise ValueError("802.11b sends at 1Mbps, 2Mbps, 5.5Mbps or 11Mbps")
        return v


class TopologySpec(_Strict):
    """Where the topology comes from (exactly one source) plus link defaults and per-link overrides."""

    builtin: Literal["nsfnet", "geant2", "gbn"] | None = None
    topohub: str | None = None
    file: str | None = None
    grid: GridSpec | None = None
    nodes: list[NodeSpec | str] | None = None
    links: list[LinkSpec] | None = None
    defaults: LinkDefaults = LinkDefaults()
    overrides: list[LinkSpec] = []
    capacity_scale: Annotated[float, Field(gt=0)] = 1.0
    medium: Literal["wired", "wireless"] = "wired"
    wireless: WirelessSpec = WirelessSpec()

    @model_validator(mode="after")
    def _one_source(self) -> TopologySpec:
        sources = [k for k in ("builtin", "topohub", "file", "grid", "nodes") if getattr(self, k) is not None]
        if len(sources) != 1:
            given = ", ".join(sources) if sources else "none"
            raise ValueError(
                f"give exactly one topology source (builtin, topohub, file, grid, or nodes + links); got {given}"
            )
        if self.nodes is not None and not self.links and self.medium == "wired":
            raise ValueError("an explicit wired topology needs 'links' as well as 'nodes'")
        if self.links is not None and self.nodes is None:
            raise ValueError(
                "'links' defines an explicit topology together with 'nodes'; use 'overrides' to change "
                "links of another source"
            )
        return self

    @property
    def source(self) -> str:
        """Name of the topology source in use."""
        return next(k for k in ("builtin", "topohub", "file", "grid", "nodes") if getattr(self, k) is not None)


class FlowSpec(_Strict):
    """A source→destination flow; ``path`` optionally fixes its route as a list of nodes from src to dst."""

    src: NodeRef
    dst: NodeRef
    traffic: Traffic
    path: list[NodeRef] | None = None


class RoutingSpec(_Strict):
    """Shortest-path routing by hop count or by a link attribute, ties broken towards lower node indices."""

    policy: Literal["shortest_path"] = "shortest_path"
    weight: Literal["hops", "weight", "delay", "inverse_capacity"] = "hops"


class SimulationSpec(_Strict):
    """Which engine runs the scenario, for how long, and with which seed.

    Sources send during ``[0, duration)``; packets sent before ``warmup`` are not counted; packets still in the
    network at ``duration`` are drained so that every counted packet is either received or dropped.
    """

    engine: str = "builtin"
    duration: Annotated[Duration, Field(gt=0)] = 100.0
    warmup: Annotated[Duration, Field(ge=0)] = 0.0
    seed: int = 1

    @model_validator(mode="after")
    def _check(self) -> SimulationSpec:
        if self.warmup >= self.duration:
            raise ValueError(f"warmup ({self.warmup:g} s) must be shorter than duration ({self.duration:g} s)")
        return self


class Scenario(_Strict):
    """A whole network description; see ``docs/scenario-format.md``."""

    name: str = "scenario"
    topology: TopologySpec
    flows: list[FlowSpec] = Field(min_length=1)
    routing: RoutingSpec = RoutingSpec()
    simulation: SimulationSpec = SimulationSpec()
