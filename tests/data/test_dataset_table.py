"""The table layout: DatasetWriter, export and import round trips, strict errors, and an imported dataset used by
train and evaluate."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _datasets import NONDETERMINISTIC

from nettwin.data import Dataset, DatasetWriter, export_dataset, import_dataset
from nettwin.data.table import COLUMNS
from nettwin.errors import DatasetError

TOPOLOGY = {
    "nodes": ["a", "b", "c"],
    "links": [
        {"src": "a", "dst": "b", "capacity": "1Mbps", "delay": "2ms", "buffer": 31},
        {"src": "b", "dst": "c", "capacity": "2Mbps"},
    ],
}


def _flows(i: int) -> list[dict[str, Any]]:
    return [
        {"src": "a", "dst": "c", "path": ["a", "b", "c"], "traffic": {"model": "poisson", "rate": f"{100 + i}kbps"}},
        {"src": "b", "dst": "a", "traffic": {"model": "cbr", "rate": "10kbps", "packet_size": 200}},
    ]


def _write(out: Path, n: int = 12, **kwargs: Any) -> Path:
    with DatasetWriter(out, **kwargs) as w:
        for i in range(n):
            runs = 3 if i % 4 == 0 else 1
            w.add(
                {"name": f"s{i}", "topology": TOPOLOGY, "flows": _flows(i)},
                {
                    "delay": [[0.01 + i * 1e-3 + r * 1e-4, math.nan] for r in range(runs)],
                    "throughput": [[1e5 + i, 1e4] for _ in range(runs)],
                    "tx_packets": [[100 + i, 5] for _ in range(runs)],
                    "link_utilisation": [[0.1, 0.2, 0.3, 0.4] for _ in range(runs)],
                },
                meta=[{"wall_seconds": 0.5}] * runs,
                wall_seconds=0.5 * runs,
            )
    return out


def _same_rows(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == b.column_names
    for name in a.column_names:
        # NaN is not equal to itself: compare the JSON text, where NaN is written one way
        assert json.dumps(a[name].to_pylist()) == json.dumps(b[name].to_pylist()), name


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_writer_export_import_gives_identical_rows(tmp_path: Path, suffix: str) -> None:
    first = _write(tmp_path / "written")
    export_dataset(first, tmp_path / f"t{suffix}")
    summary = import_dataset("table", tmp_path / f"t{suffix}", tmp_path / "imported")
    assert summary["samples"] == 12
    _same_rows(Dataset(first).table(), Dataset(tmp_path / "imported").table())
    again = tmp_path / f"again{suffix}"
    export_dataset(tmp_path / "imported", again)
    assert again.read_bytes() == (tmp_path / f"t{suffix}").read_bytes() or suffix == ".parquet"


def test_an_imported_manifest_records_provenance_and_only_the_kpis_given(tmp_path: Path) -> None:
    ds = Dataset(_write(tmp_path / "w", source={"format": "table", "path": "x.csv", "version": None}))
    m = ds.manifest
    assert m["source"] == {"format": "table", "path": "x.csv", "version": None}
    assert m["spec"] is None and m["spec_hash"] is None and m["seed"] is None and m["split_seed"] == 0
    assert m["kpis"] == ["delay", "throughput", "tx_packets"] and m["link_stats"] == ["utilisation"]
    assert set(m["kpi_iqr"]) == {"delay", "throughput"}
    sample = next(ds.samples())
    assert set(sample.kpis()) == {"delay", "throughput", "tx_packets"} and set(sample.links()) == {"utilisation"}
    assert sample.seed is None
    with pytest.raises(DatasetError, match=r"has no 'jitter' \(its source, table from x.csv, does not record it\)"):
        ds.iqr("jitter")
    with pytest.raises(DatasetError, match="was imported .* it has no spec"):
        _ = ds.spec


def test_splits_are_kept_or_drawn_reproducibly(tmp_path: Path) -> None:
    drawn = [Dataset(_write(tmp_path / f"d{k}", seed=3)).table()["split"].to_pylist() for k in range(2)]
    assert drawn[0] == drawn[1] and drawn[0].count("train") == 10 and drawn[0].count("test") == 1
    assert Dataset(_write(tmp_path / "other", seed=4)).table()["split"].to_pylist() != drawn[0]
    with DatasetWriter(tmp_path / "given") as w:
        w.add({"topology": TOPOLOGY, "flows": _flows(0)}, {"delay": [[0.01, 0.02]]}, split="test")
    assert Dataset(tmp_path / "given").splits["test"].tolist() == [0]


def test_a_generated_dataset_exported_and_imported_keeps_kpis_and_info_counts(
    tiny_dataset: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from nettwin.data.info import dataset_info

    path, _ = tiny_dataset
    export_dataset(path, tmp_path / "t.parquet")
    import_dataset("table", tmp_path / "t.parquet", tmp_path / "back")
    a, b = Dataset(path), Dataset(tmp_path / "back")
    for kpi in ("delay", "jitter", "throughput", "drops", "tx_packets"):
        for run in (0, 1, 2):
            assert json.dumps(a.kpi(kpi, run=run).tolist()) == json.dumps(b.kpi(kpi, run=run).tolist())
    skip = {"scenario", "seed", *NONDETERMINISTIC}
    _same_rows(a.table().drop_columns(list(skip)), b.table().drop_columns(list(skip)))
    info_a, info_b = dataset_info(path), dataset_info(tmp_path / "back")
    for key in ("samples", "stored", "ok", "failed", "splits", "kpis", "busiest_link_offered_load"):
        assert info_a[key] == info_b[key], key


def _jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _record(**changes: Any) -> dict[str, Any]:
    return {"topology": TOPOLOGY, "flows": _flows(0), "delay": [[0.01, 0.02]], **changes}


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([_record(), _record(colour="red")], r"t.jsonl: record 2 \(line 2\): colour: unexpected field"),
        ([_record(), "{not json"], r"t.jsonl: record 2 \(line 2\): not valid JSON"),
        (
            [_record(flows=[{"src": "a", "dst": "z", "traffic": {"model": "cbr", "rate": "1kbps"}}])],
            r"t.jsonl: record 1 \(line 1\): flows\[0\].dst: .*'z'",
        ),
        ([_record(delay=[[0.01]])], r"record 1 \(line 1\): delay\[0\]: has 1 value\(s\); the sample has 2 flows"),
        ([_record(), _record(jitter=[[0.0, 0.0]])], r"record 2 \(line 2\): jitter: given here but not in the first"),
        ([_record(split="later")], r"record 1 \(line 1\): split: must be one of train, val, test"),
        ([_record(tx_packets=[[1.5, 2]])], r"record 1 \(line 1\): tx_packets\[0\]\[0\]: must be a whole count"),
        ([{"flows": _flows(0), "delay": [[0.0, 0.0]]}], r"record 1 \(line 1\): topology: missing"),
    ],
)
def test_a_bad_record_is_one_error_naming_file_record_and_field(
    tmp_path: Path, records: list[Any], message: str
) -> None:
    source = _jsonl(tmp_path / "t.jsonl", records)
    with pytest.raises(DatasetError, match=message) as info:
        import_dataset("table", source, tmp_path / "out")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


def test_csv_and_parquet_errors_name_the_column_and_record(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text('topology,flows,delay,speed\n"{}","[]","[[0.1]]",3\n')
    with pytest.raises(DatasetError, match=r"t.csv: line 1: column 'speed': unexpected"):
        import_dataset("table", csv, tmp_path / "out")
    topology = json.dumps(TOPOLOGY).replace('"', '""')
    csv.write_text(f'topology,flows,delay\n"{topology}",[oops,"[[0.1]]"\n')
    with pytest.raises(DatasetError, match=r"t.csv: record 1 \(line 2\): flows: not valid JSON"):
        import_dataset("table", csv, tmp_path / "out")
    pq.write_table(pa.table({"topology": [json.dumps(TOPOLOGY)], "flows": ["[]"], "rate": [1.0]}), tmp_path / "t.pq")
    with pytest.raises(DatasetError, match=r"t.pq: column rate: unexpected"):
        import_dataset("table", tmp_path / "t.pq", tmp_path / "out")


def test_import_refuses_an_existing_directory_and_an_unknown_format(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "t.jsonl", [_record()])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(DatasetError, match="exists and is not an empty directory"):
        import_dataset("table", source, tmp_path / "full")
    with pytest.raises(DatasetError, match="unknown import format 'omnet'; known: .*table"):
        import_dataset("omnet", source, tmp_path / "o")
    import_dataset("table", source, tmp_path / "empty")
    assert Dataset(tmp_path / "empty").manifest["samples"] == 1


def test_cli_import_train_evaluate_on_a_small_table(tmp_path: Path, run_main: Any) -> None:
    records = []
    for i in range(20):
        rate = 50 + 10 * i
        runs = 2
        records.append(
            {
                "topology": TOPOLOGY,
                "flows": _flows(i),
                "delay": [[0.003 + rate * 1e-5 + r * 1e-5, 0.004] for r in range(runs)],
                "throughput": [[rate * 1e3, 1e4] for _ in range(runs)],
                "split": "test" if i % 5 == 0 else ("val" if i % 5 == 1 else "train"),
            }
        )
    source = _jsonl(tmp_path / "measured.jsonl", records)
    res = run_main("dataset", "import", "table", str(source), "--out", str(tmp_path / "ds"))
    assert res.code == 0, res.stderr
    info = run_main("dataset", "info", str(tmp_path / "ds"))
    assert info.code == 0 and "imported from table" in info.stdout and "jitter" not in info.stdout
    missing = run_main("train", str(tmp_path / "ds"), "--kpis", "delay,jitter", "--out", str(tmp_path / "m.pt"))
    assert missing.code == 1
    assert missing.stderr.strip().startswith("error: ") and "has no 'jitter'" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    ckpt = tmp_path / "twin.pt"
    args = ["--kpis", "delay,throughput", "--epochs", "2", "--quiet", "--out", str(ckpt)]
    trained = run_main("train", str(tmp_path / "ds"), *args)
    assert trained.code == 0, trained.stderr
    report = tmp_path / "report"
    evaluated = run_main("evaluate", str(ckpt), str(tmp_path / "ds"), "--out", str(report), "--no-qt")
    assert evaluated.code == 0, evaluated.stderr
    data = json.loads((report / "report.json").read_text())
    assert data["dataset"]["samples"] == 4 and {m["name"] for m in data["methods"]} >= {"SimBase"}


def test_cli_export_writes_the_table(tmp_path: Path, run_main: Any) -> None:
    _write(tmp_path / "w", n=3)
    res = run_main("dataset", "export", str(tmp_path / "w"), "--format", "table", "--out", str(tmp_path / "t.csv"))
    assert res.code == 0, res.stderr
    assert "wrote 3 samples" in res.stdout
    assert (tmp_path / "t.csv").read_text().startswith("split,name,topology,flows,routing,simulation,delay,")


def test_what_a_killed_import_left_is_removed_by_the_next(tmp_path: Path) -> None:
    stale = tmp_path / ".out.4194305.0123abcd.importing"  # above the kernel's largest process id: nobody's
    (stale / "shards").mkdir(parents=True)
    import_dataset("table", _jsonl(tmp_path / "t.jsonl", [_record()]), tmp_path / "out")
    assert not stale.exists() and Dataset(tmp_path / "out").manifest["samples"] == 1


def test_cli_import_errors_are_one_line(tmp_path: Path, run_main: Any) -> None:
    source = _jsonl(tmp_path / "t.jsonl", [_record(), _record(colour="red")])
    bad = run_main("dataset", "import", "table", str(source), "--out", str(tmp_path / "out"))
    assert bad.code == 1 and bad.stderr.strip().splitlines()[-1].endswith(
        "colour: unexpected field; the table layout has " + ", ".join(COLUMNS)
    )
    assert not (tmp_path / "out").exists()
    unknown = run_main("dataset", "import", "omnet", str(source), "--out", str(tmp_path / "out"))
    assert unknown.code == 1 and len(unknown.stderr.splitlines()) == 1
    assert unknown.stderr.startswith("error: unknown import format 'omnet'; known: ") and "table" in unknown.stderr


def test_generate_refuses_to_add_to_an_imported_dataset(tmp_path: Path) -> None:
    from _datasets import tiny_spec

    from nettwin.data import generate_dataset

    source = _jsonl(tmp_path / "t.jsonl", [_record()])
    import_dataset("table", source, tmp_path / "out")
    with pytest.raises(DatasetError, match=rf"holds a dataset imported from table {source}, which generate cannot"):
        generate_dataset(tiny_spec(), tmp_path / "out", workers=1)


def test_the_writer_takes_numpy_arrays_and_a_single_run_as_a_flat_list(tmp_path: Path) -> None:
    import numpy as np

    with DatasetWriter(tmp_path / "np") as w:
        w.add({"topology": TOPOLOGY, "flows": _flows(0)}, {"delay": np.array([[0.01, 0.02], [0.011, 0.021]])})
        w.add({"topology": TOPOLOGY, "flows": _flows(1)}, {"delay": [0.03, np.nan]})
        with pytest.raises(DatasetError, match=r"sample 2: delay\[0\]: has 3 value\(s\); the sample has 2 flows"):
            w.add({"topology": TOPOLOGY, "flows": _flows(2)}, {"delay": np.zeros(3)})
    ds = Dataset(tmp_path / "np")
    assert [s.n_runs for s in ds.samples()] == [2, 1]
    assert ds.sample(0).kpis(1)["delay"].tolist() == [0.011, 0.021]
    assert np.isnan(ds.sample(1).kpis()["delay"][1])


def test_parquet_with_native_structs_imports_and_a_null_member_means_not_given(tmp_path: Path) -> None:
    records = [{"topology": TOPOLOGY, "flows": _flows(i), "delay": [[0.01, 0.02]]} for i in range(3)]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "native.parquet")  # flows[1] gets path: null
    import_dataset("table", tmp_path / "native.parquet", tmp_path / "out")
    ds = Dataset(tmp_path / "out")
    assert len(ds) == 3 and ds.sample(2).paths == ((0, 1, 2), (1, 0))
    assert ds.sample(2).scenario.flows[0].traffic.rate == 102e3
