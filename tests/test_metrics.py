"""The error figures defined once in nettwin.metrics: R² and Spearman's correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nettwin.metrics import r2, spearman


def test_r2_is_one_for_a_perfect_match_and_zero_for_the_mean():
    ref = np.array([1.0, 2.0, 4.0, 8.0])
    assert r2(ref, ref) == 1.0
    assert r2(np.full(4, ref.mean()), ref) == pytest.approx(0.0)
    assert r2(ref[::-1], ref) < 0


def test_r2_skips_missing_values_and_is_nan_when_undefined():
    assert r2(np.array([1.0, np.nan, 3.0]), np.array([1.0, 5.0, 3.0])) == 1.0
    assert math.isnan(r2(np.array([1.0, 2.0]), np.array([3.0, 3.0])))
    assert math.isnan(r2(np.array([1.0]), np.array([1.0])))


def test_spearman_ranks_ties_and_skips_missing_values():
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([1.0, 10.0, 100.0])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    assert spearman(np.array([1.0, 2.0, np.nan, 3.0]), np.array([5.0, 6.0, 0.0, 7.0])) == pytest.approx(1.0)
    # ties take their mean rank: ranks (1, 2.5, 2.5) against (1, 2, 3)
    assert spearman(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0])) == pytest.approx(np.sqrt(3) / 2)
    assert math.isnan(spearman(np.array([1.0, 1.0]), np.array([1.0, 2.0])))
