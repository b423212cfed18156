"""The engine protocol and the engine registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from nettwin._estimator import Registry
from nettwin.errors import EngineError
from nettwin.scenario.network import Network
from nettwin.sim.result import SimResult

__all__ = ["Engine", "ENGINES", "register_engine", "get_engine", "engine_names"]


@runtime_checkable
class Engine(Protocol):
    """Turns a resolved network into a :class:`SimResult`.

    ``run`` numbers independent repetitions of the same scenario (the SimBase runs): run 0 is the reference, runs
    1, 2, ... use independent random streams derived from the same seed.
    """

    name: str

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult: ...


ENGINES: Registry[Engine] = Registry("engine", EngineError)
"""Engine factories by name, filled below; each factory imports its engine when first asked for one, so that
listing the engines (``nettwin --help``) loads neither numba nor ns-3."""


def register_engine(name: str, factory: Callable[[], Engine]) -> None:
    """Make an engine available under ``name`` (``simulation.engine`` in scenarios, ``--engine`` in the CLI);
    a name in use is replaced (an engine of one's own may stand in for a built-in one)."""
    ENGINES.register(name, factory, replace=True)


def engine_names() -> list[str]:
    """Names of the registered engines."""
    return sorted(ENGINES.names())


def get_engine(name: str) -> Engine:
    """A new engine instance by name.

    Raises
    ------
    EngineError
        If no engine has that name.
    """
    if name not in ENGINES:
        known = ", ".join(engine_names())
        raise EngineError(f"simulation.engine: unknown engine '{name}'; choose one of {known}")
    return ENGINES.create(name)


def _builtin() -> Engine:
    from nettwin.sim.builtin import BuiltinEngine

    return BuiltinEngine()


def _analytic() -> Engine:
    from nettwin.sim.analytic import QueueingModel

    return QueueingModel()


def _ns3() -> Engine:
    from nettwin.sim.ns3 import engine_factory

    return engine_factory()


ENGINES.register("builtin", _builtin)
ENGINES.register("analytic", _analytic)
ENGINES.register("ns3", _ns3)
