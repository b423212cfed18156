"""Running one sample: draw its scenario, simulate its runs, and return its dataset row.

This is what executors run in worker processes. An exception while drawing or simulating a sample never
escapes: the sample comes back as a ``failed`` row carrying a one-line error, so one bad sample costs one row. A
sample that runs past its timeout ends its worker process (nothing else can stop an engine stuck in compiled code);
the executor then records it as failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from nettwin._lifeline import alarm
from nettwin.data.routes import route_columns
from nettwin.data.sampling import draw_scenario, sample_seed, scenario_json
from nettwin.data.spec import DatasetSpec
from nettwin.errors import NettwinError
from nettwin.scenario.network import build_network
from nettwin.sim.engine import Engine, get_engine
from nettwin.sim.kpi import FLOW_COLUMNS, LINK_COLUMNS

__all__ = ["Task", "run_sample", "failed_row", "error_text", "spec_from_json"]


@dataclass(frozen=True)
class Task:
    """One sample to generate: its id, its split and how many runs (R0..R(runs-1)) to simulate."""

    sample_id: int
    split: str
    runs: int


def error_text(err: BaseException) -> str:
    """An exception as one line: nettwin errors by their message, others prefixed with their type."""
    text = " | ".join(line.strip() for line in str(err).strip().splitlines() if line.strip())
    if isinstance(err, NettwinError):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def failed_row(
    spec: DatasetSpec, task: Task, error: str, scenario: str | None = None, wall_seconds: float = 0.0
) -> dict[str, Any]:
    """The row of a sample that could not be generated."""
    return {
        "sample_id": task.sample_id,
        "split": task.split,
        "status": "failed",
        "error": error,
        "scenario": scenario,
        "seed": sample_seed(spec.seed, task.sample_id),
        "n_runs": 0,
        "wall_seconds": wall_seconds,
    }


@lru_cache(maxsize=8)
def _engine(name: str) -> Engine:
    # One engine per process and name, so compiled kernels and caches are reused across samples.
    return get_engine(name)


@lru_cache(maxsize=4)
def spec_from_json(text: str) -> DatasetSpec:
    """A spec from its resolved JSON (what executors ship to workers), parsed once per process."""
    return DatasetSpec.from_resolved(json.loads(text))


def run_sample(spec: DatasetSpec, task: Task, timeout: float | None = None) -> dict[str, Any]:
    """Generate one sample and return its row (see :data:`nettwin.data.storage.SCHEMA`); never raises.

    With ``timeout`` (seconds), a sample still running after that long ends the process at once.
    """
    if timeout is None:
        return _sample_row(spec, task)
    with _deadline(timeout):
        return _sample_row(spec, task)


TIMEOUT_EXIT_STATUS = 75
"""Exit status of a worker process ended by a sample's timeout where the kernel's alarm signal is not available."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """End this process if the block runs longer than ``seconds``.

    The kernel's alarm ends it even while an engine holds the interpreter lock in compiled code. Where there is no
    alarm (no SIGALRM, or not the main thread), a timer thread ends the process, once that code lets it run.
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with alarm(seconds):
            yield
        return
    watchdog = threading.Timer(seconds, os._exit, args=(TIMEOUT_EXIT_STATUS,))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


def _sample_row(spec: DatasetSpec, task: Task) -> dict[str, Any]:
    t0 = time.perf_counter()
    text = None
    try:
        scenario = draw_scenario(spec, task.sample_id)
        text = scenario_json(scenario)
        network = build_network(scenario)
        engine = _engine(scenario.simulation.engine)
        results = [engine.simulate(network, run=r) for r in range(task.runs)]
    except Exception as err:  # isolate the sample: whatever went wrong is recorded in its row
        return failed_row(spec, task, error_text(err), text, time.perf_counter() - t0)

    offered = network.offered_load
    row: dict[str, Any] = {
        "sample_id": task.sample_id,
        "split": task.split,
        "status": "ok",
        "error": None,
        "scenario": text,
        "seed": scenario.simulation.seed,
        "n_nodes": network.n_nodes,
        "n_links": network.n_links,
        "n_flows": network.n_flows,
        "n_runs": len(results),
        "flow_src": [f.src for f in network.flows],
        "flow_dst": [f.dst for f in network.flows],
        # The reference run's paths: what the engine actually routed (OLSR may differ from the static routes).
        "paths": [list(p) for p in results[0].paths],
        **route_columns(network),
        "link_src": network.link_src.tolist(),
        "link_dst": network.link_dst.tolist(),
        "link_capacity": network.capacity.astype(float).tolist(),
        "link_offered_load": offered.astype(float).tolist(),
        "max_load": float(np.max(offered / network.capacity)) if network.n_links else None,
        "meta": json.dumps([r.meta for r in results], separators=(",", ":"), default=_plain),
    }
    for c in FLOW_COLUMNS:
        row[c] = [_column(r.flows[c], c in INT_FLOW_COLUMNS) for r in results]
    for c in LINK_COLUMNS:
        row[f"link_{c}"] = [_column(r.links[c], c in INT_LINK_COLUMNS) for r in results]
    row["wall_seconds"] = time.perf_counter() - t0
    return row


INT_FLOW_COLUMNS = frozenset({"tx_packets", "rx_packets", "dropped"})
INT_LINK_COLUMNS = frozenset({"drops", "tx_packets"})


def _column(values: np.ndarray, integer: bool) -> list[Any]:
    return np.asarray(values, dtype=np.int64 if integer else np.float64).tolist()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
