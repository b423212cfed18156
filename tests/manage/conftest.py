"""Shared fixtures of the management tests: the queueing-theory twin, which needs no training."""

from __future__ import annotations

import pytest

from nettwin.twin.factory import make_twin


@pytest.fixture(scope="session")
def qt():
    return make_twin("qt").fit([])
