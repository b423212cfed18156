"""Sizes a TE run cannot fit are refused up front, naming the limit, from Python as from the command line."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.te import TEError
from nettwin.te.paths import MAX_K, check_k
from nettwin.te.suite import make_instances
from nettwin.te.traffic import check_steps, temporal


def test_k_beyond_the_limit_is_refused_before_any_topology_is_read():
    with pytest.raises(TEError) as info:
        make_instances("no/such-topology", steps=1, k=100_000)
    assert str(info.value) == (
        f"k (paths per pair) must be at most {MAX_K}, got 100000: more paths per pair take too long to find"
    )
    assert check_k(MAX_K) == MAX_K


def test_a_sequence_that_cannot_fit_in_memory_is_refused():
    with pytest.raises(TEError) as info:
        temporal(np.ones((22, 22)), steps=1_000_000_000)
    assert str(info.value) == (
        "steps: 1000000000 time steps of 22×22 demand matrices need 3,606.1 GiB, more than the 1 GiB nettwin builds; "
        "use at most 277,309 steps on this topology"
    )
    assert check_steps(277_309, 22) == 277_309


@pytest.mark.parametrize("steps", [0, True, 2.5])
def test_steps_must_be_a_whole_number(steps):
    with pytest.raises(TEError, match=r"^steps must be a whole number ≥ 1, got "):
        check_steps(steps, 4)
