"""The ``table`` importer: the simulator-neutral layout of :mod:`nettwin.data.table`, one record per sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from nettwin.data.importers.base import ImportedSample
from nettwin.data.table import SCENARIO_FIELDS, read_records, table_kind
from nettwin.data.writer import RUN_COLUMNS

__all__ = ["TableImporter"]


class TableImporter:
    """Reads Parquet, CSV or JSONL files in the table layout (the file's ending says which)."""

    def samples(self, source: Path) -> Iterator[ImportedSample]:
        for where, record in read_records(source):
            yield ImportedSample(
                where=where,
                scenario={k: record[k] for k in SCENARIO_FIELDS if k in record},
                kpis={k: record[k] for k in RUN_COLUMNS if k in record},
                split=record.get("split"),
                meta=record.get("meta"),
                wall_seconds=record.get("wall_seconds"),
            )

    def count(self, source: Path) -> int | None:
        kind = table_kind(source)
        if kind == "parquet":
            try:
                return pq.ParquetFile(source).metadata.num_rows
            except Exception:  # an unreadable file is reported, with its reason, when its records are read
                return None
        with source.open("rb") as fh:
            lines = sum(1 for line in fh if line.strip())
        return max(0, lines - 1) if kind == "csv" else lines

    def version(self, source: Path) -> str | None:
        return None
