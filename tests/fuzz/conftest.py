"""Fixtures of the fuzz suite: real tiny inputs to start from (a dataset, a twin and a TE checkpoint), the case
budget, and the end-of-session counts.

The hypothesis profiles ("ci", the default, and "long") are registered in ``tests/conftest.py``. Each test asks
for a multiple of the profile's ``max_examples`` (:func:`examples`), so ``--hypothesis-profile=long`` scales the
whole suite at once.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fuzz_support import TALLY, check, run_cli
from hypothesis import settings

TINY_SPEC: dict[str, Any] = {
    "name": "fuzz-tiny",
    "base": {
        "topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps", "delay": "2ms", "buffer": 16}},
        "flows": [
            {"src": 0, "dst": 12, "traffic": {"model": "onoff", "rate": "50kbps", "tau_on": 1, "tau_off": 1}},
            {"src": 3, "dst": 9, "traffic": {"model": "poisson", "rate": "40kbps", "packet_size": 500}},
            {"src": 7, "dst": 2, "traffic": {"model": "cbr", "rate": "20kbps", "packet_size": 210}},
        ],
        "simulation": {"duration": "2s"},
    },
    "samples": 10,
    "seed": 1,
    "simbase_runs": 1,
    "splits": {"train": 0.6, "val": 0.2, "test": 0.2},
    "capacity_scale": {"uniform": [0.5, 1.5]},
}
"""Ten NSFNET samples with three short flows: enough to train a twin for one epoch and to evaluate it."""

TINY_SCENARIO = """\
name: fuzz-chain
topology:
  nodes: [a, b, c]
  links: [{src: a, dst: b}, {src: b, dst: c}]
flows:
  - {src: a, dst: c, traffic: {model: poisson, rate: 50kbps}}
  - {src: b, dst: c, traffic: {model: cbr, rate: 20kbps, packet_size: 500B}}
simulation: {duration: 1s}
"""


def examples(units: float) -> int:
    """``units`` × the active profile's ``max_examples`` (100 in "ci", 1000 in "long")."""
    return max(1, round(units * settings().max_examples))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one torch thread, and the suite must not fight other tests for two cores."""
    from nettwin._estimator import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def tiny_scenario(fuzz_dir) -> Path:
    path = fuzz_dir / "tiny.yaml"
    path.write_text(TINY_SCENARIO)
    return path


@pytest.fixture(scope="session")
def tiny_dataset(fuzz_dir) -> Path:
    """A real dataset directory (built-in engine), generated once per session."""
    from nettwin.data import generate_dataset

    out = fuzz_dir / "dataset"
    generate_dataset(TINY_SPEC, out, workers=1)
    return out


@pytest.fixture(scope="session")
def twin_checkpoint(fuzz_dir, tiny_dataset) -> Path:
    """A GLANCE twin trained for one epoch on the tiny dataset."""
    from nettwin.data import Dataset
    from nettwin.twin import Twin

    path = fuzz_dir / "glance.pt"
    Twin("glance", epochs=1, batch_size=4, seed=0).fit(Dataset(tiny_dataset)).save(path)
    return path


@pytest.fixture(scope="session")
def te_checkpoint(fuzz_dir) -> Path:
    """A GEMINET solver trained for one step on NSFNET, written by ``nettwin te train``."""
    path = fuzz_dir / "geminet.pt"
    args = ["te", "train", "-t", "nsfnet", "--k", "2", "--steps", "4", "--train-steps", "1", "--out", str(path)]
    check(run_cli(args))
    return path


@pytest.fixture
def case_dir(fuzz_dir) -> Any:
    """A factory of fresh, empty directories, one per generated case: making one removes the previous case's."""
    made: list[Path] = []

    def new() -> Path:
        while made:
            shutil.rmtree(made.pop(), ignore_errors=True)
        path = fuzz_dir / f"case-{id(made)}"
        path.mkdir()
        made.append(path)
        return path

    yield new
    while made:
        shutil.rmtree(made.pop(), ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The counts of the session's fuzz cases, and the shortest reproduction of each distinct failure."""
    if TALLY.cases == 0:
        return
    terminalreporter.write_sep("=", "fuzz")
    terminalreporter.write_line(TALLY.summary())
    for signature, reproduction in sorted(TALLY.failures.items()):
        terminalreporter.write_line(f"\n--- {signature}\n{reproduction}")
