"""The ``table`` layout: one record per sample, in Parquet, CSV or JSONL (see ``docs/datasets.md``).

A record's fields (the columns of a Parquet or CSV file, the keys of a JSONL object):

- ``topology`` (required): a scenario ``topology`` section (any form but ``file``).
- ``flows`` (required): the scenario's flows; each flow's ``path`` (a node list) is the route it took.
- ``name``, ``routing``, ``simulation`` (optional): the other scenario sections.
- ``split`` (optional): ``train``, ``val`` or ``test`` in every record, or in none (then drawn from a seed).
- per-run columns (at least one per-flow KPI; each in every record or in none): the names of
  :data:`~nettwin.sim.kpi.FLOW_COLUMNS`, and ``link_<stat>`` for :data:`~nettwin.sim.kpi.LINK_COLUMNS`; each a
  list over runs of lists over flows (or links, in network order). SI units; null for a value not measured.
- ``wall_seconds`` (optional number), ``meta`` (optional list of per-run objects).

Nested fields (objects and lists) are JSON values in JSONL and JSON text in CSV cells; in Parquet they may be
JSON text or native Arrow values (structs, lists; the per-run columns are written as native ``list<list<…>>``).
An empty CSV cell, a null, or a missing key means "not given", in scenario objects too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from nettwin._files import atomic_write_bytes
from nettwin._json import plain
from nettwin.data.writer import INT_COLUMNS, RUN_COLUMNS
from nettwin.errors import DatasetError

__all__ = [
    "SUFFIXES",
    "SCENARIO_FIELDS",
    "COLUMNS",
    "table_kind",
    "read_records",
    "write_records",
]

SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
"""File name endings of the three encodings of the table layout."""

SCENARIO_FIELDS = ("name", "topology", "flows", "routing", "simulation")
COLUMNS = ("split", *SCENARIO_FIELDS, *RUN_COLUMNS, "wall_seconds", "meta")
"""Every field a record may have, in the order an export writes them."""

_NESTED = frozenset({"topology", "flows", "routing", "simulation", "meta", *RUN_COLUMNS})
_REQUIRED = ("topology", "flows")
_BATCH = 512


def table_kind(path: str | Path) -> str:
    """``parquet``, ``csv`` or ``jsonl`` from a file name's ending.

    Raises
    ------
    DatasetError
        For any other ending.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise DatasetError(f"{path}: unknown table file type '{suffix}'; use one of {', '.join(SUFFIXES)}")
    return SUFFIXES[suffix]


def read_records(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records of a table file, each as ``(where, record)``: ``where`` names file and record (and line, for
    text files) for error messages; ``record`` holds the fields given (nested ones parsed).

    Raises
    ------
    DatasetError
        One line naming file, record and field: an unknown column, a record that does not parse, a required field
        missing, or a field present in some records but not in others.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such table file")
    kind = table_kind(path)
    reader = {"parquet": _parquet, "csv": _csv, "jsonl": _jsonl}[kind]
    fields: frozenset[str] | None = None
    count = 0
    for where, raw in reader(path):
        count += 1
        record = _record(raw, where)
        present = frozenset(k for k in record if k in RUN_COLUMNS or k == "split")
        if fields is None:
            fields = present
        elif present != fields:
            extra, lacking = sorted(present - fields), sorted(fields - present)
            name = (extra or lacking)[0]
            what = "given here but not in the first record" if extra else "missing, but the first record has it"
            raise DatasetError(f"{where}: {name}: {what}; a KPI column or split is in every record or in none")
        yield where, record
    if count == 0:
        raise DatasetError(f"{path}: holds no records")


def _record(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    unknown = [k for k in raw if k not in COLUMNS]
    if unknown:
        raise DatasetError(f"{where}: {unknown[0]}: unexpected field; the table layout has {', '.join(COLUMNS)}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None or value == "":
            continue
        if key in _NESTED and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise DatasetError(f"{where}: {key}: not valid JSON ({err.msg} at character {err.pos})") from None
        if key in SCENARIO_FIELDS:
            value = _given(value)
        if key == "wall_seconds" and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise DatasetError(f"{where}: wall_seconds: must be a number, got {value!r}") from None
        out[key] = value
    for key in _REQUIRED:
        if key not in out:
            raise DatasetError(f"{where}: {key}: missing; every record needs topology and flows")
    return out


def _given(value: Any) -> Any:
    """A scenario value without its null members: null means "not given" (an Arrow struct read from Parquet has
    every member in every row, null where the writer gave none)."""
    if isinstance(value, dict):
        return {k: _given(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_given(v) for v in value]
    return value


def _parquet(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        file = pq.ParquetFile(path)
        unknown = [c for c in file.schema_arrow.names if c not in COLUMNS]
        if unknown:
            raise DatasetError(f"{path}: column {unknown[0]}: unexpected; the table layout has {', '.join(COLUMNS)}")
        index = 0
        for batch in file.iter_batches(batch_size=_BATCH):
            for raw in batch.to_pylist():
                index += 1
                yield f"{path}: record {index}", raw
    except (pa.ArrowException, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise DatasetError(f"{path}: cannot read as Parquet ({first})") from None


def _csv(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    csv.field_size_limit(2**31 - 1)  # a cell holds a whole topology or KPI list as JSON
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetError(f"{path}: empty file (no header line)") from None
        except (csv.Error, UnicodeDecodeError) as err:
            raise DatasetError(f"{path}: line 1: not CSV ({err})") from None
        unknown = [c for c in header if c not in COLUMNS]
        if unknown:
            raise DatasetError(
                f"{path}: line 1: column {unknown[0]!r}: unexpected; the table layout has {', '.join(COLUMNS)}"
            )
        index = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as err:
                raise DatasetError(f"{path}: line {reader.line_num}: not CSV ({err})") from None
            if not cells:
                continue
            index += 1
            where = f"{path}: record {index} (line {reader.line_num})"
            if len(cells) != len(header):
                raise DatasetError(f"{where}: has {len(cells)} cells, the header {len(header)}")
            yield where, dict(zip(header, cells, strict=True))


def _jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    index = 0
    with path.open(encoding="utf-8") as fh:
        line_no = 0
        while True:
            try:
                line = fh.readline()
            except UnicodeDecodeError as err:
                raise DatasetError(f"{path}: line {line_no + 1}: not UTF-8 text ({err.reason})") from None
            if not line:
                return
            line_no += 1
            if not line.strip():
                continue
            index += 1
            where = f"{path}: record {index} (line {line_no})"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as err:
                raise DatasetError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
            if not isinstance(raw, dict):
                raise DatasetError(f"{where}: must be a JSON object, got {type(raw).__name__}")
            yield where, raw


def write_records(path: str | Path, records: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> int:
    """Write records (fields named in ``columns``, in that order) as a table file, atomically; returns the count.

    Non-finite numbers become null in JSON text; Parquet holds the per-run columns as native lists (NaN kept).
    """
    path = Path(path)
    kind = table_kind(path)
    columns = list(columns)
    rows = [{c: r.get(c) for c in columns} for r in records]
    buffer = io.BytesIO()
    if kind == "jsonl":
        text = "".join(_json({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows)
        buffer.write(text.encode("utf-8"))
    elif kind == "csv":
        text_io = io.StringIO(newline="")
        writer = csv.writer(text_io, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(c, r[c]) for c in columns])
        buffer.write(text_io.getvalue().encode("utf-8"))
    else:
        arrays = {c: _arrow_column(c, [r[c] for r in rows]) for c in columns}
        pq.write_table(pa.table(arrays), buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())
    return len(rows)


def _json(value: Any) -> str:
    return json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in _NESTED:
        return _json(value)
    return repr(value) if isinstance(value, float) else str(value)


def _arrow_column(column: str, values: list[Any]) -> pa.Array:
    if column in RUN_COLUMNS:
        inner = pa.int64() if column in INT_COLUMNS else pa.float64()
        return pa.array(values, type=pa.list_(pa.list_(inner)))
    if column in _NESTED:
        return pa.array([None if v is None else _json(v) for v in values], type=pa.string())
    if column == "wall_seconds":
        return pa.array(values, type=pa.float64())
    return pa.array(values, type=pa.string())
