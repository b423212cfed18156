"""Training's default KPIs follow the dataset: a dataset without jitter (datanet's) or without throughput (GLANCE's)
trains on the default KPIs it holds, with one note saying which were left out; named KPIs it lacks stay an error;
``evaluate``, ``predict`` and ``dataset info`` work on such datasets or fail with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nettwin.data import Dataset, DatasetWriter
from nettwin.errors import TwinError
from nettwin.twin import Twin

TOPOLOGY = {
    "nodes": ["a", "b", "c"],
    "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}, {"src": "b", "dst": "c", "capacity": "2Mbps"}],
}
QUICK = ["--epochs", "1", "--quiet", "--option", "T=1", "--option", "link=4"]
QUICK += ["--option", "node=4", "--option", "readout=4"]


def _scenario(i: int) -> dict[str, Any]:
    return {
        "name": f"s{i}",
        "topology": TOPOLOGY,
        "flows": [
            {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": f"{100 + 20 * i}kbps"}},
            {"src": "b", "dst": "c", "traffic": {"model": "cbr", "rate": "50kbps"}},
        ],
    }


def _kpi(name: str, i: int, run: int) -> list[float]:
    base = {"delay": 0.004, "jitter": 0.001, "throughput": 1e5, "drops": 1.0, "delay_p50": 0.003}[name]
    return [base * (1 + 0.05 * i + 0.01 * run), base * (1.5 + 0.01 * run)]


def _dataset(out: Path, kpis: tuple[str, ...]) -> Path:
    """Ten samples holding only ``kpis``: 6 train, 2 val, 2 test (with two repeated runs, for SimBase)."""
    with DatasetWriter(out) as w:
        for i in range(10):
            split = "train" if i < 6 else ("val" if i < 8 else "test")
            runs = 3 if split == "test" else 1
            w.add(_scenario(i), {k: [_kpi(k, i, r) for r in range(runs)] for k in kpis}, split=split)
    return out


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kpis")
    return {
        "no_jitter": _dataset(root / "datanet_like", ("delay", "throughput", "drops")),
        "no_throughput": _dataset(root / "glance_like", ("delay", "jitter", "drops")),
    }


def _one_line(stderr: str, prefix: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), stderr
    return lines[0]


@pytest.mark.parametrize(
    ("name", "kept", "left_out"),
    [
        ("no_jitter", ["delay", "throughput", "drops"], "jitter"),
        ("no_throughput", ["delay", "jitter", "drops"], "throughput"),
    ],
)
def test_train_evaluate_predict_and_info_on_a_dataset_lacking_a_default_kpi(
    datasets: dict[str, Path], tmp_path: Path, run_main: Any, name: str, kept: list[str], left_out: str
) -> None:
    ds = datasets[name]
    ckpt = tmp_path / "twin.pt"
    trained = run_main("train", str(ds), *QUICK, "--format", "json", "--out", str(ckpt))
    assert trained.code == 0, trained.stderr
    note = _one_line(trained.stderr, "note: ")
    assert note == f"note: learning {', '.join(kept)}; the default KPI(s) {left_out} left out: {ds} does not hold them"
    assert json.loads(trained.stdout)["kpis"] == kept

    info = run_main("dataset", "info", str(ds))
    assert info.code == 0, info.stderr
    assert left_out not in info.stdout and all(k in info.stdout for k in kept)

    evaluated = run_main("evaluate", str(ckpt), str(ds), "--out", str(tmp_path / "report"), "--format", "json")
    assert evaluated.code == 0, evaluated.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["kpis"] == kept
    assert {m["name"] for m in report["methods"]} >= {"GLANCE-MTL", "SimBase", "QT"}

    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(_scenario(7)))
    predicted = run_main("predict", str(ckpt), str(scenario), "--format", "json")
    assert predicted.code == 0, predicted.stderr
    flows = json.loads(predicted.stdout)["flows"]
    assert len(flows) == 2 and set(kept) <= set(flows[0]) and left_out not in flows[0]


def test_a_named_kpi_the_dataset_lacks_is_one_error_line(
    datasets: dict[str, Path], tmp_path: Path, run_main: Any
) -> None:
    ds = datasets["no_jitter"]
    res = run_main("train", str(ds), *QUICK, "--kpis", "delay,jitter", "--out", str(tmp_path / "m.pt"))
    assert res.code == 1 and not (tmp_path / "m.pt").exists()
    assert "has no 'jitter' (its source, python, does not record it)" in _one_line(res.stderr, "error: ")
    qt = run_main("train", str(ds), "--model", "qt", "--kpis", "throughput,jitter", "--out", str(tmp_path / "q.pt"))
    assert qt.code == 1 and "has no 'jitter'" in _one_line(qt.stderr, "error: ")


def test_the_queueing_twin_and_transfer_learning_default_to_what_the_dataset_holds(
    datasets: dict[str, Path], tmp_path: Path, run_main: Any
) -> None:
    ds = datasets["no_throughput"]
    qt = run_main("train", str(ds), "--model", "qt", "--format", "json", "--out", str(tmp_path / "q.pt"))
    assert qt.code == 0, qt.stderr
    assert json.loads(qt.stdout)["kpis"] == ["delay", "jitter", "drops"] and "note: " in qt.stderr
    tl = run_main("train", str(ds), *QUICK, "--strategy", "tl", "--kpis", "delay", "--out", str(tmp_path / "t.pt"))
    assert tl.code == 0, tl.stderr
    assert "note:" not in tl.stderr  # KPIs named: nothing left out to tell


def test_evaluating_a_twin_of_a_kpi_the_dataset_lacks_is_one_error_line(
    datasets: dict[str, Path], tmp_path: Path, run_main: Any
) -> None:
    ckpt = tmp_path / "jitter.pt"
    assert run_main("train", str(datasets["no_throughput"]), *QUICK, "--out", str(ckpt)).code == 0
    res = run_main("evaluate", str(ckpt), str(datasets["no_jitter"]), "--out", str(tmp_path / "r"))
    assert res.code == 1 and "has no 'jitter'" in _one_line(res.stderr, "error: ")


def test_a_dataset_holding_no_default_kpi_is_one_error_line(tmp_path: Path, run_main: Any) -> None:
    ds = _dataset(tmp_path / "p50", ("delay_p50",))
    res = run_main("train", str(ds), *QUICK, "--out", str(tmp_path / "m.pt"))
    assert res.code == 1
    assert _one_line(res.stderr, "error: ") == (
        f"error: {ds} holds none of the default KPIs (delay, jitter, throughput, drops); name the KPIs to learn "
        "from those it holds: delay_p50"
    )
    assert run_main("train", str(ds), *QUICK, "--kpis", "delay_p50", "--out", str(tmp_path / "m.pt")).code == 0


def test_python_twins_default_to_the_kpis_the_data_holds(datasets: dict[str, Path]) -> None:
    quick = {"epochs": 1, "options": {"T": 1, "link": 4, "node": 4, "readout": 4}}
    ds = Dataset(datasets["no_jitter"])
    assert Twin("glance", **quick).fit(ds).kpis_ == ["delay", "throughput", "drops"]
    pairs = [(s.network(), {"delay": s.kpis()["delay"]}) for s in ds.samples("train")]
    twin = Twin("glance", **quick).fit(pairs)
    assert twin.kpis_ == ["delay"] and twin.get_params()["kpis"] is None
    with pytest.raises(TwinError, match="Twin.fit: the training data has no 'throughput'; it holds delay$"):
        Twin("glance", kpis=["delay", "throughput"], **quick).fit(pairs)
