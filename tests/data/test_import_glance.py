"""The ``glance`` importer: GLANCE's ns-3 Wi-Fi grid dataset, from a small fixture written as its format says."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import pytest

from nettwin.data import Dataset, import_dataset
from nettwin.errors import DatasetError

SPACING = 30.0
LATTICE = [(0, 1), (2, 3), (0, 2), (1, 3)]  # a 2 × 2 grid, node id = row · 2 + col


def _weight(d: float) -> float:
    return 1 / math.log(1 + d * d)


def _gml(pairs: list[tuple[int, int]]) -> str:
    lines = ["graph [", "  directed 1"] + [f'  node [ id {n} label "{n}" ]' for n in range(4)]
    for a, b in pairs:
        d = math.dist(divmod(a, 2), divmod(b, 2)) * SPACING
        for s, t in ((a, b), (b, a)):
            lines.append(f"  edge [ source {s} target {t} Distance 1 weight {_weight(d):.9f} ]")
    return "\n".join([*lines, "]"]) + "\n"


SPLITS: dict[str, list[tuple[str, str, str, str]]] = {
    "train": [
        (
            "out/run7/graphs/Gx0000.gml",
            "[[0, 1, 3], [2, 0]]",
            "1.5,4.0,2.0,2.0",
            "1210,1198,35.2,6.1,12.4,2650,2641,8.7,2.3,26.8",
        ),
        (
            "out/run7/graphs/Gx0001.gml",
            "[[0,3],[2,0]]",
            "0.5,6.0,3.0,1.0",
            "402,0,812.4,33.0,0.0,4010,3987,9.9,2.9,41.5",
        ),
        (
            "C:\\run\\graphs\\Gx0000.gml",
            "[[1, 0], [3, 2]]",
            "1.0,1.0,2.0,3.0",
            "900,900,5.0,1.0,60.1,700,650,7.5,2.0,20.0",
        ),
    ],
    "validate": [
        ("x/Gx0000.gml", "[[0, 2], [1, 3]]", "1.0,2.0,1.0,2.0", "500,499,4.0,0.5,20.0,510,505,4.5,0.7,21.0"),
        ("x/Gx0001.gml", "[[3, 0], [1, 0]]", "2.0,1.0,2.0,1.0", "800,790,6.0,0.9,30.0,820,800,6.5,1.0,31.0"),
    ],
    "test": [
        ("Gx0000.gml", "[[2, 3], [0, 1]]", "1.0,1.0,1.0,1.0", "600,600,3.0,0.2,25.0,600,598,3.5,0.3,25.5"),
        ("Gx0001.gml", "[[0, 3, 2], [1, 0]]", "3.0,1.0,1.0,3.0", "1000,980,9.0,1.1,45.0,300,300,2.0,0.1,11.0"),
    ],
}


def _fixture(tmp_path: Path, splits: dict[str, list[tuple[str, str, str, str]]] | None = None) -> Path:
    root = tmp_path / "dataset" / "WifiGridR1S2St180Dr50Le2F4"
    (root / "graphs").mkdir(parents=True)
    (root / "graphs" / "Gx0000.gml").write_text(_gml(LATTICE))
    (root / "graphs" / "Gx0001.gml").write_text(_gml([*LATTICE, (0, 3)]))
    for folder, rows in (splits or SPLITS).items():
        (root / folder).mkdir()
        for k, name in enumerate(("gfiles.txt", "paths.txt", "traffic.txt", "kpis.txt")):
            # gfiles and paths without a final newline, as in the published files
            end = "" if name in ("gfiles.txt", "paths.txt") else "\n"
            (root / folder / name).write_text("\n".join(r[k] for r in rows) + end)
    return root


def test_every_field_is_mapped_with_its_unit_and_split(tmp_path: Path) -> None:
    res = import_dataset("glance", _fixture(tmp_path), tmp_path / "ds")
    assert res["samples"] == 7 and res["splits"] == {"train": 3, "val": 2, "test": 2}
    ds = Dataset(tmp_path / "ds")
    m = ds.manifest
    assert m["kpis"] == ["delay", "jitter", "drops", "drop_rate", "tx_packets", "rx_packets", "dropped"]
    assert m["link_stats"] == [] and "throughput" not in m["kpis"]
    source = m["source"]
    assert source["format"] == "glance" and source["scenario"] == "WifiGridR1S2St180Dr50Le2F4"
    assert source["duration_s"] == 180.0 and "throughput" in source["semantics"]["absent"]
    assert "mean |ΔD|" in source["semantics"]["kpis"]["jitter"]
    table = ds.table()
    rows = sorted(table.to_pylist(), key=lambda r: r["sample_id"])
    assert [r["split"] for r in rows] == ["train"] * 3 + ["val"] * 2 + ["test"] * 2
    first = rows[0]
    scen = json.loads(first["scenario"])
    assert scen["topology"]["medium"] == "wireless"
    assert scen["simulation"]["duration"] == 180.0 and scen["simulation"].get("warmup", 0.0) == 0.0
    f0, f1 = scen["flows"]
    assert [str(n) for n in f0["path"]] == ["0", "1", "3"] and [str(n) for n in f1["path"]] == ["2", "0"]
    assert f0["traffic"]["model"] == "onoff"
    assert (f0["traffic"]["tau_on"], f0["traffic"]["tau_off"]) == (1.5, 4.0)
    assert (f1["traffic"]["tau_on"], f1["traffic"]["tau_off"]) == (2.0, 2.0)
    assert f0["traffic"]["rate"] == 50e3 and f0["traffic"]["packet_size"] == {"mean": 210.0}
    assert first["n_nodes"] == 4 and first["n_links"] == 8  # the lattice, both directions
    assert first["delay"][0] == pytest.approx([0.0352, 0.0087])
    assert first["jitter"][0] == pytest.approx([0.0061, 0.0023])
    assert first["tx_packets"][0] == [1210, 2650] and first["rx_packets"][0] == [1198, 2641]
    assert first["dropped"][0] == [12, 9] and first["drops"][0] == [12.0, 9.0]
    assert first["drop_rate"][0] == pytest.approx([12 / 1210, 9 / 2650])
    silent = rows[1]
    assert silent["n_links"] == 10  # the cached second graph, with its diagonal
    assert math.isnan(silent["delay"][0][0]) and math.isnan(silent["jitter"][0][0])  # rx = 0
    assert silent["delay"][0][1] == pytest.approx(0.0099) and silent["drop_rate"][0][0] == 1.0
    meta = json.loads(silent["meta"])[0]
    assert meta["glance_split"] == "train" and meta["glance_line"] == 2 and meta["graph"] == "Gx0001.gml"
    assert meta["rx0_raw"] == {"0": {"delay_ms": 812.4, "jitter_ms": 33.0}}
    assert meta["grid_geometric"] is True
    topo = json.loads(rows[0]["scenario"])["topology"]
    pos = {str(n["name"]): (n["x"], n["y"]) for n in topo["nodes"]}
    assert pos["3"] == pytest.approx((SPACING, SPACING)) and pos["1"] == pytest.approx((SPACING, 0.0))


def test_empty_splits_give_no_samples(tmp_path: Path) -> None:
    root = _fixture(tmp_path, {"train": SPLITS["train"], "validate": [], "test": []})
    for folder in ("validate", "test"):
        for name in ("gfiles.txt", "paths.txt", "traffic.txt", "kpis.txt"):
            (root / folder / name).write_text("")
    res = import_dataset("glance", root, tmp_path / "ds")
    assert res["splits"] == {"train": 3, "val": 0, "test": 0}


def test_cli_import_and_info(tmp_path: Path, run_main: Any) -> None:
    res = run_main("dataset", "import", "glance", str(_fixture(tmp_path)), "--out", str(tmp_path / "ds"))
    assert res.code == 0, res.stderr
    info = run_main("dataset", "info", str(tmp_path / "ds"))
    assert info.code == 0, info.stderr
    assert "imported from glance" in info.stdout and "throughput" not in info.stdout


def _broken(tmp_path: Path, folder: str, index: int, row: int, text: str) -> Path:
    splits = {k: [list(r) for r in v] for k, v in SPLITS.items()}
    splits[folder][row][index] = text
    return _fixture(tmp_path, {k: [tuple(r) for r in v] for k, v in splits.items()})  # type: ignore[misc]


@pytest.mark.parametrize(
    ("index", "text", "message"),
    [
        (1, "[[0, 1, 3], [2, 0]", "train/paths.txt: line 2: not a JSON list of routes"),
        (2, "0.5,6.0,3.0", "train/traffic.txt: line 2: has 3 values; 2 flows in paths.txt need 4"),
        (3, "402,0,812.4,33.0,0.0,4010,3987,9.9,2.9,abc", "train/kpis.txt: line 2: value 10: not a number: 'abc'"),
        (3, "402,500,812.4,33.0,0.0,4010,3987,9.9,2.9,41.5", "train/kpis.txt: line 2: flow 0: rx 500 exceeds tx 402"),
        (3, "402.5,0,812.4,33.0,0.0,4010,3987,9.9,2.9,41.5", "train/kpis.txt: line 2: flow 0: tx and rx must be whole"),
        (0, "out/Gx0009.gml", "train/gfiles.txt: line 2: graphs/Gx0009.gml: no such graph file"),
    ],
)
def test_a_bad_line_is_one_error_naming_file_and_line(tmp_path: Path, index: int, text: str, message: str) -> None:
    with pytest.raises(DatasetError) as err:
        import_dataset("glance", _broken(tmp_path, "train", index, 1, text), tmp_path / "ds")
    assert str(err.value).startswith(message) and len(str(err.value).splitlines()) == 1
    assert not (tmp_path / "ds").exists()


def test_a_route_off_its_graph_leaves_its_sample_out_and_says_so(tmp_path: Path, run_main: Any) -> None:
    source = _broken(tmp_path, "train", 1, 1, "[[0, 3], [2, 1]]")
    res = run_main("dataset", "import", "glance", str(source), "--out", str(tmp_path / "ds"), "--format", "json")
    assert res.code == 0, res.stderr
    [line] = [w for w in res.stderr.splitlines() if w.startswith(("warning:", "error:"))]  # besides the bar
    assert line.startswith("warning: 1 sample(s) of ") and "train/paths.txt: line 2: flow 1: hop 2 → 1" in line
    summary = json.loads(res.stdout)
    assert summary["excluded"] == 1 and summary["samples"] == sum(len(v) for v in SPLITS.values()) - 1
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["source"]["excluded"] == [
        {"where": "train/paths.txt: line 2", "reason": "flow 1: hop 2 → 1 is not a link of graphs/Gx0001.gml"}
    ]


def test_a_line_count_mismatch_names_file_and_line(tmp_path: Path, run_main: Any) -> None:
    root = _fixture(tmp_path)
    (root / "validate" / "kpis.txt").write_text("\n".join(r[3] for r in SPLITS["validate"]) + "\n1,1,1,1,1,1,1,1,1,1\n")
    res = run_main("dataset", "import", "glance", str(root), "--out", str(tmp_path / "ds"))
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert res.code == 1 and len(errors) == 1 and res.stderr.strip().splitlines()[-1] == errors[0]
    assert errors[0].startswith("error: validate/kpis.txt: line 3: sample 3 has no line in validate/gfiles.txt")
    assert not (tmp_path / "ds").exists()


def test_a_bad_graph_edge_names_the_graph_line(tmp_path: Path) -> None:
    root = _fixture(tmp_path)
    gml = root / "graphs" / "Gx0001.gml"
    gml.write_text(gml.read_text().replace("weight", "wieght", 1))
    with pytest.raises(DatasetError, match=r"^graphs/Gx0001.gml: line 7: edge: no weight$"):
        import_dataset("glance", root, tmp_path / "ds")


def test_a_scenario_name_without_duration_is_refused(tmp_path: Path) -> None:
    root = _fixture(tmp_path)
    plain = root.rename(root.parent / "WifiGrid")
    with pytest.raises(DatasetError, match="St<n>"):
        import_dataset("glance", plain, tmp_path / "ds")


def test_cli_import_train_evaluate(tmp_path: Path, run_main: Any) -> None:
    res = run_main("dataset", "import", "glance", str(_fixture(tmp_path)), "--out", str(tmp_path / "ds"))
    assert res.code == 0, res.stderr
    ckpt = tmp_path / "twin.pt"
    trained = run_main(
        "train", str(tmp_path / "ds"), "--kpis", "delay,jitter", "--epochs", "1", "--quiet", "--out", str(ckpt)
    )
    assert trained.code == 0, trained.stderr
    report = tmp_path / "report"
    evaluated = run_main("evaluate", str(ckpt), str(tmp_path / "ds"), "--out", str(report), "--no-qt")
    assert evaluated.code == 0, evaluated.stderr
    assert json.loads((report / "report.json").read_text())["dataset"]["samples"] == 2


def test_the_published_zip_imports_like_its_folder(tmp_path: Path) -> None:
    root = _fixture(tmp_path / "src")
    archive = tmp_path / "dataset.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():  # file entries only: the archive's folders are implied, as many zip tools write them
                z.write(f, f.relative_to(root.parent.parent).as_posix())
    import_dataset("glance", archive, tmp_path / "z")
    import_dataset("glance", root, tmp_path / "d")
    zipped, unpacked = Dataset(tmp_path / "z").table(), Dataset(tmp_path / "d").table()
    for column in ("scenario", "split", "delay", "jitter", "tx_packets", "meta"):
        assert json.dumps(zipped[column].to_pylist()) == json.dumps(unpacked[column].to_pylist())  # NaN too
    assert Dataset(tmp_path / "z").manifest["source"]["scenario"] == "WifiGridR1S2St180Dr50Le2F4"
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("dataset/Other/graphs/Gx0000.gml", "graph [ ]")
    with pytest.raises(DatasetError, match=r"holds scenarios Other, WifiGridR1S2St180Dr50Le2F4; unpack it"):
        import_dataset("glance", archive, tmp_path / "y")
