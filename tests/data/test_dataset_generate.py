"""Generating datasets: storage, reproducibility across worker counts, resume, and failure isolation."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from _datasets import TINY_BASE, assert_same_rows, generate_or_fail_after, tiny_spec

from nettwin.cli.app import main
from nettwin.data import Dataset, generate_dataset
from nettwin.data.executor import MAX_WORKERS, WORKER_DIED
from nettwin.data.sampling import split_assignment
from nettwin.data.spec import parse_dataset_spec
from nettwin.data.storage import SCHEMA, DirectoryLock
from nettwin.errors import DatasetError
from nettwin.scenario import build_network
from nettwin.sim import simulate
from nettwin.sim.kpi import FLOW_COLUMNS, FLOW_KPIS


def test_summary_manifest_and_shards(tiny_dataset):
    out, summary = tiny_dataset
    assert summary["ok"] == 10 and summary["failed"] == 0 and summary["generated"] == 10
    assert summary["status"] == "complete" and summary["splits"] == {"train": 8, "val": 1, "test": 1}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["samples"] == 10 and manifest["seed"] == 7
    assert manifest["counts"]["ok"] == 10 and manifest["counts"]["splits"]["test"] == {"ok": 1, "failed": 0}
    assert manifest["split_sizes"] == {"train": 8, "val": 1, "test": 1}
    assert set(manifest["versions"]) >= {"nettwin", "numpy", "pyarrow"}
    assert manifest["spec"]["samples"] == 10 and manifest["spec_resolved"]["base"]["name"] == "tiny"
    assert set(manifest["kpi_iqr"]) == set(FLOW_KPIS)
    assert manifest["kpi_stats"]["delay"]["iqr"] == manifest["kpi_iqr"]["delay"] > 0
    assert manifest["engine"] == "builtin" and len(manifest["spec_hash"]) == 64
    shards = sorted((out / "shards").glob("*.parquet"))
    assert len(shards) == 3 and manifest["shards"] == [f"shards/{p.name}" for p in shards]


def test_shards_are_plain_parquet(tiny_dataset):
    out, _ = tiny_dataset
    table = pq.read_table(out / "shards")
    assert table.num_rows == 10 and table.schema.names == SCHEMA.names
    row = table.sort_by("sample_id").slice(0, 1).to_pylist()[0]
    assert row["status"] == "ok" and row["error"] is None
    assert json.loads(row["scenario"])["name"] == "tiny-0"
    n_flows = row["n_flows"]
    assert len(row["delay"]) == row["n_runs"] and len(row["delay"][0]) == n_flows == 3
    assert len(row["link_utilisation"][0]) == row["n_links"] == 42
    assert row["paths"][0][0] == row["flow_src"][0] and row["paths"][0][-1] == row["flow_dst"][0]


def test_loader(loaded):
    ds = loaded
    assert len(ds) == 10 and ds.complete and "samples=10" in repr(ds)
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 8, "val": 1, "test": 1}
    spec = parse_dataset_spec(tiny_spec())
    assert ds.spec.spec_hash() == spec.spec_hash()
    splits = split_assignment(spec)
    for s in ds.samples():
        assert s.split == splits[s.id]
        assert s.n_runs == (3 if s.split == "test" else 1)
        k = s.kpis()
        assert set(k) == set(FLOW_COLUMNS) and all(v.shape == (3,) for v in k.values())
        assert np.all(k["tx_packets"] == k["rx_packets"] + k["dropped"])
        net = s.network()
        assert s.paths == tuple(net.path_nodes(f) for f in range(net.n_flows))
        assert np.allclose(s.link_capacity, net.capacity) and np.allclose(s.offered_load, net.offered_load)
    [test] = ds.samples("test")
    assert not np.array_equal(test.kpis(0)["delay"], test.kpis(2)["delay"])
    with pytest.raises(DatasetError, match="has runs 0..2, not run 3"):
        test.kpis(3)
    assert ds.kpi("delay", "train").shape == (24,)
    assert ds.kpi("delay", run=1).shape == (3,)  # only the test sample has run 1
    assert ds.iqr("delay") == pytest.approx(np.subtract(*np.nanpercentile(ds.kpi("delay", "train"), [75, 25])))
    assert ds.table().num_rows == 10 and ds.failed == []
    with pytest.raises(DatasetError, match="unknown split 'dev'"):
        list(ds.samples("dev"))
    with pytest.raises(DatasetError, match="unknown KPI 'latency'"):
        ds.kpi("latency")


def test_stored_kpis_are_what_simulate_gives(loaded):
    sample = loaded.sample(3)
    again = simulate(sample.scenario, runs=sample.n_runs)
    for run, result in enumerate(again):
        for c in FLOW_COLUMNS:
            np.testing.assert_array_equal(sample.kpis(run)[c], result.flows[c])
        np.testing.assert_array_equal(sample.links(run)["utilisation"], result.links["utilisation"])


def test_worker_count_does_not_change_the_dataset(tiny_dataset, tmp_path):
    out, _ = tiny_dataset
    summary = generate_dataset(tiny_spec(), tmp_path / "w2", workers=2)
    assert summary["ok"] == 10
    assert_same_rows(Dataset(tmp_path / "w2").table(), Dataset(out).table())


def test_resume_generates_only_missing_samples(tiny_dataset, tmp_path):
    out, _ = tiny_dataset
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    first = sorted((copy / "shards").glob("*.parquet"))[0]
    lost = len(pq.read_table(first))
    first.unlink()
    calls = []
    summary = generate_dataset(tiny_spec(), copy, workers=1, progress=lambda d, t: calls.append((d, t)))
    assert summary["generated"] == lost and summary["resumed"] == 10 - lost
    assert calls[0] == (0, lost) and calls[-1] == (lost, lost)
    assert_same_rows(Dataset(copy).table(), Dataset(out).table())
    # nothing left to do: a no-op that keeps the dataset complete
    summary = generate_dataset(tiny_spec(), copy, workers=1)
    assert summary["generated"] == 0 and summary["status"] == "complete"


def test_a_different_spec_is_refused(tiny_dataset):
    out, _ = tiny_dataset
    with pytest.raises(DatasetError, match="holds a dataset generated from a different spec"):
        generate_dataset(tiny_spec(seed=8), out)


def test_refuses_a_directory_that_is_not_a_dataset(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="not empty and not a nettwin dataset"):
        generate_dataset(tiny_spec(), tmp_path)


def test_a_run_killed_before_its_first_manifest_leaves_a_resumable_directory(tmp_path):
    # What a run killed while writing its first manifest leaves: the lock file and the manifest's temporary file.
    out = tmp_path / "ds"
    out.mkdir()
    (out / ".lock").touch()
    (out / ".manifest.json.1.ab.tmp").write_text('{"half": ')
    summary = generate_dataset(tiny_spec(samples=3), out, workers=1)
    assert summary["status"] == "complete" and summary["generated"] == 3
    assert not [p for p in out.rglob("*.tmp")]
    # Anything else still makes the directory someone else's.
    other = tmp_path / "other"
    other.mkdir()
    (other / ".manifest.json.1.ab.tmp").touch()
    (other / "notes.txt").touch()
    with pytest.raises(DatasetError, match="not empty and not a nettwin dataset"):
        generate_dataset(tiny_spec(samples=3), other, workers=1)


def test_readers_check_the_shards_against_the_manifest(tiny_dataset, tmp_path, monkeypatch, capsys):
    out, _ = tiny_dataset

    def info_error(path):
        monkeypatch.setattr(sys, "argv", ["nettwin", "dataset", "info", str(path)])
        with pytest.raises(SystemExit) as exit_info:
            main()
        assert exit_info.value.code == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        return lines[0]

    copied = tmp_path / "copied"
    shutil.copytree(out, copied)
    shutil.copy(copied / "shards" / "part-00001.parquet", copied / "shards" / "part-00007.parquet")
    twice = r"sample 4 is stored twice, in shards/part-00001.parquet and shards/part-00007.parquet"
    with pytest.raises(DatasetError, match=twice + r".*delete shards/part-00007.parquet, which the manifest does"):
        len(Dataset(copied))
    assert "is stored twice" in info_error(copied)
    with pytest.raises(DatasetError, match=twice):
        generate_dataset(tiny_spec(), copied, workers=1)

    deleted = tmp_path / "deleted"
    shutil.copytree(out, deleted)
    (deleted / "shards" / "part-00001.parquet").unlink()
    lost = r"1 shard\(s\) listed in the manifest are missing \(shards/part-00001.parquet\), so their samples are lost"
    with pytest.raises(DatasetError, match=lost + r"; run 'nettwin dataset generate' again with the same spec"):
        Dataset(deleted).table()
    assert "listed in the manifest are missing" in info_error(deleted)
    # Generating again is the cure.
    assert generate_dataset(tiny_spec(), deleted, workers=1)["generated"] == 4
    assert len(Dataset(deleted)) == 10

    foreign = tmp_path / "foreign"
    shutil.copytree(out, foreign)
    generate_dataset(tiny_spec(seed=8, samples=2), tmp_path / "other", workers=1)
    shutil.copy(tmp_path / "other" / "shards" / "part-00000.parquet", foreign / "shards" / "part-00009.parquet")
    with pytest.raises(DatasetError, match="part-00009.parquet was generated from another spec"):
        Dataset(foreign).kpi("delay")


def test_one_writer_at_a_time(tmp_path):
    out = tmp_path / "locked"
    with DirectoryLock(out), pytest.raises(DatasetError, match="another process is generating"):
        generate_dataset(tiny_spec(), out)


def test_unknown_engine_is_reported_before_any_work(tmp_path):
    with pytest.raises(Exception, match="unknown engine 'nope'"):
        generate_dataset(tiny_spec(engine="nope"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_failed_samples_are_recorded_and_the_others_kept(tmp_path):
    # Half the samples draw a 3-node topology on which the base's flows name missing nodes.
    small = {"nodes": ["a", "b", "c"], "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]}
    spec = tiny_spec(topology={"choices": [{"builtin": "nsfnet"}, small]}, samples=8)
    summary = generate_dataset(spec, tmp_path / "ds", workers=1)
    ds = Dataset(tmp_path / "ds")
    failed = dict(ds.failed)
    assert summary["failed"] == len(failed) > 0 and summary["ok"] == len(ds) > 0
    assert all("node 12 does not exist" in e and "\n" not in e for e in failed.values())
    bad = ds.sample(next(iter(failed)))
    assert bad.status == "failed" and bad.scenario.topology.source == "nodes"
    with pytest.raises(DatasetError, match="failed"):
        bad.kpis()
    assert ds.manifest["counts"]["failed"] == len(failed)


def test_a_dying_worker_costs_one_sample(tmp_path):
    import _faulty_engine  # noqa: F401  (registers engine "faulty" here too)

    spec = tiny_spec(engine="faulty")
    summary = generate_dataset(spec, tmp_path / "ds", workers=2, imports=["_faulty_engine"])
    ds = Dataset(tmp_path / "ds")
    failed = dict(ds.failed)
    assert failed == {3: WORKER_DIED, 5: "RuntimeError: injected failure in sample 5"}
    assert summary["ok"] == 8 and summary["failed"] == 2 and summary["status"] == "complete"
    # the surviving samples are exactly what the plain engine gives
    clean = generate_dataset(tiny_spec(), tmp_path / "clean", workers=1)
    assert clean["ok"] == 10
    reference = {s.id: s for s in Dataset(tmp_path / "clean").samples()}
    for s in ds.samples():
        for run in range(s.n_runs):
            np.testing.assert_array_equal(s.kpis(run)["delay"], reference[s.id].kpis(run)["delay"])


@pytest.mark.slow
def test_a_sample_past_its_timeout_costs_one_sample(tmp_path):
    import _faulty_engine  # noqa: F401  (registers engine "hanging" here too)

    # The engine blocks for an hour holding the interpreter lock; the timeout must stop it there (about 20 s).
    summary = generate_or_fail_after(
        900,
        tiny_spec(engine="hanging", samples=6),
        tmp_path / "ds",
        workers=2,
        imports=["_faulty_engine"],
        sample_timeout=8,
    )
    failed = dict(Dataset(tmp_path / "ds").failed)
    assert list(failed) == [2] and failed[2].startswith("took longer than the sample timeout (8.00 s), twice")
    assert summary["ok"] == 5 and summary["status"] == "complete"
    with pytest.raises(DatasetError, match="sample timeout must be a positive number"):
        generate_dataset(tiny_spec(), tmp_path / "other", sample_timeout=0)
    assert not (tmp_path / "other").exists()


def test_loader_errors(tmp_path, tiny_dataset):
    with pytest.raises(DatasetError, match="no such dataset directory"):
        Dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="not a nettwin dataset"):
        Dataset(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dataset[0], broken)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetError, match="corrupt manifest"):
        Dataset(broken)
    shutil.rmtree(broken)
    shutil.copytree(tiny_dataset[0], broken)
    sorted((broken / "shards").glob("*.parquet"))[0].write_bytes(b"PAR1 garbage")
    with pytest.raises(DatasetError, match="cannot read this shard"):
        len(Dataset(broken))


@pytest.mark.slow
def test_killed_run_resumes_to_the_clean_result(tmp_path):
    """SIGKILL a real ``nettwin dataset generate`` once some shards exist, rerun it, compare with a clean run."""
    base = {**TINY_BASE, "simulation": {"engine": "builtin", "duration": "400s"}}
    spec = tiny_spec(base=base, samples=40, shard_size=3)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "killed"
    command = [
        sys.executable,
        "-c",
        "from nettwin.cli.app import main; main()",
        "dataset",
        "generate",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--format",
        "json",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600  # a last guard: the shards are the condition
        while len(list((out / "shards").glob("*.parquet"))) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "no shards appeared"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    partial = Dataset(out)
    assert not partial.complete and 0 < partial.table().num_rows < 40

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["resumed"] == partial.table().num_rows and summary["generated"] == 40 - summary["resumed"]

    generate_dataset(spec, tmp_path / "clean", workers=2)
    resumed, clean = Dataset(out), Dataset(tmp_path / "clean")
    assert resumed.complete and resumed.manifest["kpi_iqr"] == clean.manifest["kpi_iqr"]
    assert_same_rows(resumed.table(), clean.table())


def test_samples_keep_the_paths_the_engine_routed(tmp_path):
    import _detour_engine  # registers engine "detour" here too

    generate_dataset(tiny_spec(engine="detour", samples=4), tmp_path / "ds", workers=1, imports=["_detour_engine"])
    for s in Dataset(tmp_path / "ds").samples():
        own = build_network(s.scenario)
        assert list(s.paths) != [own.path_nodes(f) for f in range(own.n_flows)]  # the engine routed otherwise
        net = s.network()
        assert [net.path_nodes(f) for f in range(net.n_flows)] == list(s.paths)
        assert s.paths == tuple(tuple(p) for p in _detour_engine.detour_paths(own))
        # The network a sample gives is the one simulated: the plain engine on it reproduces run 0.
        [again] = simulate(net, engine="builtin")
        np.testing.assert_array_equal(again.flows["delay"], s.kpis(0)["delay"])


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_worker_counts_are_bounded_before_anything_starts(tmp_path, executor):
    for workers in (0, MAX_WORKERS + 1, 10**12):
        with pytest.raises(DatasetError, match=rf"^workers must be between 1 and {MAX_WORKERS}, got {workers}$"):
            generate_dataset(tiny_spec(), tmp_path / "ds", workers=workers, executor=executor)
    assert not (tmp_path / "ds").exists()
