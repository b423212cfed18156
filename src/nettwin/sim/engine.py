"""The engine protocol, the engine registry, and seeding shared by all engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from nettwin.errors import EngineError
from nettwin.scenario.limits import MAX_SEED
from nettwin.scenario.network import Network
from nettwin.sim.result import SimResult

__all__ = ["Engine", "register_engine", "get_engine", "engine_names", "flow_seeds"]


@runtime_checkable
class Engine(Protocol):
    """Turns a resolved network into a :class:`SimResult`.

    ``run`` numbers independent repetitions of the same scenario (the SimBase runs): run 0 is the reference, runs
    1, 2, ... use independent random streams derived from the same seed.
    """

    name: str

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult: ...


_REGISTRY: dict[str, Callable[[], Engine]] = {}


def register_engine(name: str, factory: Callable[[], Engine]) -> None:
    """Make an engine available under ``name`` (``simulation.engine`` in scenarios, ``--engine`` in the CLI)."""
    _REGISTRY[name] = factory


def engine_names() -> list[str]:
    """Names of the registered engines."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> Engine:
    """A new engine instance by name.

    Raises
    ------
    EngineError
        If no engine has that name.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(engine_names())
        raise EngineError(f"simulation.engine: unknown engine '{name}'; choose one of {known}") from None
    return factory()


def flow_seeds(seed: int, run: int, n_flows: int, words: int = 4) -> np.ndarray:
    """(n_flows, words) uint64 seeds: an independent random stream per flow, per run, from one scenario seed.

    Streams come from :class:`numpy.random.SeedSequence` with spawn key ``(run, flow)``, so a flow's stream never
    depends on how many flows, runs or workers there are.
    """
    if not 0 <= seed <= MAX_SEED:
        raise EngineError(f"simulation.seed must be between 0 and 2**63 - 1, got {seed}")
    out = np.empty((n_flows, words), dtype=np.uint64)
    for f in range(n_flows):
        out[f] = np.random.SeedSequence(entropy=seed, spawn_key=(run, f)).generate_state(words, dtype=np.uint64)
    return out
