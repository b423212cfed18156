"""Every registered TE solver passes the conformance battery (nettwin.testing.check_solver), and the battery
catches a solver that breaks a rule."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.te import ECMPSolver, TESolver, make_solver, solver_names
from nettwin.testing import check_solver

SMALL = {
    "geminet": {"hidden": 4, "steps": 1, "train_steps": 1, "device": "cpu"},
    "dote": {"hidden": 4, "train_steps": 1, "device": "cpu"},
}
"""Settings that keep a learned solver's battery to a second or two: one training step of a tiny network."""


@pytest.mark.parametrize("name", solver_names())
def test_every_registered_solver_passes_the_battery(name):
    check_solver(lambda: make_solver(name, **SMALL.get(name, {})))


class StoresMore(ECMPSolver):
    def __init__(self, width: int = 2) -> None:
        self.width = width
        self.cache = {}


class Unnormalised(ECMPSolver):
    def solve(self, instance):
        return 2 * super().solve(instance)


class Random(ECMPSolver):
    def solve(self, instance):
        x = np.random.default_rng().random(instance.n_paths) + 1e-3
        sums = np.bincount(instance.paths.path_pair, weights=x)
        return x / sums[instance.paths.path_pair]


class LearnsWithoutUnderscore(TESolver):
    name = "forgetful"

    def fit(self, instances):
        self.weights = [1.0]
        return self

    def solve(self, instance):
        return ECMPSolver().solve(instance)


class SolvesUnfitted(LearnsWithoutUnderscore):
    needs_fit = True


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (StoresMore, r"StoresMore 'ecmp': __init__ only stores its arguments: it also sets cache$"),
        (Unnormalised, r"Unnormalised 'ecmp': ratios are valid \(instance 'testing0-0'\): pair 0's ratios sum to 2"),
        (Random, r"Random 'ecmp': the same settings on the same instances give the same ratios: "),
        (LearnsWithoutUnderscore, r"LearnsWithoutUnderscore 'forgetful': learned state ends in _: fit set weights$"),
        (SolvesUnfitted, r"SolvesUnfitted 'forgetful': solve before fit raises NotFittedError naming the solver: no "),
    ],
)
def test_the_battery_names_the_solver_and_the_rule_it_breaks(make, message):
    with pytest.raises(AssertionError, match=message):
        check_solver(make)
