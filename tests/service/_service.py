"""Helpers of the service tests: tiny scenarios, keys, and servers started and stopped on one data directory."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

from nettwin.service import Settings, create_app
from nettwin.service.auth import create_key
from nettwin.service.db import Database

with warnings.catch_warnings():
    # Starlette's test client announces a move to another HTTP package; the client itself works as documented.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

TINY: dict[str, Any] = {
    "name": "tiny",
    "topology": {"nodes": ["a", "b", "c"], "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]},
    "flows": [
        {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "2Mbps"}},
        {"src": "b", "dst": "c", "traffic": {"model": "cbr", "rate": "1Mbps"}},
    ],
    "simulation": {"duration": "2s", "seed": 7},
}
"""A scenario that simulates in a fraction of a second."""

ENDLESS: dict[str, Any] = {
    "name": "endless",
    "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Gbps"}]},
    "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "500Mbps"}}],
    "simulation": {"duration": "1000000s"},
}
"""A scenario that simulates for far longer than any test waits: a job on it runs until it is stopped."""


def tiny(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`TINY` with top-level keys replaced."""
    return {**copy.deepcopy(TINY), **changes}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def add_key(data_dir: Path, tenant: str, role: str) -> str:
    """A new key, made as ``nettwin serve create-key`` makes it."""
    db = Database(Settings(data_dir))
    try:
        with db.session() as session:
            return create_key(session, tenant, role)[1]
    finally:
        db.close()


class Servers:
    """Starts the service on one data directory, as often as a test needs (a restart is a stop and a start), and
    stops whatever is still running at the end."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.running: list[TestClient] = []

    def start(self, workers: int = 1, **settings: Any) -> TestClient:
        client = TestClient(create_app(Settings(self.data_dir, workers=workers, **settings)))
        client.__enter__()
        self.running.append(client)
        return client

    def stop(self, client: TestClient) -> None:
        self.running.remove(client)
        client.__exit__(None, None, None)
