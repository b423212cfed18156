"""Scenarios: topology sources, links, flows, traffic models, routing, units, validation and file I/O."""

from nettwin.scenario.io import dump_scenario, load_scenario, parse_scenario
from nettwin.scenario.network import Flow, Links, Network, build_links, build_network
from nettwin.scenario.spec import (
    FlowSpec,
    GridSpec,
    LinkDefaults,
    LinkSpec,
    NodeSpec,
    RoutingSpec,
    Scenario,
    SimulationSpec,
    TopologySpec,
    WirelessSpec,
)
from nettwin.scenario.traffic import PacketSize, Traffic

__all__ = [
    "Flow",
    "FlowSpec",
    "GridSpec",
    "LinkDefaults",
    "LinkSpec",
    "Links",
    "Network",
    "NodeSpec",
    "PacketSize",
    "RoutingSpec",
    "Scenario",
    "SimulationSpec",
    "TopologySpec",
    "Traffic",
    "WirelessSpec",
    "build_links",
    "build_network",
    "dump_scenario",
    "load_scenario",
    "parse_scenario",
]
