"""Fixtures of the service tests: a fresh data directory, keys of two tenants, a running service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _service import Servers, TestClient, add_key
from argon2 import PasswordHasher

import nettwin.service.auth


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with its smallest cost: still the real hashing and checking, without its deliberate slowness, which
    would dominate these tests (the command-line tests, in their own processes, keep the real cost)."""
    monkeypatch.setattr(nettwin.service.auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "service"


@pytest.fixture
def servers(data_dir: Path) -> Iterator[Servers]:
    servers = Servers(data_dir)
    yield servers
    for client in reversed(servers.running):
        servers.stop(client)


@pytest.fixture
def keys(data_dir: Path) -> dict[str, str]:
    """Keys of tenant ``acme`` (admin, member, viewer) and of tenant ``rival`` (admin, member)."""
    roles = [("acme", "admin"), ("acme", "member"), ("acme", "viewer"), ("rival", "admin"), ("rival", "member")]
    return {f"{tenant}-{role}": add_key(data_dir, tenant, role) for tenant, role in roles}


@pytest.fixture
def client(servers: Servers, keys: dict[str, str]) -> TestClient:
    return servers.start()
