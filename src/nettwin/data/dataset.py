"""Reading a dataset (generated or imported): the :class:`Dataset` and :class:`Sample` objects twins train on.

Example
-------
>>> ds = Dataset("out/nsfnet-glance")                                   # doctest: +SKIP
>>> len(ds), {k: len(v) for k, v in ds.splits.items()}                  # doctest: +SKIP
(1000, {'train': 800, 'val': 100, 'test': 100})
>>> s = next(ds.samples("train"))                                       # doctest: +SKIP
>>> s.kpis()["delay"].shape, s.network().n_links                        # doctest: +SKIP
((10,), 42)
>>> ds.kpi("delay", "train").shape, ds.iqr("delay")                     # doctest: +SKIP
((8000,), 0.0123)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nettwin.data import storage
from nettwin.data.routes import pin_routes
from nettwin.data.spec import SPLITS, DatasetSpec
from nettwin.errors import DatasetError
from nettwin.scenario.io import parse_scenario
from nettwin.scenario.network import Network, build_links, build_network
from nettwin.scenario.spec import Scenario
from nettwin.sim.kpi import FLOW_COLUMNS, FLOW_KPIS, LINK_COLUMNS

__all__ = ["Dataset", "Sample"]


class Sample:
    """One sample of a dataset: its scenario, resolved paths, and per-run KPIs.

    Attributes
    ----------
    id : the sample id (0..samples-1).
    split : ``train``, ``val`` or ``test``.
    status : ``ok`` or ``failed``; ``error`` says why a sample failed.
    n_runs : runs stored (1, or 1 + simbase_runs for test samples; 0 for failed ones).
    """

    def __init__(self, table: pa.Table, row: int) -> None:
        self._table = table
        self._row = row
        self.id = int(self._get("sample_id"))
        self.split = str(self._get("split"))
        self.status = str(self._get("status"))
        self.error = self._get("error")
        self.n_runs = int(self._get("n_runs") or 0)

    def __repr__(self) -> str:
        flows = self._get("n_flows")
        return f"Sample(id={self.id}, split={self.split!r}, status={self.status!r}, flows={flows}, runs={self.n_runs})"

    def _get(self, column: str) -> Any:
        return self._table.column(column)[self._row].as_py()

    @cached_property
    def scenario(self) -> Scenario:
        """The sample's scenario, exactly as simulated."""
        text = self._get("scenario")
        if text is None:
            raise DatasetError(f"sample {self.id} has no scenario (it failed before one was drawn: {self.error})")
        return parse_scenario(json.loads(text), f"sample {self.id}")

    def network(self) -> Network:
        """The scenario resolved by :func:`nettwin.scenario.build_network`, each flow on the path the engine routed
        it in run 0 (:attr:`paths`), a split flow on every path it was recorded on, with its share (:attr:`routes`).

        Pinning the recorded paths matters where the engine routes by itself: ns-3's OLSR sends wireless flows over
        several hops although every node is in radio range of the others, so the scenario's own shortest paths
        would not be the paths the KPIs were measured on. Wired samples are routed as their scenario says, so
        there the paths are the same.
        """
        scenario, paths = self.scenario, self.paths
        if len(paths) != len(scenario.flows):
            return build_network(scenario)
        # paths hold node indices; a flow names nodes as the scenario format reads them (a number is a name where
        # the topology names nodes by numbers, e.g. a topohub network of AS numbers)
        links = build_links(scenario.topology)
        routes = self._get("routes")
        scenario = pin_routes(scenario, links.nodes, paths, routes, routes and self._get("route_shares"))
        return build_network(scenario, links=links)

    @property
    def seed(self) -> int | None:
        """The simulation seed of the sample (None for an imported sample whose source gave none)."""
        seed = self._get("seed")
        return None if seed is None else int(seed)

    @property
    def src(self) -> np.ndarray:
        """(F,) source node of each flow."""
        return np.asarray(self._get("flow_src"), dtype=np.int64)

    @property
    def dst(self) -> np.ndarray:
        """(F,) destination node of each flow."""
        return np.asarray(self._get("flow_dst"), dtype=np.int64)

    @property
    def paths(self) -> tuple[tuple[int, ...], ...]:
        """Node path of each flow, source first (a split flow's: the path with the largest share; every one of them
        with its share: :attr:`routes`)."""
        return tuple(tuple(p) for p in self._get("paths") or ())

    @property
    def routes(self) -> tuple[tuple[tuple[int, ...], ...], ...] | None:
        """Node paths of every path of each flow, source first (their shares: :attr:`route_shares`); None when no
        flow of the sample splits over several paths (or the dataset predates split flows)."""
        routes = self._get("routes")
        return None if routes is None else tuple(tuple(tuple(p) for p in flow) for flow in routes)

    @property
    def route_shares(self) -> tuple[tuple[float, ...], ...] | None:
        """The share of each flow's packets each of its :attr:`routes` carries; None as :attr:`routes`."""
        shares = self._get("route_shares")
        return None if shares is None else tuple(tuple(s) for s in shares)

    @property
    def link_capacity(self) -> np.ndarray:
        """(L,) link capacities (bit/s) in network link order."""
        return np.asarray(self._get("link_capacity"), dtype=float)

    @property
    def offered_load(self) -> np.ndarray:
        """(L,) long-run offered bit/s per link (ignoring losses)."""
        return np.asarray(self._get("link_offered_load"), dtype=float)

    @property
    def meta(self) -> list[dict[str, Any]]:
        """Engine metadata of each run."""
        text = self._get("meta")
        return json.loads(text) if text else []

    def _run(self, column: str, run: int) -> np.ndarray:
        if self.status != "ok":
            raise DatasetError(f"sample {self.id} failed ({self.error}); it has no KPIs")
        if not 0 <= run < self.n_runs:
            raise DatasetError(f"sample {self.id} ({self.split}) has runs 0..{self.n_runs - 1}, not run {run}")
        runs = self._table.column(column)[self._row]
        return runs.values[run].values.to_numpy(zero_copy_only=False)

    def _present(self, column: str) -> bool:
        return self._table.column(column)[self._row].is_valid

    def kpis(self, run: int = 0) -> dict[str, np.ndarray]:
        """Per-flow columns of one run (the names of :data:`~nettwin.sim.kpi.FLOW_COLUMNS` the dataset holds: an
        imported one may lack some), (F,) arrays."""
        return {c: self._run(c, run) for c in FLOW_COLUMNS if self.status != "ok" or self._present(c)}

    def links(self, run: int = 0) -> dict[str, np.ndarray]:
        """Per-link columns of one run (the names of :data:`~nettwin.sim.kpi.LINK_COLUMNS` the dataset holds),
        (L,) arrays."""
        return {
            c: self._run(f"link_{c}", run) for c in LINK_COLUMNS if self.status != "ok" or self._present(f"link_{c}")
        }


class Dataset:
    """A dataset directory written by :func:`nettwin.data.generate_dataset`, :class:`~nettwin.data.DatasetWriter`
    or ``nettwin dataset import``.

    ``len()`` and iteration count the samples that were generated successfully (``ok``); failed samples are
    listed by :attr:`failed`. An incomplete dataset (an interrupted run) can be read; :attr:`complete` tells.

    Raises
    ------
    DatasetError
        If the directory is missing or is not a dataset; when rows are first read, if a shard cannot be read or
        the shards do not match the manifest (a shard missing or stored twice; see
        :func:`nettwin.data.storage.read_table`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.manifest: dict[str, Any] = storage.read_manifest(self.path)

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, samples={len(self)}, status={self.manifest.get('status')!r})"

    @cached_property
    def _all(self) -> pa.Table:
        table = storage.read_table(self.path, self.manifest)
        missing = [f.name for f in storage.SCHEMA if f.name not in table.column_names]
        if missing:
            raise DatasetError(f"{self.path}: shards lack column(s) {', '.join(missing)}")
        return table

    @cached_property
    def _ok(self) -> pa.Table:
        return self._all.filter(pc.equal(self._all["status"], "ok"))

    @property
    def complete(self) -> bool:
        """Whether every sample of the spec has been generated."""
        return self.manifest.get("status") == "complete"

    @cached_property
    def spec(self) -> DatasetSpec:
        """The spec the dataset was generated from (resolved form).

        Raises
        ------
        DatasetError
            If the dataset was imported (it has no spec; :attr:`source` says where it came from).
        """
        resolved = self.manifest.get("spec_resolved")
        if resolved is None:
            raise DatasetError(f"{self.path}: was imported ({self._source_text()}), not generated: it has no spec")
        return DatasetSpec.from_resolved(resolved)

    @property
    def source(self) -> dict[str, Any] | None:
        """Provenance of an imported dataset (``format``, ``path``, ``version``, …); None for a generated one."""
        return self.manifest.get("source")

    @property
    def kpis(self) -> list[str]:
        """Per-flow columns the dataset holds: all of :data:`~nettwin.sim.kpi.FLOW_COLUMNS` for a generated
        dataset, those its source recorded for an imported one."""
        listed = self.manifest.get("kpis")
        return list(FLOW_COLUMNS) if listed is None else [c for c in FLOW_COLUMNS if c in listed]

    def _source_text(self) -> str:
        source = self.source or {}
        return " from ".join(str(source[k]) for k in ("format", "path") if source.get(k)) or "source unknown"

    def _check_kpi(self, name: str) -> None:
        if name not in FLOW_COLUMNS:
            raise DatasetError(f"unknown KPI '{name}'; known: {', '.join(FLOW_COLUMNS)}")
        if name not in self.kpis:
            raise DatasetError(
                f"{self.path}: has no '{name}' (its source, {self._source_text()}, does not record it); "
                f"it holds {', '.join(k for k in self.kpis if k in FLOW_KPIS) or 'only packet counts'}"
            )

    def __len__(self) -> int:
        return self._ok.num_rows

    def __iter__(self) -> Iterator[Sample]:
        return self.samples()

    @property
    def splits(self) -> dict[str, np.ndarray]:
        """Ids of the ok samples of each split."""
        ids = self._ok["sample_id"].to_numpy()
        split = np.asarray(self._ok["split"].to_pylist(), dtype=object)
        return {s: ids[split == s] for s in SPLITS}

    @property
    def failed(self) -> list[tuple[int, str]]:
        """``(sample id, error)`` of every failed sample."""
        bad = self._all.filter(pc.equal(self._all["status"], "failed"))
        return list(zip(bad["sample_id"].to_pylist(), bad["error"].to_pylist(), strict=True))

    def samples(self, split: str | None = None, include_failed: bool = False) -> Iterator[Sample]:
        """Samples in id order, optionally of one split only."""
        table = self._all if include_failed else self._ok
        if split is not None:
            _check_split(split)
            table = table.filter(pc.equal(table["split"], split))
        for row in range(table.num_rows):
            yield Sample(table, row)

    def sample(self, sample_id: int) -> Sample:
        """One sample by id (ok or failed)."""
        hits = np.nonzero(self._all["sample_id"].to_numpy() == sample_id)[0]
        if len(hits) == 0:
            raise DatasetError(f"{self.path}: no sample {sample_id}")
        return Sample(self._all, int(hits[0]))

    def kpi(self, name: str, split: str | None = None, run: int = 0) -> np.ndarray:
        """One per-flow column of one run, concatenated over the flows of every ok sample (in id order).

        Samples without run ``run`` (runs ≥ 1 exist for test samples only) are skipped.
        """
        self._check_kpi(name)
        table = self._ok
        if split is not None:
            _check_split(split)
            table = table.filter(pc.equal(table["split"], split))
        return storage.flow_values(table[name], run)

    def iqr(self, kpi: str) -> float:
        """Inter-quartile range of a KPI over all flows of the training samples' run 0 (for NMAE)."""
        if kpi not in FLOW_KPIS:
            raise DatasetError(f"unknown KPI '{kpi}'; known: {', '.join(FLOW_KPIS)}")
        self._check_kpi(kpi)
        stored = self.manifest.get("kpi_iqr")
        if stored is not None and kpi in stored:
            value = stored[kpi]
        else:  # an incomplete dataset: compute from what is there
            train = self._ok.filter(pc.equal(self._ok["split"], "train"))
            value = storage.kpi_iqr(train)[kpi]
        if value is None:
            raise DatasetError(f"{self.path}: no training values of '{kpi}' to take an IQR from")
        return float(value)

    def table(self) -> pa.Table:
        """Every row (ok and failed), sorted by sample id, as a pyarrow Table (schema :data:`storage.SCHEMA`)."""
        return self._all


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DatasetError(f"unknown split '{split}'; choose one of {', '.join(SPLITS)}")
