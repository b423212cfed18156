"""The worker side of a job: runs in its own process, reports progress and the result through a pipe.

Imported by the job runner's forkserver before it forks workers, so each job starts with the engine loaded.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import Any

from nettwin._json import dumps
from nettwin._lifeline import end_with
from nettwin.errors import NettwinError
from nettwin.scenario.io import parse_scenario
from nettwin.scenario.network import build_network
from nettwin.sim import get_engine

__all__ = ["run_simulate"]


def run_simulate(conn: Connection, scenario_json: str, params: dict[str, Any]) -> None:
    """Simulate a stored scenario as :func:`nettwin.sim.simulate` does, one run at a time so that each finished run
    is reported as progress; send ``("progress", fraction)`` messages, then ``("done", output JSON)`` or
    ``("failed", message)``."""
    # End with the server, however it ends; the server handles Ctrl-C and stops its workers.
    end_with(multiprocessing.parent_process().sentinel)  # type: ignore[union-attr]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        network = build_network(parse_scenario(json.loads(scenario_json)))
        engine = get_engine(params.get("engine") or network.simulation.engine)
        runs = params.get("runs", 1)
        results = []
        for run in range(runs):
            results.append(engine.simulate(network, seed=params.get("seed"), run=run).to_dict())
            conn.send(("progress", (run + 1) / runs))
        conn.send(("done", dumps({"scenario": network.name, "runs": results}, indent=None)))
    except NettwinError as err:
        conn.send(("failed", str(err)))
    except Exception as err:  # noqa: BLE001 (any failure of the job is its result, reported to its owner)
        conn.send(("failed", f"{type(err).__name__}: {err}"))
    finally:
        conn.close()
