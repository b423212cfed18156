from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from nettwin.cli.te import app
from nettwin.te import TEError

runner = CliRunner()


def test_solve_prints_mlu_and_optimum_as_json():
    res = runner.invoke(app, ["solve", "-t", "sndlib/abilene", "--solver", "ecmp", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["solver"] == "ecmp" and data["normalised"] >= 1.0 - 1e-9 and data["pairs"] == 132


def test_json_output_stays_json_when_the_lp_solver_prints_its_banner():
    # The solver's banner comes from native code the first time an LP is built in a process: run a fresh one.
    proc = subprocess.run(
        [sys.executable, "-m", "nettwin", "te", "solve", "-t", "nsfnet", "--k", "2", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["solver"] == "lp"


def test_train_and_evaluate_round_trip(tmp_path):
    ckpt = tmp_path / "m.pt"
    args = ["train", "-t", "sndlib/abilene", "--steps", "12", "--train-steps", "3", "--out", str(ckpt)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    png, out = tmp_path / "cdf.png", tmp_path / "ev.json"
    res = runner.invoke(
        app,
        [
            "evaluate",
            "-t",
            "sndlib/abilene",
            "--steps",
            "12",
            "-m",
            str(ckpt),
            "--plot",
            str(png),
            "--out",
            str(out),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    names = [r["solver"] for r in json.loads(res.output)["solvers"]]
    assert names == ["lp", "geminet:m", "ecmp", "shortest"]
    assert png.read_bytes()[:4] == b"\x89PNG" and json.loads(out.read_text())["instances"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["solve", "--solver", "geminet"], "needs --model CHECKPOINT"),
        (["solve", "-t", "sndlib/nowhere"], "unknown topohub topology"),
        (["evaluate", "--baselines", "magic", "-t", "sndlib/abilene", "--steps", "4"], "unknown baseline 'magic'"),
        (["solve", "--solver", "dote", "--model", "/nonexistent.pt"], "does not exist"),
        (
            ["solve", "--solver", "magic"],
            "unknown TE solver 'magic'; choose one of lp, ecmp, shortest, rescale, geminet, dote",
        ),
        (["train", "--solver", "ecmp", "--out", "/tmp/never.pt"], "'ecmp' learns nothing; choose one of geminet, dote"),
    ],
)
def test_errors_are_one_line_te_errors(args, match):
    res = runner.invoke(app, args)
    assert res.exit_code != 0
    assert isinstance(res.exception, TEError)
    assert match in str(res.exception) and "\n" not in str(res.exception)


def test_every_registered_solver_without_learning_solves_from_the_command_line():
    from nettwin.te import learned_names, solver_names

    for name in sorted(set(solver_names()) - set(learned_names())):
        res = runner.invoke(app, ["solve", "-t", "nsfnet", "--k", "2", "--solver", name, "--format", "json"])
        assert res.exit_code == 0, (name, res.output)
        data = json.loads(res.output)
        assert data["solver"] == name and data["mlu"] >= data["optimum"] - 1e-9
