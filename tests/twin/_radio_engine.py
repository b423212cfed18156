"""A stand-in radio engine for fast wireless tests: the built-in engine run on a wireless network's radio links as
if they were wired. The KPIs mean nothing physical; they let a wireless dataset be generated in milliseconds so that
what twins and evaluation do with wireless networks can be tested without ns-3."""

from __future__ import annotations

import dataclasses

from nettwin.scenario.network import Network
from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import register_engine
from nettwin.sim.result import SimResult


class RadioStandIn(BuiltinEngine):
    name = "radio-stand-in"

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        return super().simulate(dataclasses.replace(network, medium="wired"), seed=seed, run=run)


register_engine("radio-stand-in", RadioStandIn)
