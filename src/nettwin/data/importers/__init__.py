"""Importers: datasets from elsewhere turned into nettwin datasets, one module per source format.

An importer reads a source (a file or directory) and yields :class:`ImportedSample` objects; :func:`import_dataset`
feeds them to a :class:`~nettwin.data.DatasetWriter` with the source's provenance. A sample the source holds but a
nettwin scenario cannot represent is yielded as :class:`Excluded`: left out, listed in the manifest and warned about,
never skipped silently. A new format plugs in with
:func:`register_importer` (by name, as ``nettwin dataset import FORMAT`` names it).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nettwin.data.writer import DatasetWriter
from nettwin.errors import DatasetError, NettwinWarning
from nettwin.scenario.spec import Scenario

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


@dataclass
class ImportedSample:
    """One sample read from a source: the arguments of :meth:`DatasetWriter.add`, and where it was read from."""

    where: str
    scenario: Scenario | Mapping[str, Any]
    kpis: Mapping[str, Sequence[Any]]
    split: str | None = None
    meta: Sequence[Mapping[str, Any]] | None = None
    wall_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Excluded:
    """A sample of the source left out on purpose: where it was read from, and why nettwin cannot represent it."""

    where: str
    reason: str


class ExcludedSamplesWarning(NettwinWarning):
    """An import left samples out (each listed, with its reason, in the manifest's ``source.excluded``)."""


class Importer(Protocol):
    """What an importer module offers."""

    def samples(self, source: Path) -> Iterator[ImportedSample | Excluded]:
        """The source's samples in order (:class:`Excluded` for one nettwin cannot represent); raises
        :class:`~nettwin.errors.DatasetError` naming file, record and field for anything it cannot read."""
        ...

    def count(self, source: Path) -> int | None:
        """How many samples the source holds (for a progress bar), or None if that is costly to know."""
        ...

    def version(self, source: Path) -> str | None:
        """The source's format version, if it states one."""
        ...


IMPORTERS: dict[str, Callable[[], Importer]] = {}
"""Importer factories by format name."""


def register_importer(name: str, factory: Callable[[], Importer]) -> None:
    """Make ``nettwin dataset import NAME`` use ``factory()``."""
    IMPORTERS[name] = factory


def get_importer(name: str) -> Importer:
    """The importer of format ``name``.

    Raises
    ------
    DatasetError
        For an unknown format.
    """
    if name not in IMPORTERS:
        raise DatasetError(f"unknown import format '{name}'; known: {', '.join(sorted(IMPORTERS))}")
    return IMPORTERS[name]()


def import_dataset(
    fmt: str,
    source: str | Path,
    out: str | Path,
    *,
    name: str | None = None,
    seed: int = 0,
    progress: Callable[[int, int | None], None] | None = None,
) -> dict[str, Any]:
    """Import ``source`` (in format ``fmt``) as a new dataset directory ``out``.

    The directory appears when every sample has been read and written (see :class:`DatasetWriter`): a run
    interrupted half-way leaves no dataset behind, and running it again starts afresh.

    Parameters
    ----------
    fmt : the source format (a name in :data:`IMPORTERS`, e.g. ``table``).
    source : the source file or directory.
    out : the dataset directory to create (missing or empty).
    name : the dataset's name (default: the directory's name).
    seed : seed of the split drawn for samples the source gives none.
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
    excluded: list[dict[str, str]] = []
    with DatasetWriter(out, name=name, source=provenance, seed=seed) as writer:
        if progress is not None:
            progress(0, total)
        for sample in importer.samples(source):
            if isinstance(sample, Excluded):
                excluded.append({"where": sample.where, "reason": sample.reason})
                writer.source["excluded"] = excluded
                continue
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
