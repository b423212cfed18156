"""Fixtures of the TE tests: tiny hand-made instances (built in te_helpers)."""

from __future__ import annotations

import pytest
from te_helpers import GML, NETWORK, SCENARIO, SNDLIB, random_instance, triangle

from nettwin.te import TEInstance


@pytest.fixture
def tri() -> TEInstance:
    return triangle()


@pytest.fixture
def rand_instances() -> list[TEInstance]:
    return [random_instance(s) for s in range(6)]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Torch's intra-op threads spin badly on a busy 2-core machine; the tiny test graphs need only one."""
    from nettwin._estimator import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture
def net(tmp_path):
    """A directory with the two-routes network as a scenario and as GML, and a→b traffic as CSV and SNDlib; and the
    two-routes network with its flow, to simulate (network.yaml)."""
    (tmp_path / "net.yaml").write_text(SCENARIO)
    (tmp_path / "net.gml").write_text(GML)
    (tmp_path / "network.yaml").write_text(NETWORK)
    (tmp_path / "tm.csv").write_text(",a,b,c\na,0,20Gbps,0\nb,0,0,0\nc,0,0,0\n")
    (tmp_path / "tm.txt").write_text(SNDLIB)
    return tmp_path
