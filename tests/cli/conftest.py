"""Shared helpers for the command-line tests: the entry point run in-process, a tiny scenario file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from nettwin.cli.app import main


class Outcome(NamedTuple):
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Run ``nettwin ARGS`` through :func:`main` in this process (so a test can patch the library under it)."""

    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["nettwin", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        out, err = capsys.readouterr()
        return Outcome(exit_info.value.code or 0, out, err)

    return run


def tiny_scenario_data() -> dict:
    """Two nodes, one CBR flow, one simulated second: a scenario that runs in a blink."""
    return {
        "name": "tiny",
        "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
        "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}}],
        "simulation": {"duration": "1s"},
    }


@pytest.fixture
def tiny_scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_scenario_data()))
    return path
