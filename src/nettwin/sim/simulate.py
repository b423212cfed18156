"""One call from a scenario (or scenario file) to results."""

from __future__ import annotations

from pathlib import Path

from nettwin.errors import EngineError
from nettwin.scenario.io import as_network
from nettwin.scenario.limits import MAX_RUNS
from nettwin.scenario.network import Network
from nettwin.scenario.spec import Scenario
from nettwin.sim.engine import get_engine
from nettwin.sim.result import SimResult

__all__ = ["simulate"]


def simulate(
    scenario: Scenario | Network | str | Path,
    *,
    engine: str | None = None,
    seed: int | None = None,
    runs: int = 1,
) -> list[SimResult]:
    """Simulate ``runs`` independent runs (0, 1, ...) of a scenario with one engine.

    Parameters
    ----------
    scenario : a :class:`Scenario`, a resolved :class:`Network`, or the path of a scenario file.
    engine : engine name; default the scenario's ``simulation.engine``.
    seed : overrides ``simulation.seed``.
    runs : how many runs; run 0 is the reference, the others are the SimBase runs.

    Returns
    -------
    list of SimResult, one per run.

    Raises
    ------
    EngineError
        If ``runs`` is outside 1..:data:`~nettwin.scenario.limits.MAX_RUNS` or the engine cannot run the scenario.

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario
    >>> sc = parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "1Mbps"}}],
    ...     "simulation": {"duration": "1s"}})
    >>> [r] = simulate(sc)
    >>> round(r.kpi("throughput")[0] / 1e6, 2)
    1.0
    """
    if not 1 <= runs <= MAX_RUNS:
        raise EngineError(f"runs: must be between 1 and {MAX_RUNS}, got {runs}")
    network = as_network(scenario)
    eng = get_engine(engine or network.simulation.engine)
    return [eng.simulate(network, seed=seed, run=r) for r in range(runs)]
