"""Fixtures of the ns-3 engine tests: one shared two-worker engine, and scenarios from examples/ns3."""

from __future__ import annotations

from pathlib import Path

import pytest

from nettwin.sim import as_network
from nettwin.sim.ns3 import Ns3Engine, ns3_available

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ns3"


def pytest_collection_modifyitems(config, items):
    if ns3_available():
        return
    skip = pytest.mark.skip(reason="needs the ns3 extra: pip install 'nettwin[ns3]'")
    for item in items:
        if "ns3" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ns3_engine() -> Ns3Engine:
    """A two-worker engine shared by the whole session (workers import ns-3 once)."""
    engine = Ns3Engine(workers=2)
    yield engine
    engine.close()


@pytest.fixture
def example():
    """``example(name)`` → the resolved network of ``examples/ns3/<name>.yaml``."""
    return lambda name: as_network(EXAMPLES / f"{name}.yaml")
