"""Tiny hand-made networks and targets for twin tests."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nettwin.scenario import build_network, parse_scenario
from nettwin.scenario.network import Network
from nettwin.testing.twins import synthetic_targets

KPIS = ["delay", "jitter", "throughput", "drops"]


def chain_data(flows: list[dict[str, Any]] | None = None, capacity: str = "1Mbps") -> dict[str, Any]:
    """The scenario of :func:`chain_network`, as a scenario file holds it."""
    flows = flows or [
        {"src": "a", "dst": "d", "traffic": {"model": "cbr", "rate": "100kbps"}},
        {"src": "b", "dst": "c", "traffic": {"model": "onoff", "rate": "200kbps", "tau_on": 1, "tau_off": 2}},
        {"src": "d", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps", "packet_size": 500}},
    ]
    return {
        "name": "chain",
        "topology": {
            "nodes": ["a", "b", "c", "d"],
            "defaults": {"capacity": capacity},
            "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}],
        },
        "flows": flows,
    }


def chain_network(flows: list[dict[str, Any]] | None = None, capacity: str = "1Mbps") -> Network:
    """a→b→c→d (bidirectional) with three flows of different models and lengths 3, 1 and 2."""
    return build_network(parse_scenario(chain_data(flows, capacity)))


def square_network() -> Network:
    """A 5-node ring a-b-c-d-e-a with a chord a-c and four flows."""
    return build_network(
        parse_scenario(
            {
                "name": "ring",
                "topology": {
                    "nodes": ["a", "b", "c", "d", "e"],
                    "links": [
                        {"src": "a", "dst": "b"},
                        {"src": "b", "dst": "c"},
                        {"src": "c", "dst": "d"},
                        {"src": "d", "dst": "e"},
                        {"src": "e", "dst": "a"},
                        {"src": "a", "dst": "c"},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "d", "traffic": {"model": "poisson", "rate": "400kbps"}},
                    {"src": "b", "dst": "e", "traffic": {"model": "cbr", "rate": "250kbps"}},
                    {
                        "src": "e",
                        "dst": "c",
                        "traffic": {"model": "onoff", "rate": "500kbps", "tau_on": 1, "tau_off": 1},
                    },
                    {"src": "d", "dst": "a", "traffic": {"model": "poisson", "rate": "100kbps"}},
                ],
            }
        )
    )


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny graphs run fastest on one torch thread (and tests must not fight over shared cores)."""
    from nettwin._estimator import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="session")
def builders() -> SimpleNamespace:
    """The network builders of this module, for module- and session-scoped fixtures."""
    return SimpleNamespace(chain=chain_network, chain_data=chain_data, ring=square_network, targets=synthetic_targets)


@pytest.fixture
def kpis() -> list[str]:
    return list(KPIS)


@pytest.fixture
def chain_factory():
    return chain_network


@pytest.fixture
def chain() -> Network:
    return chain_network()


@pytest.fixture
def ring() -> Network:
    return square_network()


@pytest.fixture
def pairs() -> list[tuple[Network, dict[str, np.ndarray]]]:
    """Six (network, targets) training pairs with varied rates and capacities."""
    out = []
    for i in range(6):
        net = chain_network(capacity=f"{1 + i}Mbps") if i % 2 else square_network()
        out.append((net, synthetic_targets(net)))
    return out


TINY_SPEC: dict[str, Any] = {
    "name": "tiny-twin",
    "base": {
        "name": "tiny-twin",
        "topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps", "delay": "2ms", "buffer": 16}},
        "flows": [
            {
                "src": 0,
                "dst": 12,
                "traffic": {"model": "onoff", "rate": "50kbps", "packet_size": 210, "tau_on": 1, "tau_off": 1},
            },
            {"src": 3, "dst": 9, "traffic": {"model": "poisson", "rate": "40kbps", "packet_size": 500}},
            {"src": 7, "dst": 2, "traffic": {"model": "cbr", "rate": "20kbps", "packet_size": 210}},
            {
                "src": 5,
                "dst": 11,
                "traffic": {"model": "onoff", "rate": "50kbps", "packet_size": 210, "tau_on": 1, "tau_off": 1},
            },
        ],
        "simulation": {"engine": "builtin", "duration": "5s"},
    },
    "samples": 30,
    "seed": 3,
    "simbase_runs": 3,
    "splits": {"train": 0.6, "val": 0.2, "test": 0.2},
    "traffic": {"tau_on": {"choice": [1, 2]}, "tau_off": {"choice": [1, 2]}},
    "capacity_scale": {"uniform": [0.5, 1.5]},
}
"""30 NSFNET samples with four short flows (18/6/6 split, SimBase runs on test): generated in a few seconds."""


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """A real dataset directory generated with the built-in engine."""
    from nettwin.data import Dataset, generate_dataset

    out = tmp_path_factory.mktemp("data") / "tiny"
    generate_dataset(TINY_SPEC, out, workers=1)
    return Dataset(out)


@pytest.fixture(scope="session")
def unseen_dataset(tmp_path_factory):
    """Six samples of the tiny scenario, all in the test split: a dataset with no training split of its own."""
    from nettwin.data import Dataset, generate_dataset

    out = tmp_path_factory.mktemp("data") / "unseen"
    spec = {**TINY_SPEC, "name": "tiny-unseen", "samples": 6, "splits": {"train": 0.0, "val": 0.0, "test": 1.0}}
    generate_dataset(spec, out, workers=1)
    return Dataset(out)
