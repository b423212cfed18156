"""Cross-engine agreement: built-in engine and ns-3 on three wired scenarios, 10 seeds each.

Tolerances (acceptance): pooled mean delay within 5 %, throughput within 2 %, drop rate within 10 % relative or
0.5 percentage points. With 10 seeds the seed-to-seed noise of each gap is about a third of its tolerance;
with 30 seeds every gap is below 0.5 % except the tandem's drop rate (2.3 %), see docs/ns3.md.
"""

from __future__ import annotations

import pytest

from nettwin.sim import BuiltinEngine
from nettwin.sim.ns3 import simulate_runs
from nettwin.sim.ns3.agreement import AGREEMENT_SCENARIOS, agreement

pytestmark = pytest.mark.ns3

SEEDS = list(range(1, 11))


@pytest.mark.parametrize("name", AGREEMENT_SCENARIOS)
def test_builtin_engine_agrees_with_ns3(ns3_engine, example, name):
    network = example(name)
    builtin = [BuiltinEngine().simulate(network, seed=s) for s in SEEDS]
    ns3 = simulate_runs(ns3_engine, network, SEEDS)
    rows = agreement(builtin, ns3)
    assert all(r.ok for r in rows), "\n".join(map(str, rows))
