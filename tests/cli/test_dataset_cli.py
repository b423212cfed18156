"""``nettwin dataset generate`` and ``nettwin dataset info`` as a user runs them, and the example specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nettwin.data import Dataset, generate_dataset, load_dataset_spec
from nettwin.data.sampling import draw_scenario
from nettwin.scenario import build_network

EXAMPLES = Path(__file__).parents[2] / "examples" / "datasets"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nettwin", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spec")
    (folder / "base.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "small",
                "topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps"}},
                "flows": [{"src": 0, "dst": 12, "traffic": {"model": "poisson", "rate": "40kbps", "packet_size": 500}}],
                "simulation": {"duration": "5s"},
            }
        )
    )
    path = folder / "spec.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "base": "base.yaml",
                "samples": 6,
                "seed": 1,
                "simbase_runs": 1,
                "shard_size": 2,
                "traffic": {"rate": {"uniform": ["20kbps", "120kbps"]}},
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def generated(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("out") / "ds"
    return out, run_cli("dataset", "generate", str(spec_file), "--out", str(out), "--workers", "2")


def test_generate_prints_a_summary(generated):
    out, res = generated
    assert res.returncode == 0, res.stderr
    for word in ("samples/s", "wall time", "failed", "complete"):
        assert word in res.stdout
    assert "6/6" in res.stderr  # the progress bar
    assert len(Dataset(out)) == 6


def test_generate_again_resumes_nothing_left(generated, spec_file):
    out, _ = generated
    res = run_cli("dataset", "generate", str(spec_file), "--out", str(out), "--format", "json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["generated"] == 0 and summary["resumed"] == 6 and summary["status"] == "complete"


def test_info_table_and_json(generated):
    out, _ = generated
    res = run_cli("dataset", "info", str(out))
    assert res.returncode == 0, res.stderr
    for word in ("train", "test", "delay ms", "throughput kbps", "busiest link", "utilisation", "IQR"):
        assert word in res.stdout
    info = json.loads(run_cli("dataset", "info", str(out), "--format", "json").stdout)
    assert info["ok"] == 6 and info["failed"] == 0 and info["status"] == "complete"
    assert info["splits"]["test"]["runs"] in ([], [2])
    assert set(info["kpis"]) >= {"delay", "jitter", "throughput", "drops"}
    delay = info["kpis"]["delay"]
    assert delay["min"] <= delay["p25"] <= delay["median"] <= delay["p75"] <= delay["max"]
    util = info["busiest_link_utilisation"]
    assert util["n"] == 6 and 0 < util["min"] <= util["max"] <= 1


def test_samples_override_is_a_different_dataset(generated, spec_file):
    out, _ = generated
    res = run_cli("dataset", "generate", str(spec_file), "--out", str(out), "--samples", "3")
    assert res.returncode == 1
    assert res.stderr.startswith("error: ") and "different spec" in res.stderr and "Traceback" not in res.stderr


def test_bad_spec_gives_one_line_per_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("base: {topology: {builtin: nsfnet}}\nsamples: -1\nbogus: 2\n")
    res = run_cli("dataset", "generate", str(path), "--out", str(tmp_path / "o"))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines)
    assert any("base.flows: Field required" in line for line in lines)
    assert any("samples: Input should be greater than 0, got -1" in line for line in lines)
    assert any("bogus: unknown key" in line for line in lines)
    assert not (tmp_path / "o").exists()


def test_info_on_a_missing_directory(tmp_path):
    res = run_cli("dataset", "info", str(tmp_path / "nothing"))
    assert res.returncode == 1 and res.stderr.startswith("error: ") and "no such dataset directory" in res.stderr


@pytest.mark.parametrize("name", ["nsfnet-glance", "nsfnet-random-flows", "grid-4x4", "geant2-tm"])
def test_example_specs_draw_valid_samples(name):
    spec = load_dataset_spec(EXAMPLES / f"{name}.yaml")
    for i in (0, 1, spec.samples - 1):
        network = build_network(draw_scenario(spec, i))
        assert network.n_flows > 0 and network.simulation.engine == "builtin"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nsfnet-glance", "nsfnet-random-flows", "grid-4x4", "geant2-tm"])
def test_example_specs_run(name, tmp_path):
    spec = load_dataset_spec(EXAMPLES / f"{name}.yaml").replace(samples=3)
    summary = generate_dataset(spec, tmp_path / name, workers=2)
    assert summary["ok"] == 3 and summary["failed"] == 0


def test_engine_override(spec_file, tmp_path):
    out = tmp_path / "qt"
    res = run_cli("dataset", "generate", str(spec_file), "--out", str(out), "--engine", "analytic", "--samples", "2")
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "analytic"
    assert {s.n_runs for s in Dataset(out).samples()} <= {1, 2}
    res = run_cli("dataset", "generate", str(spec_file), "--out", str(tmp_path / "bad"), "--engine", "warp")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "unknown engine 'warp'" in res.stderr
