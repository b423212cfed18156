"""Engines behind one protocol, the shared KPI definitions, and the SimResult type."""

from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import Engine, engine_names, flow_seeds, get_engine, register_engine
from nettwin.sim.kpi import FLOW_COLUMNS, FLOW_KPIS, LINK_COLUMNS
from nettwin.sim.result import SimResult
from nettwin.sim.simulate import as_network, simulate


def _analytic():
    from nettwin.sim.analytic import QueueingModel

    return QueueingModel()


def _ns3():
    from nettwin.sim.ns3 import engine_factory

    return engine_factory()


register_engine("analytic", _analytic)
register_engine("ns3", _ns3)

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
