"""The ns-3 engine (optional extra ``nettwin[ns3]``): scenarios simulated by real ns-3 in worker processes.

Importing this package does not import ns-3; workers do, once each, when the first run needs them.
"""

from nettwin.sim.ns3.engine import MISSING_EXTRA, Ns3Engine, engine_factory, ns3_available, simulate_runs
from nettwin.sim.ns3.job import Ns3Options
from nettwin.sim.ns3.pool import WorkerCrashed, WorkerPool, shared_pool

__all__ = [
    "MISSING_EXTRA",
    "Ns3Engine",
    "Ns3Options",
    "WorkerCrashed",
    "WorkerPool",
    "engine_factory",
    "ns3_available",
    "shared_pool",
    "simulate_runs",
]
