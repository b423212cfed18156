"""What every importer yields and offers: the types of :mod:`nettwin.data.importers`, kept apart from its
registry so that an importer module can use them without importing the registry that imports it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nettwin.errors import NettwinWarning
from nettwin.scenario.spec import Scenario

__all__ = ["ImportedSample", "Excluded", "ExcludedSamplesWarning", "Importer"]


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
