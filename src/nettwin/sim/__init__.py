"""Engines behind one protocol, the shared KPI definitions, and the SimResult type."""

from nettwin.scenario.io import as_network
from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import Engine, engine_names, get_engine, register_engine
from nettwin.sim.kpi import FLOW_COLUMNS, FLOW_KPIS, LINK_COLUMNS
from nettwin.sim.result import SimResult
from nettwin.sim.seeds import flow_seeds
from nettwin.sim.simulate import simulate

__all__ = [
    "FLOW_COLUMNS",
    "FLOW_KPIS",
    "LINK_COLUMNS",
    "BuiltinEngine",
    "Engine",
    "SimResult",
    "as_network",
    "engine_names",
    "flow_seeds",
    "get_engine",
    "register_engine",
    "simulate",
]
