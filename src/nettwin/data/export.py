"""Exporting a dataset: its samples written out in a format other tools read (``table``: see
:mod:`nettwin.data.table`).

Importing the exported file gives back the same rows: the stored scenario (each flow pinned to its recorded
path, a split flow to its recorded paths and shares), the per-run columns the dataset holds, the splits,
``wall_seconds`` and ``meta``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from nettwin.data.dataset import Dataset
from nettwin.data.routes import pinned_route
from nettwin.data.table import COLUMNS, SCENARIO_FIELDS, table_kind, write_records
from nettwin.data.writer import RUN_COLUMNS
from nettwin.errors import DatasetError
from nettwin.scenario.network import build_links
from nettwin.scenario.spec import TopologySpec

__all__ = ["EXPORTERS", "export_dataset", "table_records"]

_BATCH = 512


def table_records(dataset: Dataset) -> Iterator[dict[str, Any]]:
    """The table-layout record of each ok sample of ``dataset``, in id order."""
    columns = _run_columns(dataset)
    wanted = ["sample_id", "split", "scenario", "paths", "routes", "route_shares", "n_runs", "wall_seconds", "meta"]
    wanted += columns
    table = dataset.table()
    table = table.filter(pc.equal(table["status"], "ok")).select(wanted)
    for row in (r for batch in table.to_batches(max_chunksize=_BATCH) for r in batch.to_pylist()):
        scenario = json.loads(row["scenario"])
        nodes = _node_names(json.dumps(scenario["topology"], sort_keys=True))
        routes, shares = row["routes"], row["route_shares"]
        for i, (flow, path) in enumerate(zip(scenario["flows"], row["paths"], strict=True)):
            pinned = pinned_route(nodes, path, routes and routes[i], shares and shares[i])
            flow.pop("path", None)
            flow.pop("paths", None)
            flow.update({k: v for k, v in pinned.items() if v is not None})
        record: dict[str, Any] = {"split": row["split"], **{k: scenario[k] for k in SCENARIO_FIELDS if k in scenario}}
        record.update({c: row[c] for c in columns})
        record["wall_seconds"] = row["wall_seconds"]
        record["meta"] = json.loads(row["meta"]) if row["meta"] else None
        yield record


@lru_cache(maxsize=64)
def _node_names(topology: str) -> tuple[str, ...]:
    """Node names of a topology section (JSON text), read once per distinct topology."""
    return build_links(TopologySpec.model_validate_json(topology)).nodes


def _run_columns(dataset: Dataset) -> list[str]:
    present = set(dataset.kpis)
    links = dataset.manifest.get("link_stats")
    present |= {c for c in RUN_COLUMNS if c.startswith("link_") and (links is None or c[5:] in links)}
    return [c for c in RUN_COLUMNS if c in present]


def _export_table(dataset: Dataset, out: Path, progress: Callable[[int, int], None] | None) -> int:
    table_kind(out)  # an unknown file type is refused before any work
    total = len(dataset)
    done = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal done
        for record in table_records(dataset):
            yield record
            done += 1
            if progress is not None:
                progress(done, total)

    columns = [c for c in COLUMNS if c not in RUN_COLUMNS or c in _run_columns(dataset)]
    return write_records(out, counted(), columns)


EXPORTERS: dict[str, Callable[[Dataset, Path, Callable[[int, int], None] | None], int]] = {"table": _export_table}
"""Exporters by format name: each writes a dataset to a path and returns the number of samples written."""


def export_dataset(
    path: str | Path,
    out: str | Path,
    fmt: str = "table",
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the ok samples of the dataset at ``path`` to ``out`` in format ``fmt``.

    For ``table``, the file type follows ``out``'s ending (``.parquet``, ``.csv`` or ``.jsonl``). Failed samples
    are left out (they have no KPIs); the result counts them.

    Returns
    -------
    dict
        ``path``, ``out``, ``format``, ``samples`` (written) and ``failed_left_out``.

    Raises
    ------
    DatasetError
        For an unknown format or file type, or a dataset that cannot be read.
    """
    if fmt not in EXPORTERS:
        raise DatasetError(f"unknown export format '{fmt}'; known: {', '.join(sorted(EXPORTERS))}")
    dataset = Dataset(path)
    written = EXPORTERS[fmt](dataset, Path(out), progress)
    return {
        "path": str(path),
        "out": str(out),
        "format": fmt,
        "samples": written,
        "failed_left_out": len(dataset.failed),
    }
