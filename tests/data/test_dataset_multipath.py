"""Datasets of networks whose flows split over several paths: every path and its share is stored, and a sample
read back is the network its KPIs were measured on (format version 2; version 1 datasets still read)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nettwin.data import Dataset, DatasetWriter, export_dataset, generate_dataset, import_dataset, storage
from nettwin.scenario import build_network, parse_scenario

GRID_BASE = {
    "name": "grid-ecmp",
    "topology": {"grid": {"rows": 3, "cols": 3}, "defaults": {"capacity": "1Mbps", "buffer": 16}},
    "flows": [
        {"src": "r0c0", "dst": "r2c2", "traffic": {"model": "poisson", "rate": "100kbps", "packet_size": 500}},
        {"src": "r0c1", "dst": "r0c2", "traffic": {"model": "poisson", "rate": "50kbps", "packet_size": 500}},
        {
            "src": "r2c0",
            "dst": "r0c0",
            "traffic": {"model": "poisson", "rate": "80kbps", "packet_size": 500},
            "paths": [
                {"path": ["r2c0", "r1c0", "r0c0"], "share": 0.7},
                {"path": ["r2c0", "r2c1", "r1c1", "r1c0", "r0c0"], "share": 0.3},
            ],
        },
    ],
    "routing": {"policy": "ecmp"},
    "simulation": {"engine": "analytic", "duration": "5s"},
}


def _routes(network):
    return [(f.routes, f.route_shares) for f in network.flows]


@pytest.fixture(scope="module")
def grid_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("multipath") / "ds"
    spec = {"base": GRID_BASE, "samples": 4, "seed": 3, "simbase_runs": 0, "capacity_scale": {"uniform": [0.5, 2]}}
    generate_dataset(spec, out, workers=1)
    return out


def test_a_generated_sample_reads_back_with_the_same_routes_and_shares(grid_dataset: Path):
    ds = Dataset(grid_dataset)
    assert ds.manifest["format_version"] == storage.FORMAT_VERSION == 2
    assert len(ds) == 4
    for sample in ds:
        drawn = build_network(sample.scenario)  # the scenario as simulated, routed by ECMP
        assert drawn.multipath
        read = sample.network()
        assert [r for r, _ in _routes(read)] == [r for r, _ in _routes(drawn)]
        for (_, got), (_, want) in zip(_routes(read), _routes(drawn), strict=True):
            assert got == pytest.approx(want, rel=1e-12)
        # corner to corner on a 3 x 3 grid: six shortest paths, ECMP shares 1/4 and 1/8
        assert len(read.flows[0].routes) == 6
        assert sorted(read.flows[0].route_shares) == pytest.approx([0.125] * 4 + [0.25] * 2)
        assert read.flows[2].route_shares == pytest.approx((0.7, 0.3))
        assert sample.routes is not None and len(sample.routes[0]) == 6
        assert sample.routes[0][0][0] == read.flows[0].src and sample.route_shares[2] == pytest.approx((0.7, 0.3))
        assert read.offered_load == pytest.approx(drawn.offered_load)


def test_a_sample_whose_flows_take_one_path_stores_no_routes(tmp_path: Path):
    base = {**GRID_BASE, "flows": GRID_BASE["flows"][1:2], "routing": {"policy": "shortest_path"}}
    generate_dataset({"base": base, "samples": 1, "simbase_runs": 0}, tmp_path / "ds", workers=1)
    (sample,) = Dataset(tmp_path / "ds")
    assert sample.routes is None and sample.route_shares is None
    assert not sample.network().multipath


def test_a_version_1_dataset_without_route_columns_is_still_read(grid_dataset: Path, tmp_path: Path):
    old = tmp_path / "v1"
    (old / storage.SHARD_DIR).mkdir(parents=True)
    manifest = json.loads((grid_dataset / storage.MANIFEST).read_text())
    (old / storage.MANIFEST).write_text(json.dumps({**manifest, "format_version": 1}))
    for shard in storage.shard_paths(grid_dataset):
        table = pq.read_table(shard)
        pq.write_table(table.drop_columns(["routes", "route_shares"]), old / storage.SHARD_DIR / shard.name)
    ds = Dataset(old)
    assert len(ds) == 4
    sample = next(iter(ds))
    assert sample.routes is None
    # without the routes, each flow is pinned to its recorded main path, as version 1 did
    main_paths = [(f.path,) for f in Dataset(grid_dataset).sample(sample.id).network().flows]
    assert [f.routes for f in sample.network().flows] == main_paths
    assert ds.kpi("delay").shape == (12,)


def test_a_written_sample_pins_each_split_flow_to_its_paths_and_exports_them(tmp_path: Path):
    scenario = {k: GRID_BASE[k] for k in ("topology", "flows", "routing")}
    network = build_network(parse_scenario(scenario))
    kpis = {"delay": [[0.01] * network.n_flows]}
    with DatasetWriter(tmp_path / "w") as writer:
        writer.add(scenario, kpis, split="train")
    (sample,) = Dataset(tmp_path / "w")
    stored = json.loads(sample._get("scenario"))
    assert "paths" in stored["flows"][0] and "path" not in stored["flows"][0]
    assert len(stored["flows"][0]["paths"]) == 6
    assert _routes(sample.network()) == _routes(network)
    export_dataset(tmp_path / "w", tmp_path / "w.jsonl")
    import_dataset("table", tmp_path / "w.jsonl", tmp_path / "again")
    (again,) = Dataset(tmp_path / "again")
    assert _routes(again.network()) == _routes(network)


def test_resuming_a_version_1_dataset_writes_version_2_shards_and_reads_both(grid_dataset: Path, tmp_path: Path):
    old = tmp_path / "v1"
    shutil.copytree(grid_dataset, old)
    shards = storage.shard_paths(old)
    for shard in shards:
        pq.write_table(pq.read_table(shard).drop_columns(["routes", "route_shares"]), shard)
    manifest = json.loads((old / storage.MANIFEST).read_text())
    gone = shards[-1]
    lost = pq.read_table(gone, columns=["sample_id"])["sample_id"].to_pylist()
    gone.unlink()
    manifest.update(format_version=1, status="incomplete", shards=[str(p.relative_to(old)) for p in shards[:-1]])
    (old / storage.MANIFEST).write_text(json.dumps(manifest))
    generate_dataset(Dataset(grid_dataset).manifest["spec"], old, workers=1)
    ds = Dataset(old)
    assert ds.manifest["format_version"] == 2 and len(ds) == 4
    for sample in ds:
        assert (sample.routes is not None) == (sample.id in lost)  # redone samples record their routes
        assert sample.network().n_flows == 3
