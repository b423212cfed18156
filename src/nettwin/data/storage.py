"""Dataset directories on disk: Parquet shards of sample rows, and ``manifest.json``.

Layout::

    <dir>/manifest.json              spec and seed (or, imported, the source), versions, counts, split sizes,
                                     KPIs held and their IQRs, status, timestamps
    <dir>/shards/part-00000.parquet  one row per sample (schema :data:`SCHEMA`), sorted by sample_id
    <dir>/shards/part-00001.parquet  ...

Shards and the manifest are written atomically (temporary file, then rename), so a killed run leaves only
complete files; the shards are the record of which samples exist. Per-run values are lists indexed
``[run][flow]`` (or ``[run][link]``), run 0 being the reference run.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from nettwin._files import atomic_write_bytes
from nettwin._json import write_json
from nettwin.errors import DatasetError
from nettwin.metrics import describe
from nettwin.sim.kpi import FLOW_COLUMNS, FLOW_KPIS, LINK_COLUMNS

try:
    import fcntl
except ImportError:  # not POSIX: generation works, without the guard against two writers
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SCHEMA",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "SHARD_DIR",
    "LOCK",
    "shard_paths",
    "write_shard",
    "replace_column",
    "read_table",
    "read_manifest",
    "write_manifest",
    "versions",
    "kpi_iqr",
    "training_kpi_stats",
    "kpi_stats",
    "flow_values",
    "DirectoryLock",
    "now",
]

FORMAT = "nettwin-dataset"
FORMAT_VERSION = 2
"""2: a sample records every path of a split flow (``routes``, ``route_shares``). Version 1 datasets are read as
they are: their shards lack those columns, read as null (no flow splits)."""
MANIFEST = "manifest.json"
SHARD_DIR = "shards"
LOCK = ".lock"
"""The lock file a generating process holds (see :class:`DirectoryLock`)."""

_INT_FLOW = {"tx_packets", "rx_packets", "dropped"}
_INT_LINK = {"drops", "tx_packets"}


def _runs_of(value_type: pa.DataType) -> pa.DataType:
    return pa.list_(pa.list_(value_type))


SCHEMA = pa.schema(
    [
        pa.field("sample_id", pa.int64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("scenario", pa.string()),
        pa.field("seed", pa.int64()),
        pa.field("n_nodes", pa.int32()),
        pa.field("n_links", pa.int32()),
        pa.field("n_flows", pa.int32()),
        pa.field("n_runs", pa.int32()),
        pa.field("flow_src", pa.list_(pa.int32())),
        pa.field("flow_dst", pa.list_(pa.int32())),
        pa.field("paths", pa.list_(pa.list_(pa.int32()))),
        pa.field("routes", pa.list_(pa.list_(pa.list_(pa.int32())))),
        pa.field("route_shares", pa.list_(pa.list_(pa.float64()))),
        pa.field("link_src", pa.list_(pa.int32())),
        pa.field("link_dst", pa.list_(pa.int32())),
        pa.field("link_capacity", pa.list_(pa.float64())),
        pa.field("link_offered_load", pa.list_(pa.float64())),
        pa.field("max_load", pa.float64()),
        *(pa.field(c, _runs_of(pa.int64() if c in _INT_FLOW else pa.float64())) for c in FLOW_COLUMNS),
        *(pa.field(f"link_{c}", _runs_of(pa.int64() if c in _INT_LINK else pa.float64())) for c in LINK_COLUMNS),
        pa.field("wall_seconds", pa.float64()),
        pa.field("meta", pa.string()),
    ]
)
"""One row per sample. ``status`` is ``ok`` or ``failed`` (then ``error`` says why and the KPI columns are null).
``scenario`` is the sample's full scenario as JSON (SI units); ``paths`` the node path of each flow (a split flow's:
the path with the largest share); ``routes`` and ``route_shares`` every path of every flow and its share of the
flow's packets, null when no flow of the sample splits (:mod:`nettwin.data.routes`); ``max_load`` the largest
offered load / capacity over links. Every per-flow column of :data:`nettwin.sim.kpi.FLOW_COLUMNS` is a list of runs,
each a list over flows; per-link columns are prefixed ``link_``. ``meta`` holds each run's engine metadata as JSON."""


def now() -> str:
    """Current UTC time as ISO 8601 text."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    """Versions of the software that wrote a dataset."""
    import nettwin

    return {
        "nettwin": nettwin.__version__,
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "python": platform.python_version(),
    }


def shard_paths(root: Path) -> list[Path]:
    """Shard files of a dataset directory, in name order."""
    folder = root / SHARD_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("part-*.parquet") if p.is_file())


def write_shard(root: Path, rows: Sequence[dict[str, Any]], spec_hash: str) -> Path:
    """Write rows (sorted by sample id) as the next shard, atomically; returns its path."""
    existing = shard_paths(root)
    number = 1 + max((int(p.stem.split("-")[1]) for p in existing), default=-1)
    path = root / SHARD_DIR / f"part-{number:05d}.parquet"
    ordered = sorted(rows, key=lambda r: r["sample_id"])
    table = pa.Table.from_pylist(ordered, schema=SCHEMA)
    _write_table(path, table.replace_schema_metadata({b"nettwin.spec_hash": spec_hash.encode()}))
    return path


def replace_column(path: Path, name: str, values: Sequence[Any]) -> None:
    """Rewrite one column of a shard (one value per row, in the shard's order), atomically; the other columns and
    the shard's metadata are kept."""
    table = pq.read_table(path)
    field = SCHEMA.field(name)
    _write_table(path, table.set_column(table.schema.get_field_index(name), field, pa.array(values, field.type)))


def _write_table(path: Path, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())


def read_table(
    root: Path, manifest: Mapping[str, Any], columns: Iterable[str] | None = None, *, missing_ok: bool = False
) -> pa.Table:
    """All shards of a dataset as one table sorted by ``sample_id`` (always one of the columns), checked against
    the dataset's manifest.

    Shards the manifest does not list yet are read: a run killed between writing a shard and updating the manifest
    leaves one, and its rows are valid. With ``missing_ok`` (the generator, which redoes them), shards the manifest
    lists but that are gone are allowed too.

    Raises
    ------
    DatasetError
        If a shard cannot be read, lacks a column or belongs to another spec; if a sample is stored twice or lies
        beyond the spec's samples; if a listed shard is missing; or if a complete dataset does not hold all its
        samples. The message says what to do.
    """
    cols = None if columns is None else ["sample_id", *(c for c in columns if c != "sample_id")]
    shards = [(path, _read_shard(path, cols)) for path in shard_paths(root)]
    _check_shards(root, manifest, shards, missing_ok)
    if not shards:
        schema = SCHEMA if cols is None else pa.schema([SCHEMA.field(c) for c in cols])
        return schema.empty_table()
    table = pa.concat_tables([t.replace_schema_metadata(None) for _, t in shards]).combine_chunks()
    return table.sort_by("sample_id")


LATER_COLUMNS = ("routes", "route_shares")
"""Columns added to :data:`SCHEMA` after format version 1: a shard written before lacks them, and reads them as null."""


def _read_shard(path: Path, columns: list[str] | None) -> pa.Table:
    try:
        present = set(pq.read_schema(path).names)
        wanted = columns or SCHEMA.names
        absent = [c for c in LATER_COLUMNS if c in wanted and c not in present]
        table = pq.read_table(path, columns=None if columns is None else [c for c in columns if c not in absent])
    except (pa.ArrowException, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DatasetError(
            f"{path}: cannot read this shard ({first}); delete it and run generate again to redo its samples"
        ) from err
    for c in absent:
        field = SCHEMA.field(c)
        at = SCHEMA.get_field_index(c) if columns is None else columns.index(c)
        table = table.add_column(min(at, table.num_columns), field, pa.nulls(table.num_rows, field.type))
    return table


def _check_shards(
    root: Path, manifest: Mapping[str, Any], shards: list[tuple[Path, pa.Table]], missing_ok: bool
) -> None:
    """The one check of a dataset's shards against its manifest (see :func:`read_table`)."""
    rerun = "run 'nettwin dataset generate' again with the same spec and --out to generate them again"
    listed = [str(name) for name in manifest.get("shards") or []]
    names = {path: str(path.relative_to(root)) for path, _ in shards}
    spec_hash = str(manifest.get("spec_hash") or "")  # null for an imported dataset
    for path, table in shards:
        found = (table.schema.metadata or {}).get(b"nettwin.spec_hash", b"").decode()
        if found and spec_hash and found != spec_hash:
            raise DatasetError(
                f"{root}: {names[path]} was generated from another spec (spec hash {found[:12]}…, this dataset "
                f"{spec_hash[:12]}…); it does not belong here: move it out"
            )
    owner: dict[int, Path] = {}
    for path, table in shards:
        for sample in table["sample_id"].to_pylist():
            first = owner.setdefault(sample, path)
            if first != path:
                copies = [names[first], names[path]]
                extra = [n for n in copies if n not in listed]
                advice = (
                    f"delete {extra[-1]}, which the manifest does not list"
                    if extra
                    else f"delete one of them, then {rerun} (what the deleted one held alone)"
                )
                raise DatasetError(
                    f"{root}: sample {sample} is stored twice, in {copies[0]} and {copies[1]} (a shard was copied "
                    f"or the directory edited); {advice}"
                )
    samples = manifest.get("samples")
    beyond = [i for i in owner if isinstance(samples, int) and i >= samples]
    if beyond:
        raise DatasetError(f"{root}: holds sample {max(beyond)}, beyond the dataset's {samples} samples")
    if missing_ok:
        return
    gone = [name for name in listed if not (root / name).is_file()]
    if gone:
        raise DatasetError(
            f"{root}: {len(gone)} shard(s) listed in the manifest are missing ({', '.join(gone[:3])}"
            f"{', …' if len(gone) > 3 else ''}), so their samples are lost; {rerun}"
        )
    if manifest.get("status") == "complete" and isinstance(samples, int) and len(owner) != samples:
        raise DatasetError(
            f"{root}: the manifest says complete with {samples} samples, but the shards hold {len(owner)}; {rerun}"
        )


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a dataset directory.

    Raises
    ------
    DatasetError
        If the directory or manifest is missing, or the manifest is not a nettwin dataset manifest.
    """
    if not root.exists():
        raise DatasetError(f"{root}: no such dataset directory")
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    path = root / MANIFEST
    if not path.is_file():
        raise DatasetError(
            f"{root}: not a nettwin dataset (no {MANIFEST}); generate one with 'nettwin dataset generate'"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as err:
        raise DatasetError(f"{path}: corrupt manifest ({err})") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path}: not a nettwin dataset manifest (format is not '{FORMAT}')")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise DatasetError(
            f"{path}: dataset format version {data.get('format_version')} is newer than this nettwin reads "
            f"({FORMAT_VERSION}); upgrade nettwin"
        )
    return data


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically, as standard JSON (a non-finite number becomes null)."""
    write_json(root / MANIFEST, manifest)


def kpi_stats(table: pa.Table, run: int = 0) -> dict[str, dict[str, float] | None]:
    """Distribution of each per-flow KPI over all flows of the table's ``ok`` rows, for run ``run``.

    Per KPI: ``n``, ``mean``, ``std``, ``min``, ``p25``, ``median``, ``p75``, ``max`` and ``iqr``
    (:func:`nettwin.metrics.describe`; manifests written before ``min`` and ``max`` lack them). NaN values (e.g. the
    delay of a flow that received nothing) are ignored; a KPI without any value gives None.
    """
    ok = table.filter(pc.equal(table["status"], "ok"))
    return {kpi: _describe(flow_values(ok[kpi], run) if ok.num_rows else np.empty(0)) for kpi in FLOW_KPIS}


def _describe(values: np.ndarray) -> dict[str, Any] | None:
    """The statistics of :func:`kpi_stats` of some values (NaN ignored); None if none is finite."""
    stats = describe(values)
    return stats if stats["n"] else None


def training_kpi_stats(root: Path, manifest: Mapping[str, Any], kpis: Sequence[str] = FLOW_KPIS) -> dict[str, Any]:
    """The manifest's KPI statistics: ``kpi_stats`` and ``kpi_iqr`` of ``kpis`` over the flows of the dataset's ok
    training samples (run 0, see :func:`kpi_stats`), and ``kpi_stats_source`` saying so.

    A dataset may be far larger than memory: this reads one KPI at a time, shard by shard, and holds only that KPI's
    training values (8 bytes a flow), never the table. The values are taken in sample order, as :func:`kpi_stats`
    on the whole table takes them, so the statistics are the same to the last bit."""
    paths = shard_paths(root)
    _check_shards(root, manifest, [(path, _read_shard(path, ["sample_id"])) for path in paths], missing_ok=True)
    stats = {k: _describe(_training_values(paths, k)) for k in FLOW_KPIS if k in kpis}
    return {
        "kpi_iqr": {k: (v["iqr"] if v is not None else None) for k, v in stats.items()},
        "kpi_stats": stats,
        "kpi_stats_source": "all flows of ok training samples, run 0 (NaN ignored)",
    }


def _training_values(paths: Sequence[Path], kpi: str) -> np.ndarray:
    """Run 0's values of a per-flow column over the ok training samples of the shards, in sample order."""
    rows: list[tuple[int, np.ndarray]] = []
    for path in paths:
        table = _read_shard(path, ["sample_id", "status", "split", kpi])
        table = table.filter(pc.and_(pc.equal(table["status"], "ok"), pc.equal(table["split"], "train")))
        column = table[kpi].combine_chunks()
        has = pc.fill_null(pc.greater(pc.list_value_length(column), 0), False)
        table, column = table.filter(has), column.filter(has)
        if not len(column):
            continue
        run0 = pc.list_element(column, 0)
        values = np.asarray(pc.list_flatten(run0).to_numpy(zero_copy_only=False), dtype=float)
        ends = np.cumsum(pc.fill_null(pc.list_value_length(run0), 0).to_numpy(zero_copy_only=False))
        rows.extend(zip(table["sample_id"].to_pylist(), np.split(values, ends[:-1]), strict=True))
    rows.sort(key=lambda r: r[0])
    return np.concatenate([v for _, v in rows]) if rows else np.empty(0)


def kpi_iqr(table: pa.Table, run: int = 0) -> dict[str, float | None]:
    """Inter-quartile range of each per-flow KPI (see :func:`kpi_stats`)."""
    return {k: (v["iqr"] if v is not None else None) for k, v in kpi_stats(table, run).items()}


def flow_values(column: pa.ChunkedArray | pa.Array, run: int) -> np.ndarray:
    """All values of a ``[run][item]`` column for one run, concatenated over rows (rows lacking the run skipped)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return np.empty(0)
    has = pc.greater(pc.list_value_length(column), run)
    column = column.filter(pc.fill_null(has, False))
    if len(column) == 0:
        return np.empty(0)
    per_run = pc.list_element(column, run)
    return np.asarray(pc.list_flatten(per_run).to_numpy(zero_copy_only=False), dtype=float)


class DirectoryLock:
    """An exclusive lock on a dataset directory, held while one process generates into it.

    Released when the process ends, however it ends.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK
        self._fd: int | None = None

    def __enter__(self) -> DirectoryLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatasetError(
                f"{self.path.parent}: another process is generating into this directory; wait for it to finish"
            ) from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
