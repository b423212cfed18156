"""``nettwin train / evaluate / predict`` through the command registration the application uses."""

import json

import pytest
import typer
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
