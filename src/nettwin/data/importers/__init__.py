"""Importers: datasets from elsewhere turned into nettwin datasets, one module per source format.

An importer reads a source (a file or directory) and yields :class:`ImportedSample` objects; :func:`import_dataset`
feeds them to a :class:`~nettwin.data.DatasetWriter` with the source's provenance, resumably: an interrupted import
run again with the same source and options goes on from its last complete shard. A sample the source holds but a
nettwin scenario cannot represent is yielded as :class:`Excluded`: left out, listed in the manifest and warned about,
never skipped silently. A new format plugs in with
:func:`register_importer` (by name, as ``nettwin dataset import FORMAT`` names it).
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nettwin._estimator import Registry
from nettwin._json import plain
from nettwin.data.importers.base import Excluded, ExcludedSamplesWarning, ImportedSample, Importer
from nettwin.data.writer import DatasetWriter
from nettwin.errors import DatasetError

__all__ = [
    "ImportedSample",
    "Excluded",
    "ExcludedSamplesWarning",
    "Importer",
    "IMPORTERS",
    "register_importer",
    "get_importer",
    "import_dataset",
]


IMPORTERS: Registry[Importer] = Registry("import format", DatasetError)
"""Importer factories by format name, filled at the end of this module."""


def register_importer(name: str, factory: Callable[[], Importer]) -> None:
    """Make ``nettwin dataset import NAME`` use ``factory()`` (a name in use is replaced)."""
    IMPORTERS.register(name, factory, replace=True)


def get_importer(name: str) -> Importer:
    """The importer of format ``name``.

    Raises
    ------
    DatasetError
        For an unknown format.
    """
    if name not in IMPORTERS:
        raise DatasetError(f"unknown import format '{name}'; known: {', '.join(sorted(IMPORTERS))}")
    return IMPORTERS.create(name)


def import_dataset(
    fmt: str,
    source: str | Path,
    out: str | Path,
    *,
    name: str | None = None,
    seed: int = 0,
    shard_size: int = 256,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Import ``source`` (in format ``fmt``) as a new dataset directory ``out``.

    The directory appears when every sample has been read and written (see :class:`DatasetWriter`): a run
    interrupted (Ctrl-C) or killed half-way leaves no dataset behind but keeps its complete shards, and running it
    again with the same source (unchanged files), format, name, seed and shard size goes on from there; the result
    is the same as an uninterrupted import's.

    Parameters
    ----------
    fmt : the source format (a name in :data:`IMPORTERS`, e.g. ``table``).
    source : the source file or directory.
    out : the dataset directory to create (missing or empty).
    name : the dataset's name (default: the directory's name).
    seed : seed of the split drawn for samples the source gives none.
    shard_size : samples per shard (and per resumable step).
    progress : called as ``progress(done, total)``; ``total`` may be None.

    Returns
    -------
    dict
        ``path``, ``samples``, ``excluded`` (samples left out), ``splits``, ``kpis``, ``link_stats``, ``source``,
        ``wall_seconds`` and ``samples_per_second``.

    Warns
    -----
    ExcludedSamplesWarning
        When samples were left out (listed with their reasons in the manifest's ``source.excluded``).

    Raises
    ------
    DatasetError
        One line naming file, record and field for anything in the source that cannot be imported; or if ``out``
        is not new or empty.
    """
    importer = get_importer(fmt)
    source = Path(source)
    if not source.exists():
        raise DatasetError(f"{source}: no such file or directory")
    t0 = time.perf_counter()
    total = importer.count(source)
    provenance = {"format": fmt, "path": str(source.resolve()), "version": importer.version(source)}
    # an importer may record more, e.g. what each source field means in nettwin's terms
    describe = getattr(importer, "provenance", None)
    if describe is not None:
        provenance.update(describe(source))
    key = _resume_key(fmt, source, Path(out), provenance)
    with DatasetWriter(out, name=name, source=provenance, seed=seed, shard_size=shard_size, resume_key=key) as writer:
        done = writer.resumed or {"read": 0, "excluded": []}
        excluded: list[dict[str, str]] = list(done["excluded"])
        if excluded:
            writer.source["excluded"] = excluded
        if progress is not None:
            progress(len(writer) + len(excluded), total)
        for read, sample in enumerate(importer.samples(source), 1):
            if read <= done["read"]:
                continue  # in the shards of the interrupted run taken over
            if isinstance(sample, Excluded):
                excluded.append({"where": sample.where, "reason": sample.reason})
                writer.source["excluded"] = excluded
                continue
            writer.state = {"read": read, "excluded": list(excluded)}
            writer.add(
                sample.scenario,
                sample.kpis,
                split=sample.split,
                meta=sample.meta,
                wall_seconds=sample.wall_seconds,
                where=sample.where,
            )
            if progress is not None:
                progress(len(writer) + len(excluded), total)
        n = len(writer)
        if n == 0 and excluded:
            first = excluded[0]
            raise DatasetError(
                f"{source}: every sample was left out ({len(excluded)}; the first at {first['where']}: "
                f"{first['reason']})"
            )
    wall = time.perf_counter() - t0
    from nettwin.data.storage import read_manifest

    manifest = read_manifest(Path(out))
    if excluded:
        first = excluded[0]
        warnings.warn(
            f"{len(excluded)} sample(s) of {source} left out ({first['where']}: {first['reason']}"
            f"{'; …' if len(excluded) > 1 else ''}); each is listed in the manifest's source.excluded",
            ExcludedSamplesWarning,
            stacklevel=2,
        )
    return {
        "path": str(out),
        "samples": n,
        "excluded": len(excluded),
        "splits": manifest["split_sizes"],
        "kpis": manifest["kpis"],
        "link_stats": manifest["link_stats"],
        "source": provenance,
        "wall_seconds": wall,
        "samples_per_second": n / wall if wall > 0 else 0.0,
    }


def _resume_key(fmt: str, source: Path, out: Path, provenance: Mapping[str, Any]) -> str:
    """What identifies an import's input: the format, the provenance and every source file's name, size and time
    (leaving out the dataset being written, should it lie inside the source)."""
    skip = out.resolve()
    files = (
        [source]
        if not source.is_dir()
        else sorted(
            p
            for p in source.rglob("*")
            if p.is_file()
            and not any(part.endswith(".importing") for part in p.parts)
            and skip not in p.resolve().parents
        )
    )
    digest = hashlib.sha256(json.dumps([fmt, plain(provenance)], sort_keys=True).encode())
    for path in files:
        stat = path.stat()
        name = path.relative_to(source) if path != source else ""
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _table() -> Importer:
    from nettwin.data.importers.table import TableImporter

    return TableImporter()


def _glance() -> Importer:
    from nettwin.data.importers.glance import GlanceImporter

    return GlanceImporter()


def _datanet() -> Importer:
    from nettwin.data.importers.datanet import DatanetImporter

    return DatanetImporter()


register_importer("table", _table)
register_importer("glance", _glance)
register_importer("datanet", _datanet)
