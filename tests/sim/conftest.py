"""Tiny hand-made networks for engine tests, built through the scenario format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nettwin.scenario import Scenario, build_network
from nettwin.scenario.network import Network


def make_network(
    nodes: list[str],
    links: list[dict[str, Any]],
    flows: list[dict[str, Any]],
    *,
    duration: float | str = 10.0,
    warmup: float | str = 0.0,
    seed: int = 1,
    defaults: dict[str, Any] | None = None,
) -> Network:
    """A resolved network from an explicit topology (links bidirectional unless they say otherwise)."""
    topology: dict[str, Any] = {"nodes": nodes, "links": links}
    if defaults:
        topology["defaults"] = defaults
    scenario = Scenario.model_validate(
        {
            "topology": topology,
            "flows": flows,
            "simulation": {"duration": duration, "warmup": warmup, "seed": seed},
        }
    )
    return build_network(scenario)


def single_link(
    traffic: dict[str, Any],
    *,
    capacity: float | str = "1Mbps",
    delay: float | str = 0.0,
    buffer: int | None = 10**6,
    queue: int | None = None,
    duration: float | str = 10.0,
    warmup: float | str = 0.0,
    seed: int = 1,
) -> Network:
    """One flow over one link a→b: a single queue (its size as ``buffer``, or as ``queue`` if given)."""
    size = {"buffer": buffer} if queue is None else {"queue": queue}
    return make_network(
        ["a", "b"],
        [{"src": "a", "dst": "b", "capacity": capacity, "delay": delay, **size, "bidirectional": False}],
        [{"src": "a", "dst": "b", "traffic": traffic}],
        duration=duration,
        warmup=warmup,
        seed=seed,
    )


@pytest.fixture
def scenario_factory() -> Callable[..., Network]:
    """``scenario_factory(nodes, links, flows, duration=, warmup=, seed=, defaults=)`` → Network."""
    return make_network


@pytest.fixture
def single_link_factory() -> Callable[..., Network]:
    """``single_link_factory(traffic, capacity=..., delay=..., buffer=..., duration=..., ...)`` → Network."""
    return single_link
