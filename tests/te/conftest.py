"""Fixtures of the TE tests: tiny hand-made instances (built in te_helpers)."""

from __future__ import annotations

import pytest
from te_helpers import random_instance, triangle

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
    from nettwin.twin.estimator import torch_threads

    with torch_threads(1):
        yield
