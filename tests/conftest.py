"""Shared fixtures: tiny hand-made scenarios."""

from __future__ import annotations

from typing import Any

import pytest

from nettwin.scenario import Scenario, parse_scenario


def tandem(
    capacities=("1Mbps", "1Mbps", "1Mbps"),
    delays=("1ms", "2ms", "3ms"),
    buffer: int = 32,
    flows: list[dict[str, Any]] | None = None,
    **simulation: Any,
) -> Scenario:
    """A chain a→b→c→d (bidirectional links) with one CBR flow a→d unless ``flows`` is given."""
    names = ["a", "b", "c", "d"][: len(capacities) + 1]
    links = [
        {"src": names[i], "dst": names[i + 1], "capacity": c, "delay": d, "buffer": buffer}
        for i, (c, d) in enumerate(zip(capacities, delays, strict=True))
    ]
    flows = flows or [{"src": names[0], "dst": names[-1], "traffic": {"model": "cbr", "rate": "100kbps"}}]
    return parse_scenario(
        {
            "name": "tandem",
            "topology": {"nodes": names, "links": links},
            "flows": flows,
            "simulation": {"duration": "10s", **simulation},
        }
    )


@pytest.fixture
def tandem_factory():
    return tandem


@pytest.fixture
def square() -> dict[str, Any]:
    """A 4-node square a-b-c-d-a with a diagonal a-c of weight 3, as a raw mapping to edit in tests."""
    return {
        "name": "square",
        "topology": {
            "nodes": ["a", "b", "c", "d"],
            "links": [
                {"src": "a", "dst": "b"},
                {"src": "b", "dst": "c"},
                {"src": "c", "dst": "d"},
                {"src": "d", "dst": "a"},
                {"src": "a", "dst": "c", "weight": 3},
            ],
        },
        "flows": [{"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "100kbps"}}],
    }
