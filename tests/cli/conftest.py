"""Shared helpers for the command-line tests: the entry point run in-process, a tiny scenario file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


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
