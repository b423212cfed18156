"""Writing a dataset from Python: :class:`DatasetWriter` turns scenarios and their measured KPIs into a nettwin
dataset directory, the same layout ``nettwin dataset generate`` writes.

This is how data from elsewhere (another simulator, a testbed, a public dataset) becomes a first-class dataset:
``nettwin dataset info``, ``train``, ``evaluate`` and :class:`~nettwin.data.Dataset` read it unchanged. Its manifest
records where the data came from (``source``) and which KPIs it holds (``kpis``); it has no spec and no seed of
its own (``spec``, ``spec_hash`` and ``seed`` are null). A KPI the source does not record is absent, never
filled with NaN.

The directory appears whole or not at all: samples are written into a hidden sibling directory that is renamed
to the destination when :meth:`DatasetWriter.close` finishes, so a run killed half-way leaves ``out`` untouched.
Each full shard goes to that directory as soon as it is complete, so a writer holds at most one shard's samples in
memory, however many it writes. A writer given a ``resume_key`` records its progress with each shard and keeps
its staging directory when interrupted (Ctrl-C) or killed; the next writer to the same ``out`` with the same key
and options takes it over and goes on from the last complete shard (see :attr:`DatasetWriter.resumed`).

Example
-------
>>> import tempfile, pathlib
>>> from nettwin.data import Dataset
>>> out = pathlib.Path(tempfile.mkdtemp()) / "measured"
>>> with DatasetWriter(out, name="measured") as w:
...     w.add({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
...            "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "100kbps"}}]},
...           {"delay": [[0.004]], "throughput": [[99000.0]]}, split="train")
0
>>> Dataset(out).manifest["kpis"]
['delay', 'throughput']
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nettwin._json import write_json
from nettwin.data import storage
from nettwin.data.routes import pin_routes, route_columns
from nettwin.data.sampling import scenario_json
from nettwin.data.spec import SPLITS, Splits
from nettwin.errors import DatasetError, NettwinError
from nettwin.scenario.io import parse_scenario
from nettwin.scenario.limits import MAX_SEED
from nettwin.scenario.network import build_network
from nettwin.scenario.spec import Scenario
from nettwin.sim.kpi import FLOW_COLUMNS, LINK_COLUMNS

__all__ = ["DatasetWriter", "INT_COLUMNS", "RUN_COLUMNS"]

INT_COLUMNS = frozenset({"tx_packets", "rx_packets", "dropped", "link_drops", "link_tx_packets"})
"""Per-run columns holding whole counts; every other per-run column holds real numbers (NaN allowed)."""

RUN_COLUMNS = (*FLOW_COLUMNS, *(f"link_{c}" for c in LINK_COLUMNS))
"""Every per-run column a sample may hold: the per-flow ones, then the per-link ones prefixed ``link_``."""
_PENDING = ""
_PROGRESS = "progress.json"
_ACTIVE: set[Path] = set()
"""Staging directories of the writers open in this process (never taken over by another writer)."""
"""The split a staged row holds until :meth:`DatasetWriter.close` draws it (the column admits no null)."""
_STAGING = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]+\.importing")


class DatasetWriter:
    """Write samples (a scenario plus per-run, per-flow KPIs) into a new dataset directory.

    Parameters
    ----------
    out : the dataset directory to create; it must not exist, or be empty.
    name : the dataset's name (default: the directory's name).
    source : provenance stored in the manifest as ``source`` (e.g. ``{"format": "table", "path": ...,
        "version": None}``); default ``{"format": "python"}``.
    seed : seed of the permutation that assigns a split to samples added without one (exact sizes, as
        ``generate`` does); recorded in the manifest as ``split_seed`` only when used.
    splits : fractions for those drawn splits (default 0.8 / 0.1 / 0.1).
    shard_size : samples per Parquet shard, and the most a writer holds in memory: each full shard is written at
        once (samples added without a split get theirs at :meth:`close`, which rewrites that column of their shards).
    resume_key : makes the writing resumable: a string that identifies what is written (e.g. a hash of the source
        and the options). A staging directory left by an interrupted or killed writer to the same ``out`` with the
        same key, name, seed, splits and shard size is taken over: its complete shards are kept, ``len(self)``
        counts their samples and :attr:`resumed` is the ``state`` saved with the last of them.

    Every sample must hold the same KPIs (flow columns of :data:`~nettwin.sim.kpi.FLOW_COLUMNS`, link columns
    ``link_<stat>`` of :data:`~nettwin.sim.kpi.LINK_COLUMNS`); the first sample added fixes which.

    Raises
    ------
    DatasetError
        From the constructor if ``out`` exists and is not an empty directory or ``shard_size`` is below 1; from
        :meth:`add` for a sample that does not fit (the message names the field); from :meth:`close` if no sample
        was added.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        name: str | None = None,
        source: Mapping[str, Any] | None = None,
        seed: int = 0,
        splits: Splits | Mapping[str, float] | None = None,
        shard_size: int = 256,
        resume_key: str | None = None,
    ) -> None:
        self.out = Path(out)
        if self.out.exists() and not (self.out.is_dir() and not any(self.out.iterdir())):
            raise DatasetError(f"{self.out}: exists and is not an empty directory; choose a new --out")
        if not 0 <= int(seed) <= MAX_SEED:
            raise DatasetError(f"seed must be between 0 and 2**63 - 1, got {seed}")
        if int(shard_size) < 1:
            raise DatasetError(f"shard_size must be at least 1, got {shard_size}")
        self.name = name or self.out.name
        self.source = dict(source or {"format": "python"})
        self.seed = int(seed)
        self.splits = splits if isinstance(splits, Splits) else Splits.model_validate(dict(splits or {}))
        self.shard_size = int(shard_size)
        self._rows: list[dict[str, Any]] = []  # the samples not yet in a shard: fewer than shard_size
        self._shards: list[tuple[Path, range]] = []  # written shards and the sample ids each holds
        # what the manifest and the drawn splits need of every sample, kept for all of them (a few bytes each)
        self._split: list[str | None] = []
        self._n_runs: list[int] = []
        self._engines: set[str | None] = set()
        self._columns: tuple[str, ...] | None = None
        self._stage: Path | None = None
        self._remove_stage: weakref.finalize | None = None
        self._closed = False
        self.resume_key = resume_key
        self.state: dict[str, Any] = {}
        """The caller's progress (JSON), saved with each shard when there is a ``resume_key``."""
        self.resumed: dict[str, Any] | None = None
        """The ``state`` saved with the last complete shard of the run taken over, or None for a fresh start."""
        if resume_key is not None:
            self._take_over()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        elif self.resume_key is not None and not issubclass(exc_type, Exception):
            self.suspend()  # interrupted, not failed: the next run goes on from here
        else:
            self.discard()

    def __len__(self) -> int:
        return len(self._split)

    @property
    def kpis(self) -> list[str]:
        """Per-run columns the samples hold (fixed by the first sample)."""
        return list(self._columns or ())

    def add(
        self,
        scenario: Scenario | Mapping[str, Any],
        kpis: Mapping[str, Sequence[Any]],
        *,
        split: str | None = None,
        meta: Sequence[Mapping[str, Any]] | None = None,
        wall_seconds: float | None = None,
        where: str | None = None,
    ) -> int:
        """Add one sample; returns its id (0, 1, … in the order added).

        Parameters
        ----------
        scenario : a scenario (object or mapping in the scenario format: ``topology``, ``flows``, optional
            ``name``, ``routing``, ``simulation``). A flow's ``path`` (node list) is the route it took; a flow
            without one is routed as the scenario says.
        kpis : per-run columns, each a list over runs (run 0 the reference, runs 1.. for SimBase) of lists over
            flows (``delay``, …) or links in network order (``link_utilisation``, …); SI units; NaN or None for a
            value the run did not measure (e.g. the delay of a flow that received nothing).
        split : ``train``, ``val`` or ``test``; None draws one at :meth:`close`.
        meta : optional per-run metadata (``wall_seconds`` of run 0 is read by ``evaluate``).
        wall_seconds : optional seconds the sample's runs took to simulate or measure.
        where : prefix of error messages (default ``sample <id>``).
        """
        if self._closed:
            raise DatasetError(f"{self.out}: this writer is closed")
        sample_id = len(self._split)
        where = where or f"sample {sample_id}"
        if split is not None and split not in SPLITS:
            raise DatasetError(f"{where}: split: must be one of {', '.join(SPLITS)}, got {split!r}")
        if not isinstance(scenario, Scenario):
            scenario = _parse(scenario, where)
        try:
            network = build_network(scenario)
        except NettwinError as err:
            raise DatasetError(_prefixed(where, err)) from err
        paths = [[int(network.link_src[f.path[0]]), *(int(network.link_dst[k]) for k in f.path)] for f in network.flows]
        routes = route_columns(network)
        # The stored scenario names each flow's route(s), so the dataset says which paths its KPIs were measured on.
        scenario = pin_routes(scenario, network.nodes, paths, routes["routes"], routes["route_shares"])
        runs = self._runs(kpis, network.n_flows, network.n_links, where)
        n_runs = len(next(iter(runs.values())))
        if meta is not None and (
            not isinstance(meta, Sequence) or len(meta) != n_runs or not all(isinstance(m, Mapping) for m in meta)
        ):
            raise DatasetError(f"{where}: meta: must be a list of {n_runs} objects, one per run")
        offered = network.offered_load
        given_seed = "seed" in scenario.simulation.model_fields_set
        stored = scenario_json(scenario)
        row: dict[str, Any] = {
            "sample_id": sample_id,
            "split": split or _PENDING,
            "status": "ok",
            "error": None,
            "scenario": stored,
            "seed": scenario.simulation.seed if given_seed else None,
            "n_nodes": network.n_nodes,
            "n_links": network.n_links,
            "n_flows": network.n_flows,
            "n_runs": n_runs,
            "flow_src": [f.src for f in network.flows],
            "flow_dst": [f.dst for f in network.flows],
            "paths": paths,
            **routes,
            "link_src": network.link_src.tolist(),
            "link_dst": network.link_dst.tolist(),
            "link_capacity": network.capacity.astype(float).tolist(),
            "link_offered_load": offered.astype(float).tolist(),
            "max_load": float(np.max(offered / network.capacity)) if network.n_links else None,
            **runs,
            "wall_seconds": None if wall_seconds is None else _number(wall_seconds, f"{where}: wall_seconds"),
            "meta": None if meta is None else json.dumps([dict(m) for m in meta], separators=(",", ":")),
        }
        self._rows.append(row)
        self._split.append(split)
        self._n_runs.append(n_runs)
        self._engines.add(json.loads(stored).get("simulation", {}).get("engine"))
        if len(self._rows) >= self.shard_size:
            self._flush()
        return sample_id

    def _flush(self) -> Path:
        """Write the buffered samples as the next shard of the staging directory; returns that directory."""
        if self._stage is None:
            self._own(self._staging_dir())
        assert self._stage is not None
        if self._rows:
            ids = range(self._rows[0]["sample_id"], self._rows[-1]["sample_id"] + 1)
            self._shards.append((storage.write_shard(self._stage, self._rows, ""), ids))
            self._rows = []
            if self.resume_key is not None:
                write_json(self._stage / _PROGRESS, self._progress())
        return self._stage

    def _own(self, stage: Path) -> None:
        self._stage = stage
        _ACTIVE.add(stage)
        # a writer dropped without close or discard leaves nothing behind (at the latest when Python exits)
        self._remove_stage = weakref.finalize(self, _remove, stage, os.getpid())

    def _options(self) -> dict[str, Any]:
        return {
            "key": self.resume_key,
            "name": self.name,
            "seed": self.seed,
            "splits": self.splits.model_dump(mode="json"),
            "shard_size": self.shard_size,
        }

    def _progress(self) -> dict[str, Any]:
        assert self._stage is not None
        return {
            **self._options(),
            "columns": list(self._columns or ()),
            "shards": [[str(path.relative_to(self._stage)), ids.start, ids.stop] for path, ids in self._shards],
            "split": self._split,
            "n_runs": self._n_runs,
            "engines": sorted(self._engines, key=str),
            "state": self.state,
        }

    def _take_over(self) -> None:
        """Adopt the staging directory of an interrupted writer with the same key and options, if there is one."""
        for old in sorted(self.out.parent.glob(f".{self.out.name}.*.importing")):
            match = _STAGING.fullmatch(old.name)
            pid = int(match["pid"]) if match and match["name"] == self.out.name else None
            if pid is None or not _abandoned(old, pid):
                continue
            try:
                progress = json.loads((old / _PROGRESS).read_text())
            except (OSError, ValueError):
                continue  # stopped before its first shard was recorded: nothing to keep
            if not isinstance(progress, dict) or any(progress.get(k) != v for k, v in self._options().items()):
                continue
            stage = old.with_name(f".{self.out.name}.{os.getpid()}.{secrets.token_hex(4)}.importing")
            os.replace(old, stage)
            listed = {stage / name for name, _, _ in progress["shards"]}
            for path in storage.shard_paths(stage):
                if path not in listed:
                    path.unlink()  # written after the last recorded progress: its samples come again
            self._own(stage)
            self._shards = [(stage / name, range(start, stop)) for name, start, stop in progress["shards"]]
            self._split = list(progress["split"])
            self._n_runs = list(progress["n_runs"])
            self._engines = set(progress["engines"])
            self._columns = tuple(progress["columns"]) or None
            self.state = dict(progress["state"])
            self.resumed = dict(progress["state"])
            return

    def suspend(self) -> None:
        """Stop writing but keep what is staged, for the next writer with the same ``resume_key`` to take over."""
        self._closed = True
        self._rows = []
        if self._remove_stage is not None:
            self._remove_stage.detach()
        _ACTIVE.discard(self._stage)  # type: ignore[arg-type]
        self._stage = self._remove_stage = None

    def _runs(self, kpis: Mapping[str, Sequence[Any]], n_flows: int, n_links: int, where: str) -> dict[str, Any]:
        unknown = [k for k in kpis if k not in RUN_COLUMNS]
        if unknown:
            raise DatasetError(f"{where}: {unknown[0]}: not a KPI or link statistic; known: {', '.join(RUN_COLUMNS)}")
        names = tuple(c for c in RUN_COLUMNS if c in kpis)
        if not any(c in FLOW_COLUMNS for c in names):
            raise DatasetError(f"{where}: holds no per-flow KPI; give at least one of {', '.join(FLOW_COLUMNS)}")
        if self._columns is None:
            self._columns = names
        elif names != self._columns:
            extra = sorted(set(names) - set(self._columns))
            lacking = sorted(set(self._columns) - set(names))
            what = f"has {extra[0]}, which" if extra else f"lacks {lacking[0]}, which"
            raise DatasetError(
                f"{where}: {what} the first sample {'does not have' if extra else 'has'}; every sample holds the "
                "same KPIs"
            )
        out: dict[str, Any] = {}
        n_runs = None
        for c in names:
            values = kpis[c]
            if isinstance(values, np.ndarray):
                values = values.tolist()
            width, over = (n_links, "links") if c.startswith("link_") else (n_flows, "flows")
            if _is_flat(values):
                values = [values]  # one run given as a plain list
            if not isinstance(values, Sequence) or isinstance(values, str) or not values:
                raise DatasetError(f"{where}: {c}: must be a list of runs, each a list over {over}")
            if n_runs is None:
                n_runs = len(values)
            elif len(values) != n_runs:
                raise DatasetError(f"{where}: {c}: has {len(values)} run(s), other KPIs {n_runs}")
            out[c] = [_run_values(run, width, over, c, f"{where}: {c}[{r}]") for r, run in enumerate(values)]
        return out

    def discard(self) -> None:
        """Drop everything added; nothing is written, and what was staged is removed."""
        self._closed = True
        self._rows = []
        if self._remove_stage is not None:
            self._remove_stage()
        _ACTIVE.discard(self._stage)  # type: ignore[arg-type]
        self._stage = self._remove_stage = None

    def close(self) -> dict[str, Any]:
        """Assign the missing splits, write the last shard and the manifest, and move the directory into place.

        Returns the manifest.
        """
        if self._closed:
            raise DatasetError(f"{self.out}: this writer is closed")
        if not self._split:
            raise DatasetError(f"{self.out}: no samples to write")
        self._closed = True
        try:
            drawn = self._assign_splits()
            stage = self._flush()
            (stage / _PROGRESS).unlink(missing_ok=True)
            manifest = self._manifest(stage, drawn)
            storage.write_manifest(stage, manifest)
            if self.out.is_dir():
                self.out.rmdir()  # empty, checked in the constructor
            os.replace(stage, self.out)
            if self._remove_stage is not None:
                self._remove_stage.detach()
            _ACTIVE.discard(stage)
            self._stage = self._remove_stage = None
        except BaseException:
            self.discard()
            raise
        finally:
            self._rows = []
        return manifest

    def _assign_splits(self) -> bool:
        """Draw the split of every sample added without one (a seeded permutation: exact sizes), in the buffered
        rows and in the shards already written."""
        missing = [i for i, s in enumerate(self._split) if s is None]
        if not missing:
            return False
        order = np.random.default_rng(np.random.SeedSequence(self.seed)).permutation(len(missing))
        sizes = self.splits.sizes(len(missing))
        start = 0
        for name in SPLITS:
            for k in order[start : start + sizes[name]]:
                self._split[missing[int(k)]] = name
            start += sizes[name]
        for row in self._rows:
            row["split"] = self._split[row["sample_id"]]
        pending = set(missing)
        for path, ids in self._shards:
            if any(i in pending for i in ids):
                storage.replace_column(path, "split", self._split[ids.start : ids.stop])
        return True

    def _staging_dir(self) -> Path:
        parent = self.out.parent
        parent.mkdir(parents=True, exist_ok=True)
        for old in parent.glob(f".{self.out.name}.*.importing"):
            match = _STAGING.fullmatch(old.name)
            if match and match["name"] == self.out.name and _abandoned(old, int(match["pid"])):
                shutil.rmtree(old, ignore_errors=True)  # left by a killed or interrupted writer
        stage = parent / f".{self.out.name}.{os.getpid()}.{secrets.token_hex(4)}.importing"
        stage.mkdir()
        return stage

    def _manifest(self, root: Path, drawn: bool) -> dict[str, Any]:
        n = len(self._split)
        counts = {s: {"ok": self._split.count(s), "failed": 0} for s in SPLITS}
        test_runs = [r for s, r in zip(self._split, self._n_runs, strict=True) if s == "test"]
        engines = set(self._engines)
        flow_kpis = [c for c in self.kpis if c in FLOW_COLUMNS]
        created = storage.now()
        manifest: dict[str, Any] = {
            "format": storage.FORMAT,
            "format_version": storage.FORMAT_VERSION,
            "name": self.name,
            "status": "complete",
            "origin": "imported",
            "source": self.source,
            "spec": None,
            "spec_resolved": None,
            "spec_hash": None,
            "seed": None,
            "split_seed": self.seed if drawn else None,
            "engine": engines.pop() if len(engines) == 1 else None,
            "samples": n,
            "simbase_runs": max(test_runs) - 1 if test_runs else 0,
            "split_sizes": {s: counts[s]["ok"] for s in SPLITS},
            "kpis": flow_kpis,
            "link_stats": [c.removeprefix("link_") for c in self.kpis if c.startswith("link_")],
            "versions": storage.versions(),
            "created": created,
            "updated": created,
            "counts": {"samples": n, "ok": n, "failed": 0, "splits": counts},
            "shards": [str(p.relative_to(root)) for p in storage.shard_paths(root)],
            **storage.training_kpi_stats(root, {}, flow_kpis),
        }
        return manifest


def _parse(data: Mapping[str, Any], where: str) -> Scenario:
    if not isinstance(data, Mapping):
        raise DatasetError(f"{where}: scenario: must be an object with topology and flows")
    topology = data.get("topology")
    if isinstance(topology, Mapping) and "file" in topology:
        raise DatasetError(f"{where}: topology.file: not allowed here; give the nodes and links themselves")
    try:
        return parse_scenario(dict(data))
    except NettwinError as err:
        raise DatasetError(_prefixed(where, err)) from err


def _prefixed(where: str, err: BaseException) -> str:
    return "\n".join(f"{where}: {line}" for line in str(err).strip().splitlines() if line.strip())


def _is_flat(values: Any) -> bool:
    return (
        isinstance(values, Sequence)
        and not isinstance(values, str)
        and bool(values)
        and not isinstance(values[0], Sequence | np.ndarray)
    )


def _run_values(run: Any, width: int, over: str, column: str, where: str) -> list[Any]:
    if isinstance(run, np.ndarray):
        run = run.tolist()
    if not isinstance(run, Sequence) or isinstance(run, str):
        raise DatasetError(f"{where}: must be a list over {over}, got {type(run).__name__}")
    if len(run) != width:
        raise DatasetError(f"{where}: has {len(run)} value(s); the sample has {width} {over}")
    integer = column in INT_COLUMNS
    out = []
    for k, v in enumerate(run):
        if integer:
            if isinstance(v, bool) or not isinstance(v, int | np.integer | float) or not float(v).is_integer():
                raise DatasetError(f"{where}[{k}]: must be a whole count, got {v!r}")
            value: Any = int(v)
        else:
            value = math.nan if v is None else _number(v, f"{where}[{k}]")
        if value < 0:
            raise DatasetError(f"{where}[{k}]: must be ≥ 0, got {v!r}")
        out.append(value)
    return out


def _number(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise DatasetError(f"{where}: must be a number, got {v!r}")
    value = float(v)
    if math.isinf(value):
        raise DatasetError(f"{where}: must be finite, got {v!r}")
    return value


def _remove(stage: Path, owner: int) -> None:
    """Remove a staging directory, unless called in a forked child (whose exit must not touch its parent's)."""
    if os.getpid() == owner:
        shutil.rmtree(stage, ignore_errors=True)


def _abandoned(stage: Path, pid: int) -> bool:
    """Whether no open writer owns ``stage``, a staging directory made by process ``pid``."""
    return stage not in _ACTIVE and (pid == os.getpid() or not _alive(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
