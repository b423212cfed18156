"""``nettwin train / evaluate / predict`` through the command registration the application uses."""

import json
import re
import shutil

import pytest
import typer
import yaml
from typer.testing import CliRunner

from nettwin.cli import twin as twin_cli
from nettwin.scenario import dump_scenario


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    twin_cli.register(app)
    return app


@pytest.fixture(scope="module")
def trained(app, tiny_dataset, tmp_path_factory):
    ckpt = tmp_path_factory.mktemp("cli") / "glance.pt"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(tiny_dataset.path),
            "--model",
            "glance",
            "--strategy",
            "mtl",
            "--epochs",
            "2",
            "--out",
            str(ckpt),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    return ckpt, result.output


def test_train_writes_a_checkpoint_and_prints_validation_nmae(trained):
    ckpt, output = trained
    assert ckpt.is_file()
    assert "GLANCE-MTL: best validation NMAE" in output and f"wrote {ckpt}" in output.replace("\n", "")


def test_train_json_and_model_options(app, tiny_dataset, tmp_path):
    out = tmp_path / "rn.pt"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(tiny_dataset.path),
            "--model",
            "routenet",
            "--epochs",
            "1",
            "--option",
            "T=2",
            "--kpis",
            "delay,drops",
            "--out",
            str(out),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["twin"] == "RouteNet-MTL" and summary["kpis"] == ["delay", "drops"]


def test_evaluate_prints_tables_and_writes_the_report(app, trained, tiny_dataset, tmp_path):
    ckpt, _ = trained
    result = CliRunner().invoke(app, ["evaluate", str(ckpt), str(tiny_dataset.path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    for name in ("GLANCE-MTL", "QT", "SimBase++", "NMAE", "MRE"):
        assert name in result.output
    assert (tmp_path / "r" / "report.json").is_file() and (tmp_path / "r" / "report.png").is_file()


def test_predict_prints_a_flow_table(app, trained, tiny_dataset, tmp_path):
    ckpt, _ = trained
    scenario = tmp_path / "s.yaml"
    dump_scenario(next(tiny_dataset.samples("test")).scenario, scenario)
    result = CliRunner().invoke(app, ["predict", str(ckpt), str(scenario)])
    assert result.exit_code == 0, result.output
    assert "delay ms" in result.output and "thr kbps" in result.output and "drops pkts" in result.output
    result = CliRunner().invoke(app, ["predict", str(ckpt), str(scenario), "--format", "json"])
    flows = json.loads(result.output)["flows"]
    assert len(flows) == 4 and {"delay", "jitter", "throughput", "drops", "src", "dst"} <= set(flows[0])


def test_errors_are_twin_errors(app, tmp_path):
    from nettwin.twin import TwinError

    result = CliRunner().invoke(app, ["predict", str(tmp_path / "none.pt"), str(tmp_path / "s.yaml")])
    assert isinstance(result.exception, TwinError)


def test_train_qt_gives_a_checkpoint_evaluate_accepts(app, tiny_dataset, tmp_path):
    ckpt = tmp_path / "qt.pt"
    result = CliRunner().invoke(app, ["train", str(tiny_dataset.path), "--model", "qt", "--out", str(ckpt)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        app, ["evaluate", str(ckpt), str(tiny_dataset.path), "--no-simbase", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "QT" in result.output and "SimBase" not in result.output


def scenario_file(tiny_dataset, tmp_path, capacity_scale=1.0):
    """The first training sample's scenario (capacities scaled), as a file."""
    data = dump_scenario(next(tiny_dataset.samples("train")).scenario)
    data["topology"]["capacity_scale"] = data["topology"].get("capacity_scale", 1.0) * capacity_scale
    path = tmp_path / f"x{capacity_scale:g}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_predict_warns_once_and_flags_a_network_outside_the_training_range(trained, tiny_dataset, tmp_path, run_main):
    ckpt, _ = trained
    res = run_main("predict", str(ckpt), str(scenario_file(tiny_dataset, tmp_path)))
    assert res.code == 0 and "warning" not in res.stderr
    fast = scenario_file(tiny_dataset, tmp_path, capacity_scale=100)
    res = run_main("predict", str(ckpt), str(fast))
    assert res.code == 0 and "delay ms" in res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: network 0 is outside the twin's training range: link ")
    assert re.search(r"link capacity [\d.]+ Mbps > [\d.]+ kbps seen", lines[0])
    assert lines[0].endswith("predictions may be unreliable")
    res = run_main("predict", str(ckpt), str(fast), "--format", "json")
    assert any(r.startswith("link capacity") for r in json.loads(res.stdout)["outside_training"])
    res = run_main("predict", str(ckpt), str(scenario_file(tiny_dataset, tmp_path)), "--format", "json")
    assert json.loads(res.stdout)["outside_training"] == []


def test_evaluate_says_when_the_dataset_is_incomplete(trained, tiny_dataset, tmp_path, run_main):
    ckpt, _ = trained
    partial = tmp_path / "partial"
    shutil.copytree(tiny_dataset.path, partial)
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["status"] = "incomplete"
    (partial / "manifest.json").write_text(json.dumps(manifest))
    quick = ("--no-simbase", "--no-qt", "--out")
    res = run_main("evaluate", str(ckpt), str(partial), *quick, str(tmp_path / "r"))
    assert res.code == 0, res.stderr
    notes = [line for line in res.stdout.splitlines() if "incomplete" in line]
    assert notes == [
        "note: dataset tiny-twin is incomplete (30 of 30 samples generated): the scores cover those only; rerun "
        "'nettwin dataset generate' to finish it"
    ]
    res = run_main("evaluate", str(ckpt), str(tiny_dataset.path), *quick, str(tmp_path / "s"))
    assert res.code == 0 and "incomplete" not in res.stdout


def test_a_seed_beyond_64_bits_is_one_error_line(tiny_dataset, tmp_path, run_main):
    res = run_main(
        "train", str(tiny_dataset.path), "--epochs", "1", "--seed", str(10**30), "--out", str(tmp_path / "m.pt")
    )
    assert res.code == 1
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and "'seed'" in line and str(10**30) in line


def test_optimiser_settings_beyond_one_are_one_error_line(tiny_dataset, tmp_path, run_main):
    out = str(tmp_path / "m.pt")
    res = run_main("train", str(tiny_dataset.path), "--epochs", "1", "--weight-decay", "1e300", "--out", out)
    assert res.code == 1
    assert res.stderr.strip().splitlines() == [
        "error: Twin: parameter 'weight_decay' must be a number in [0, 1]; got 1e+300"
    ]
