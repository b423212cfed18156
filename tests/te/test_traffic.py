from __future__ import annotations

import numpy as np
import pytest

from nettwin.te import TEError, make_instances
from nettwin.te.datasets import ecmp_mlu
from nettwin.te.traffic import bimodal, gravity, sndlib_demands, split_by_time, temporal


def test_generators_give_square_non_negative_matrices_with_zero_diagonal():
    for d in (gravity(6, seed=1), bimodal(6, seed=1), sndlib_demands("sndlib/geant")):
        assert d.shape[0] == d.shape[1] and (d >= 0).all() and np.trace(d) == 0


def test_temporal_sequence_is_reproducible_and_follows_the_day():
    base = gravity(5, seed=0)
    a = temporal(base, 96, seed=3, noise=0.0, burst_rate=0.0)
    assert np.array_equal(a, temporal(base, 96, seed=3, noise=0.0, burst_rate=0.0))
    totals = a.sum(axis=(1, 2))
    assert totals.max() / totals.min() > 2  # amplitude 0.5: peak 1.5 vs trough 0.5


def test_split_is_by_time_and_instances_are_scaled():
    seq = make_instances("sndlib/abilene", steps=8)
    train, test = split_by_time(seq)
    assert [i.meta["step"] for i in test] == [6, 7] and len(train) == 6
    # the base matrix is scaled so that equal splitting reaches MLU 0.8; the sequence varies around it
    mlus = [ecmp_mlu(i.graph, i.paths, i.demand) for i in seq]
    assert 0.2 < np.median(mlus) < 2.0


def test_errors():
    with pytest.raises(TEError, match="ships no demand matrix"):
        sndlib_demands("topozoo/Abilene")
    with pytest.raises(TEError, match="train_fraction"):
        split_by_time([1, 2], 1.5)
    with pytest.raises(TEError, match="traffic must be one of"):
        make_instances("sndlib/abilene", steps=2, traffic="uniform")
