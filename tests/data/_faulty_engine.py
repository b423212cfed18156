"""Engines that fail on purpose, for isolation tests; workers import them through ``generate_dataset(imports=...)``.

``faulty`` is the built-in engine, except that it kills its own process on samples in :data:`CRASH` and raises on
samples in :data:`RAISE`; ``hanging`` blocks for an hour on the samples in :data:`HANG` inside one C call that
holds the interpreter lock, as an engine stuck in compiled code does: no Python code of its process runs meanwhile
(the sample id is the suffix of the scenario name, ``<dataset>-<id>``).
"""

from __future__ import annotations

import ctypes
import os

from nettwin.scenario.network import Network
from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import register_engine
from nettwin.sim.result import SimResult

CRASH = frozenset({3})
RAISE = frozenset({5})
HANG = frozenset({2})


class FaultyEngine(BuiltinEngine):
    name = "faulty"

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        sample = int(network.name.rsplit("-", 1)[1])
        if sample in CRASH:
            os._exit(3)
        if sample in RAISE:
            raise RuntimeError(f"injected failure in sample {sample}")
        return super().simulate(network, seed=seed, run=run)


class HangingEngine(BuiltinEngine):
    name = "hanging"

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        if int(network.name.rsplit("-", 1)[1]) in HANG:
            ctypes.PyDLL(None).sleep(3600)  # libc's sleep, called without releasing the interpreter lock
        return super().simulate(network, seed=seed, run=run)


register_engine("faulty", FaultyEngine)
register_engine("hanging", HangingEngine)
