"""Seeding shared by every engine: one independent random stream per flow and run, from one scenario seed."""

from __future__ import annotations

import numpy as np

from nettwin.errors import EngineError
from nettwin.scenario.limits import MAX_SEED

__all__ = ["flow_seeds"]


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
