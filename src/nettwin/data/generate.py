"""Generating a dataset: the resumable driver that turns a spec into a directory of Parquet shards.

The driver (this process) decides which samples are missing, hands them to an executor, collects the rows as
they finish and writes them out in shards. Only the driver writes files, always atomically. Running the same
spec again on the same directory resumes: samples already in a shard are skipped, the rest are generated, and
the result holds exactly the rows a clean run would have produced.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nettwin._files import is_temporary, remove_temporaries
from nettwin.data import storage
from nettwin.data.executor import Executor, make_executor
from nettwin.data.sampling import runs_for_split, split_assignment
from nettwin.data.spec import SPLITS, DatasetSpec, load_dataset_spec, parse_dataset_spec
from nettwin.data.worker import Task
from nettwin.errors import DatasetError
from nettwin.sim.engine import get_engine

__all__ = ["generate_dataset", "as_spec", "ProgressCallback"]

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with the samples finished so far in this run and the number this run
generates; first with ``done = 0`` before any work starts."""


def as_spec(spec: DatasetSpec | Mapping[str, Any] | str | Path) -> DatasetSpec:
    """A spec object, a spec mapping, or the path of a spec file, as a validated :class:`DatasetSpec`."""
    if isinstance(spec, DatasetSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_dataset_spec(spec)
    return load_dataset_spec(spec)


def generate_dataset(
    spec: DatasetSpec | Mapping[str, Any] | str | Path,
    out_dir: str | Path,
    *,
    workers: int = 2,
    executor: str | Executor = "local",
    address: str | None = None,
    imports: Sequence[str] = (),
    sample_timeout: float | None = None,
    progress: ProgressCallback | None = None,
    flush_seconds: float = 60.0,
) -> dict[str, Any]:
    """Generate (or finish generating) the dataset of ``spec`` in ``out_dir``.

    Parameters
    ----------
    spec : the dataset spec (object, mapping, or file path).
    out_dir : the dataset directory; created if missing. If it already holds this spec's dataset, only the
        missing samples are generated.
    workers : parallel worker processes (local) or CPUs / tasks in flight (Ray).
    executor : ``"local"`` (process pool), ``"ray"``, or an executor object.
    address : Ray cluster address (default: ``RAY_ADDRESS``, else a local Ray instance).
    imports : modules each worker imports first (e.g. to register a third-party engine).
    sample_timeout : seconds one sample (all its runs) may take; a sample that takes longer stops its worker, is
        retried once alone, then recorded as failed. None waits.
    progress : optional :data:`ProgressCallback`.
    flush_seconds : write a shard at least this often, even when it holds fewer than ``shard_size`` rows.

    Returns
    -------
    dict
        ``path``, ``samples``, ``ok``, ``failed``, ``generated`` (this run), ``resumed`` (already present),
        ``splits`` (ok samples per split), ``wall_seconds`` and ``samples_per_second`` (this run), ``status``.

    Raises
    ------
    DatasetError
        If the directory holds another spec's dataset or something that is not a dataset, another process is
        generating into it, or a shard is unreadable.

    Examples
    --------
    >>> import tempfile
    >>> spec = {"samples": 3, "simbase_runs": 1, "base": {"topology": {"builtin": "nsfnet"},
    ...     "flows": [{"src": 0, "dst": 5, "traffic": {"model": "cbr", "rate": "10kbps"}}],
    ...     "simulation": {"duration": "5s"}}}
    >>> summary = generate_dataset(spec, tempfile.mkdtemp(), workers=1)
    >>> summary["ok"], summary["status"]
    (3, 'complete')
    """
    spec = as_spec(spec)
    get_engine(spec.engine_name)  # an unknown engine is a spec error, reported before any work
    runner = make_executor(executor, workers, address=address, imports=imports, timeout=sample_timeout)
    root = Path(out_dir)
    spec_hash = spec.spec_hash()
    t0 = time.perf_counter()
    with storage.DirectoryLock(_prepare(root, spec_hash)):
        # Under the lock no other process writes here: temporaries are what killed writers left behind.
        for folder in (root, root / storage.SHARD_DIR):
            remove_temporaries(folder)
        manifest = _open_manifest(root, spec, spec_hash)
        # Shards the manifest lists but that are gone are simply generated again.
        existing = storage.read_table(root, manifest, ["split", "status"], missing_ok=True)
        ids = existing["sample_id"].to_pylist()
        counts = Counter(zip(existing["split"].to_pylist(), existing["status"].to_pylist(), strict=True))
        done = set(ids)
        splits = split_assignment(spec)
        tasks = [
            Task(i, str(splits[i]), runs_for_split(spec, str(splits[i]))) for i in range(spec.samples) if i not in done
        ]
        manifest["status"] = "incomplete" if tasks else manifest.get("status", "incomplete")
        _update_manifest(root, manifest, counts, spec)

        generated = 0
        if progress is not None:
            progress(0, len(tasks))
        pending: list[dict[str, Any]] = []
        last_flush = time.monotonic()

        def flush() -> None:
            nonlocal pending, last_flush
            if pending:
                storage.write_shard(root, pending, spec_hash)
                for row in pending:
                    counts[(row["split"], row["status"])] += 1
                pending = []
                _update_manifest(root, manifest, counts, spec)
            last_flush = time.monotonic()

        rows = runner.run(spec, tasks) if tasks else iter(())
        try:
            for row in rows:
                pending.append(row)
                generated += 1
                if len(pending) >= spec.shard_size or time.monotonic() - last_flush >= flush_seconds:
                    flush()
                if progress is not None:
                    progress(generated, len(tasks))
        finally:
            # Stop the executor first (an interrupted run must not wait for its workers), then keep what came back.
            close = getattr(rows, "close", None)
            if close is not None:
                close()
            flush()
        wall = time.perf_counter() - t0
        _finish(root, manifest, counts, spec, generated, wall)
    n_ok = sum(v for (_, status), v in counts.items() if status == "ok")
    n_failed = sum(v for (_, status), v in counts.items() if status == "failed")
    return {
        "path": str(root),
        "samples": spec.samples,
        "ok": n_ok,
        "failed": n_failed,
        "generated": generated,
        "resumed": len(done),
        "splits": {s: counts[(s, "ok")] for s in SPLITS},
        "wall_seconds": wall,
        "samples_per_second": generated / wall if wall > 0 else 0.0,
        "status": manifest["status"],
    }


def _prepare(root: Path, spec_hash: str) -> Path:
    """Check that ``root`` is empty, missing, or this spec's dataset; create it. Returns ``root``.

    A directory holding only what a run killed before its first manifest leaves behind (the lock file, temporary
    files of atomic writes) counts as empty.
    """
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root}: exists and is not a directory")
    if root.is_dir() and not (root / storage.MANIFEST).is_file():
        leftovers = [p.name for p in root.iterdir() if p.name != storage.LOCK and not is_temporary(p)]
        if leftovers:
            raise DatasetError(
                f"{root}: not empty and not a nettwin dataset (no {storage.MANIFEST}); choose an empty or new directory"
            )
    if (root / storage.MANIFEST).is_file():
        manifest = storage.read_manifest(root)
        found = manifest.get("spec_hash")
        if manifest.get("source") is not None:
            source = manifest["source"]
            raise DatasetError(
                f"{root}: holds a dataset imported from {source.get('format')} {source.get('path')}, which generate "
                "cannot add to; use another --out directory"
            )
        if found != spec_hash:
            raise DatasetError(
                f"{root}: holds a dataset generated from a different spec (spec hash {str(found)[:12]}…, this spec "
                f"{spec_hash[:12]}…); use another --out directory, or delete this one to start over"
            )
    root.mkdir(parents=True, exist_ok=True)
    return root


def _open_manifest(root: Path, spec: DatasetSpec, spec_hash: str) -> dict[str, Any]:
    if (root / storage.MANIFEST).is_file():
        manifest = storage.read_manifest(root)
        manifest["versions"] = storage.versions()
        manifest["format_version"] = storage.FORMAT_VERSION  # the shards written now are of this version
        return manifest
    if storage.shard_paths(root):
        raise DatasetError(f"{root}: has shards but no {storage.MANIFEST}; not a dataset this nettwin wrote")
    created = storage.now()
    return {
        "format": storage.FORMAT,
        "format_version": storage.FORMAT_VERSION,
        "name": spec.dataset_name,
        "status": "incomplete",
        "spec": spec.given,
        "spec_resolved": spec.resolved(),
        "spec_hash": spec_hash,
        "seed": spec.seed,
        "engine": spec.engine_name,
        "samples": spec.samples,
        "simbase_runs": spec.simbase_runs,
        "split_sizes": spec.splits.sizes(spec.samples),
        "versions": storage.versions(),
        "created": created,
        "updated": created,
    }


def _update_manifest(root: Path, manifest: dict[str, Any], counts: Counter, spec: DatasetSpec) -> None:
    per_split = {s: {"ok": counts[(s, "ok")], "failed": counts[(s, "failed")]} for s in SPLITS}
    manifest["counts"] = {
        "samples": sum(counts.values()),
        "ok": sum(v["ok"] for v in per_split.values()),
        "failed": sum(v["failed"] for v in per_split.values()),
        "splits": per_split,
    }
    manifest["shards"] = [str(p.relative_to(root)) for p in storage.shard_paths(root)]
    manifest["updated"] = storage.now()
    storage.write_manifest(root, manifest)


def _finish(
    root: Path, manifest: dict[str, Any], counts: Counter, spec: DatasetSpec, generated: int, wall: float
) -> None:
    complete = sum(counts.values()) == spec.samples
    manifest["status"] = "complete" if complete else "incomplete"
    if complete:
        manifest.update(storage.training_kpi_stats(root, manifest))
    history = manifest.setdefault("generation_log", [])
    history.append({"finished": storage.now(), "generated": generated, "wall_seconds": round(wall, 3)})
    _update_manifest(root, manifest, counts, spec)
