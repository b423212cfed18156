"""Helpers for the data tests: a tiny spec (NSFNET, three short flows: a sample simulates in milliseconds)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa

TINY_BASE: dict[str, Any] = {
    "name": "tiny",
    "topology": {"builtin": "nsfnet", "defaults": {"capacity": "200kbps", "delay": "2ms", "buffer": 16}},
    "flows": [
        {
            "src": 0,
            "dst": 12,
            "traffic": {"model": "onoff", "rate": "50kbps", "packet_size": 210, "tau_on": 1, "tau_off": 1},
        },
        {"src": 3, "dst": 9, "traffic": {"model": "poisson", "rate": "40kbps", "packet_size": 500}},
        {"src": 7, "dst": 2, "traffic": {"model": "cbr", "rate": "20kbps", "packet_size": 210}},
    ],
    "simulation": {"engine": "builtin", "duration": "5s"},
}

NONDETERMINISTIC = ("wall_seconds", "meta")
"""Columns that record how long things took, which no two runs share."""


def tiny_spec(**changes: Any) -> dict[str, Any]:
    """A 10-sample spec over :data:`TINY_BASE` with on/off durations drawn per flow; ``changes`` override keys."""
    spec: dict[str, Any] = {
        "name": "tiny",
        "base": copy.deepcopy(TINY_BASE),
        "samples": 10,
        "seed": 7,
        "simbase_runs": 2,
        "shard_size": 4,
        "traffic": {"tau_on": {"choice": [1, 2, 4]}, "tau_off": {"choice": [1, 2, 4]}},
        "capacity_scale": {"uniform": [0.5, 1.5]},
    }
    spec.update(changes)
    return spec


def comparable(table: pa.Table) -> pa.Table:
    """A dataset table without its timing columns, for comparing two runs row by row."""
    return table.drop_columns([c for c in NONDETERMINISTIC if c in table.column_names])


def _plain(value: object) -> object:
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def assert_same_rows(a: pa.Table, b: pa.Table) -> None:
    """Assert two dataset tables hold the same rows (timing columns aside; NaN equals NaN), naming the columns
    that differ."""
    a, b = comparable(a), comparable(b)
    assert a.schema == b.schema and a.num_rows == b.num_rows
    differ = [c for c in a.column_names if _plain(a.column(c).to_pylist()) != _plain(b.column(c).to_pylist())]
    assert not differ, f"columns differ: {differ}"


def generate_or_fail_after(seconds: float, spec: Any, out: Path, **options: Any) -> dict[str, Any]:
    """:func:`generate_dataset`, failing the test if it has not returned after ``seconds`` (a last guard against a
    hang, far above the time it needs)."""
    from nettwin.data import generate_dataset

    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(generate_dataset(spec, out, **options)), daemon=True)
    runner.start()
    runner.join(seconds)
    assert not runner.is_alive(), f"generate_dataset still running after {seconds:g} s"
    assert result, "generate_dataset raised (see the thread's traceback above)"
    return result
