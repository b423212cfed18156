"""DatasetWriter streams: full shards go to the staging directory as they fill, so memory holds one shard at most,
and the dataset it closes is the one a single-shard writer gives (splits drawn at close included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nettwin.data import Dataset, DatasetWriter, storage
from nettwin.errors import DatasetError

TOPOLOGY = {
    "nodes": ["a", "b", "c"],
    "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}, {"src": "b", "dst": "c", "capacity": "2Mbps"}],
}
SPLITS = ["train", None, "test", None, None, "val", None]
"""Seven samples, some given a split and some left to draw at close."""


class Watched(DatasetWriter):
    """A writer that records how many rows it held in memory after each add."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: list[int] = []

    def add(self, *args: Any, **kwargs: Any) -> int:
        sample_id = super().add(*args, **kwargs)
        self.held.append(len(self._rows))
        return sample_id


def _add(w: DatasetWriter, i: int, split: str | None) -> None:
    runs = 2 if i % 3 == 0 else 1
    w.add(
        {
            "name": f"s{i}",
            "topology": TOPOLOGY,
            "flows": [{"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": f"{100 + i}kbps"}}],
        },
        {"delay": [[0.01 + i * 1e-3 + r * 1e-4] for r in range(runs)], "throughput": [[1e5 + i]] * runs},
        split=split,
        meta=[{"wall_seconds": 0.1 * i}] * runs,
    )


def _write(out: Path, shard_size: int, seed: int = 5) -> Watched:
    w = Watched(out, seed=seed, shard_size=shard_size, splits={"train": 0.5, "val": 0.25, "test": 0.25})
    for i, split in enumerate(SPLITS):
        _add(w, i, split)
    w.close()
    return w


def _staged(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.*.importing"))


def _contents(ds: Dataset) -> list[Any]:
    """Everything the Dataset API says of each sample, as JSON text (NaN written one way)."""
    return [
        json.dumps(
            [s.id, s.split, s.n_runs, s.scenario.model_dump(mode="json"), s.kpis(0), s.meta, s.paths],
            default=lambda a: a.tolist(),
        )
        for s in ds.samples()
    ] + [json.dumps(ds.kpi("delay", run=1).tolist())]


def test_a_dataset_written_shard_by_shard_equals_one_written_at_once(tmp_path: Path) -> None:
    small, large = _write(tmp_path / "small", 2), _write(tmp_path / "large", 1000)
    a, b = Dataset(small.out), Dataset(large.out)
    assert len(storage.shard_paths(small.out)) == 4 and len(storage.shard_paths(large.out)) == 1
    assert _contents(a) == _contents(b)
    splits = a.table()["split"].to_pylist()
    assert [s for s, given in zip(splits, SPLITS, strict=True) if given] == [s for s in SPLITS if s]
    volatile = {"name", "created", "updated", "shards"}
    assert {k: v for k, v in a.manifest.items() if k not in volatile} == {
        k: v for k, v in b.manifest.items() if k not in volatile
    }
    assert a.manifest["split_sizes"] == {s: splits.count(s) for s in ("train", "val", "test")}
    assert a.manifest["split_seed"] == 5 and a.manifest["kpi_stats"]["delay"]["n"] == splits.count("train")
    assert not _staged(small.out)


def test_the_drawn_splits_follow_the_seed_in_every_shard(tmp_path: Path) -> None:
    drawn = {seed: Dataset(_write(tmp_path / f"s{seed}", 2, seed).out).table()["split"].to_pylist() for seed in (1, 2)}
    assert drawn[1] == Dataset(_write(tmp_path / "again", 3, 1).out).table()["split"].to_pylist()
    assert drawn[1] != drawn[2]


def test_full_shards_are_staged_before_close_and_memory_holds_one_shard(tmp_path: Path) -> None:
    w = Watched(tmp_path / "out", shard_size=2)
    for i, split in enumerate(SPLITS):
        _add(w, i, split)
        assert [len(storage.shard_paths(stage)) for stage in _staged(w.out)] == ([(i + 1) // 2] if i else [])
    assert w.held == [1, 0, 1, 0, 1, 0, 1] and len(w) == 7
    assert not w.out.exists()
    w.close()
    assert len(Dataset(w.out)) == 7 and not _staged(w.out)


def test_discard_and_an_exception_leave_nothing(tmp_path: Path) -> None:
    w = DatasetWriter(tmp_path / "dropped", shard_size=2)
    for i in range(5):
        _add(w, i, None)
    assert _staged(w.out)
    w.discard()
    assert not w.out.exists() and not _staged(w.out)

    with (
        pytest.raises(DatasetError, match="sample 3: lacks throughput, which the first sample has"),
        DatasetWriter(tmp_path / "failed", shard_size=2) as w,
    ):
        for i in range(3):
            _add(w, i, None)
        assert _staged(w.out)
        w.add(
            {"topology": TOPOLOGY, "flows": [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "1kbps"}}]},
            {"delay": [0.1]},
        )
    assert not (tmp_path / "failed").exists() and not _staged(tmp_path / "failed")


def test_a_writer_dropped_unclosed_leaves_no_staging_dir(tmp_path: Path) -> None:
    w = DatasetWriter(tmp_path / "dropped", shard_size=1)
    _add(w, 0, None)
    assert _staged(tmp_path / "dropped")
    del w
    assert not _staged(tmp_path / "dropped") and not (tmp_path / "dropped").exists()


def test_a_dead_writers_staging_dir_is_cleaned_by_the_next(tmp_path: Path) -> None:
    dead = tmp_path / f".out.{2**22 + 12345}.00ff00ff.importing"
    (dead / "shards").mkdir(parents=True)
    _write(tmp_path / "out", 2)
    assert not dead.exists() and len(Dataset(tmp_path / "out")) == 7


def test_a_shard_size_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="shard_size must be at least 1, got 0"):
        DatasetWriter(tmp_path / "x", shard_size=0)


def test_training_kpi_stats_read_shard_by_shard_equal_those_of_the_whole_table(
    tmp_path: Path, tiny_dataset: tuple[Path, dict[str, Any]]
) -> None:
    import pyarrow.compute as pc

    written = _write(tmp_path / "w", 2).out
    for root in (written, tiny_dataset[0]):
        ds = Dataset(root)
        table = ds.table()
        whole = storage.kpi_stats(table.filter(pc.equal(table["split"], "train")))
        streamed = storage.training_kpi_stats(root, ds.manifest)["kpi_stats"]
        assert streamed == whole and streamed["delay"] is not None  # to the last bit
        assert ds.manifest["kpi_stats"] == {k: v for k, v in whole.items() if k in ds.manifest["kpi_stats"]}


def test_training_kpi_stats_read_one_kpi_column_of_one_shard_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _write(tmp_path / "w", 2).out
    reads: list[list[str]] = []
    original = storage._read_shard

    def read(path: Path, columns: list[str] | None) -> Any:
        reads.append(list(columns or storage.SCHEMA.names))
        return original(path, columns)

    monkeypatch.setattr(storage, "_read_shard", read)
    storage.training_kpi_stats(root, Dataset(root).manifest)
    kpi_reads = [set(c) - {"sample_id", "status", "split"} for c in reads]
    assert kpi_reads and all(len(k) <= 1 for k in kpi_reads)  # never the table: one KPI column of one shard


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_exiting_with_a_writer_open_leaves_no_staging_dir(tmp_path: Path) -> None:

    script = (
        "import sys; from nettwin.data import DatasetWriter; "
        f"w = DatasetWriter(sys.argv[1], shard_size=1); w.add({_scenario_text()}, {{'delay': [0.01]}}); "
        "import os; os.fork() or sys.exit(0); os.wait(); print(len(list(os.scandir(sys.argv[2]))))"
    )
    args = [sys.executable, "-c", script, str(tmp_path / "out"), str(tmp_path)]
    done = subprocess.run(args, capture_output=True, timeout=300)  # a last guard only
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [b"1"]  # the forked child's exit left the parent's staging directory alone
    assert not list(tmp_path.iterdir())  # the parent's exit removed it


def _scenario_text() -> str:
    return repr(
        {"topology": TOPOLOGY, "flows": [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "1kbps"}}]}
    )


def test_manifest_kpi_stats_are_the_metrics_summary_and_older_manifests_without_min_max_still_read(
    tmp_path: Path, tiny_dataset: tuple[Path, dict[str, Any]]
) -> None:
    import shutil

    import pyarrow.compute as pc

    from nettwin.data.info import dataset_info
    from nettwin.metrics import describe

    ds = Dataset(tiny_dataset[0])
    table = ds.table()
    train = table.filter(pc.and_(pc.equal(table["split"], "train"), pc.equal(table["status"], "ok")))
    assert ds.manifest["kpi_stats"]["delay"] == describe(storage.flow_values(train["delay"], 0))
    old = tmp_path / "old"
    shutil.copytree(tiny_dataset[0], old)
    manifest = storage.read_manifest(old)
    for stats in manifest["kpi_stats"].values():
        if stats is not None:
            del stats["min"], stats["max"]
    storage.write_manifest(old, manifest)
    assert Dataset(old).iqr("delay") == ds.iqr("delay") > 0
    assert dataset_info(old)["kpis"]["delay"]["train_iqr"] == ds.iqr("delay")
