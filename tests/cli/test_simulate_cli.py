"""The ``nettwin simulate`` command as a user runs it: tables, JSON, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).parents[2] / "examples"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nettwin", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "small",
                "topology": {
                    "nodes": ["a", "b", "c"],
                    "links": [
                        {"src": "a", "dst": "b", "capacity": "1Mbps"},
                        {"src": "b", "dst": "c", "capacity": "1Mbps"},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "300kbps"}},
                    {"src": "c", "dst": "a", "traffic": {"model": "cbr", "rate": "100kbps", "packet_size": "500B"}},
                ],
                "simulation": {"duration": "20s", "warmup": "1s"},
            }
        )
    )
    return path


def test_table_output(small):
    res = run_cli("simulate", str(small))
    assert res.returncode == 0, res.stderr
    assert "per-flow KPIs" in res.stdout and "a→c" in res.stdout and "c→a" in res.stdout


def test_json_output_runs_and_vs(small, tmp_path):
    out = tmp_path / "res.json"
    res = run_cli("simulate", str(small), "--runs", "2", "--vs", "analytic", "--format", "json", "--out", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data == json.loads(out.read_text())
    assert [r["meta"]["run"] for r in data["runs"]] == [0, 1]
    assert data["vs"]["meta"]["engine"] == "analytic"
    r0, r1 = data["runs"]
    assert r0["flows"][0]["path"] == [0, 1, 2]
    # independent runs differ, but both carry every flow
    assert r0["flows"][0]["delay"] != r1["flows"][0]["delay"]
    assert r0["flows"][1]["throughput"] == pytest.approx(100e3, rel=0.02)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"flows": [{"src": "a", "dst": "z", "traffic": {"model": "cbr", "rate": "1kbps"}}]},
            "flows[0].dst: unknown node 'z'",
        ),
        ({"simulation": {"duration": "-3s"}}, "simulation.duration: cannot read '-3s' as a duration"),
        ({"simulation": {"engine": "warp"}}, "simulation.engine: unknown engine 'warp'"),
        ({"colour": "red"}, "colour: unknown key"),
    ],
)
def test_bad_input_gives_one_line_error(small, edit, message):
    data = yaml.safe_load(small.read_text())
    data.update(edit)
    small.write_text(yaml.safe_dump(data))
    res = run_cli("simulate", str(small))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr


def test_missing_file(tmp_path):
    res = run_cli("simulate", str(tmp_path / "nope.yaml"))
    assert res.returncode == 1 and "no such file" in res.stderr and "Traceback" not in res.stderr


def test_wireless_on_builtin_points_to_ns3(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless"},
                "flows": [
                    {"src": 0, "dst": 3, "traffic": {"model": "onoff", "rate": "50kbps", "tau_on": 1, "tau_off": 1}}
                ],
            }
        )
    )
    res = run_cli("simulate", str(path))
    assert res.returncode == 1 and "--engine ns3" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate",), "Missing argument 'scenario'"),
        (("simulate", "x.yaml", "--runs", "0"), "Invalid value for '--runs'"),
        (("simulate", "x.yaml", "--format", "xml"), "Invalid value for '--format'"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line(args, message):
    res = run_cli(*args)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "--help" in lines[0]


def test_group_without_command_shows_help():
    res = run_cli("dataset")
    assert res.returncode == 0 and "generate" in res.stdout


def test_run_count_beyond_the_limit_is_refused_before_simulating(small):
    from nettwin.scenario.limits import MAX_RUNS

    proc = run_cli("simulate", str(small), "--runs", str(10**24))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: runs: must be between 1 and {MAX_RUNS}, got {10**24}"]


def test_a_seed_beyond_64_bits_is_refused_in_files_and_options(small, tmp_path):
    proc = run_cli("simulate", str(small), "--seed", str(10**23))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"error: simulation.seed must be between 0 and 2**63 - 1, got {10**23}"]
    data = yaml.safe_load(small.read_text())
    data["simulation"]["seed"] = 2**63
    small.write_text(yaml.safe_dump(data))
    proc = run_cli("simulate", str(small))
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert "simulation.seed: must be at most 2**63 - 1" in line
