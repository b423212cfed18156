"""The application itself: --version, shell completion, what start-up imports, and Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import nettwin

# Libraries that only some commands need: a command that does not use one must not pay for importing it.
HEAVY = ("numpy", "numba", "torch", "pyarrow", "scipy", "networkx", "pandas", "matplotlib", "yaml", "ray")
LIBRARY = ("nettwin.sim", "nettwin.data", "nettwin.scenario", "nettwin.twin", "nettwin.te", "nettwin.sim.analytic")

# Runs the entry point on argv[2:] and writes the names of the modules it imported to the file argv[1].
PROBE = """
import json, sys
report = sys.argv[1]
sys.argv = ["nettwin", *sys.argv[2:]]
from nettwin.cli.app import main
try:
    main()
except SystemExit:
    pass
with open(report, "w") as fh:
    json.dump(sorted(sys.modules), fh)
"""


def imported_by(tmp_path: Path, *args: str) -> set[str]:
    report = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", PROBE, str(report), *args], capture_output=True, timeout=300, check=True)
    return set(json.loads(report.read_text()))


def top_level(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


def nettwin_cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nettwin", *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_version(run_main):
    res = run_main("--version")
    assert res.code == 0 and res.stdout == f"nettwin {nettwin.__version__}\n"


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("simulate",),
        ("simulate", "x.yaml", "--runs", "0"),
        ("frobnicate",),
        ("dataset", "generate", "--help"),
        ("te", "solve", "--help"),
        ("train", "--help"),
    ],
)
def test_help_and_usage_errors_import_no_library(tmp_path, args):
    modules = imported_by(tmp_path, *args)
    assert "nettwin.cli.app" in modules
    assert top_level(modules, HEAVY + LIBRARY) == set()


def test_simulate_imports_what_it_uses_only(tmp_path, tiny_scenario):
    modules = imported_by(tmp_path, "simulate", str(tiny_scenario))
    assert "nettwin.sim.builtin" in modules
    assert top_level(modules, ("torch", "pyarrow", "matplotlib", "ray", "nettwin.data", "nettwin.twin")) == set()


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@needs_bash
def test_show_completion_prints_a_bash_script():
    # Run from bash (not exec'd by it: '; true'), so the shell is detected as a user's would be.
    res = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m nettwin --show-completion; true"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "complete" in res.stdout and "_NETTWIN_COMPLETE=complete_bash" in res.stdout, res.stderr


@needs_bash
def test_install_completion_writes_the_script_and_sources_it(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path)}
    res = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m nettwin --install-completion; true"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    script = tmp_path / ".bash_completions" / "nettwin.sh"
    assert script.is_file(), res.stdout + res.stderr
    assert str(script) in (tmp_path / ".bashrc").read_text()


@pytest.mark.parametrize(
    ("words", "expected"),
    [("nettwin da", {"dataset"}), ("nettwin dataset ge", {"generate"}), ("nettwin te solve --sol", {"--solver"})],
)
def test_completion_answers_the_shell(words, expected):
    cword = str(len(words.split()) - 1)
    env = {**os.environ, "_NETTWIN_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
    res = nettwin_cli(env=env)
    assert res.returncode == 0 and set(res.stdout.split()) == expected, res.stderr


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    """Poll ``condition`` while ``proc`` runs; the generous limit only guards against a hang."""
    deadline = time.monotonic() + 600
    while not condition():
        assert proc.poll() is None, f"the command ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after 10 minutes"
        time.sleep(0.02)


def interrupt_when(condition, proc: subprocess.Popen, what: str) -> tuple[int, str]:
    """Once ``condition`` holds, Ctrl-C as a terminal sends it (SIGINT to the command's whole process group):
    the exit status and standard error. The process group never outlives the test."""
    try:
        wait_for(condition, proc, what)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_ctrl_c_during_dataset_generation_says_how_to_resume(tmp_path):
    base = {
        "topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps"}},
        "flows": [{"src": 0, "dst": 12, "traffic": {"model": "poisson", "rate": "40kbps", "packet_size": 500}}],
        # Long enough that the run is still going when the first shard appears.
        "simulation": {"duration": "20000s"},
    }
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"base": base, "samples": 1000, "seed": 1, "shard_size": 1}))
    out = tmp_path / "ds"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nettwin", "dataset", "generate", str(spec), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    code, err = interrupt_when(lambda: any(out.glob("shards/*.parquet")), proc, "a shard")
    assert code == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "error: interrupted; rerun the same command to resume"


def test_ctrl_c_during_a_command_says_interrupted(tmp_path, tiny_scenario):
    """A real SIGINT once the command is provably inside its work (it wrote a marker file and waits)."""
    marker = tmp_path / "running"
    stuck = (
        "import pathlib, sys, threading\n"
        "import nettwin.sim\n"
        "marker = pathlib.Path(sys.argv.pop())\n"
        "def simulate(*args, **kwargs):\n"
        "    marker.write_text('running')\n"
        "    threading.Event().wait()\n"
        "nettwin.sim.simulate = simulate\n"
        "from nettwin.cli.app import main\n"
        "main()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", stuck, "simulate", str(tiny_scenario), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    code, err = interrupt_when(marker.exists, proc, "the marker file")
    assert code == 130
    assert err.strip().splitlines() == ["error: interrupted"]
