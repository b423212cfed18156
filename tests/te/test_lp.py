from __future__ import annotations

import numpy as np
import pytest
from te_helpers import triangle

from nettwin.te import ECMPSolver, LPSolver, ShortestPathSolver, TEGraph, TEInstance, compute_paths, solve_lp
from nettwin.te.instance import pair_sums


def test_triangle_optimum_is_half_the_demand_over_capacity():
    res = solve_lp(triangle(demand=8.0))
    assert res.mlu == pytest.approx(0.4)
    assert res.ratios == pytest.approx([0.5, 0.5])


def test_optimum_above_one_is_returned_not_infeasible():
    res = solve_lp(triangle(demand=34.0))  # 17 per path on 10-capacity links
    assert res.status == "Optimal" and res.mlu == pytest.approx(1.7)


def test_unequal_capacities_split_in_proportion():
    # two disjoint a→b routes: direct (capacity 10) and via c (bottleneck 30): optimum 40 demand → MLU 1
    g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("a", "c", 30.0), ("c", "b", 60.0)])
    inst = TEInstance(g, compute_paths(g, np.array([[0, 1]])), np.array([40.0]))
    res = solve_lp(inst)
    assert res.mlu == pytest.approx(1.0)
    assert res.ratios == pytest.approx([0.25, 0.75])


def test_lp_is_no_worse_than_any_baseline_and_ratios_are_valid(rand_instances):
    for inst in rand_instances:
        x = LPSolver().solve(inst)
        assert np.all(x >= 0) and pair_sums(inst.paths, x) == pytest.approx(np.ones(inst.n_pairs))
        best = inst.mlu(x)
        for base in (ECMPSolver(), ShortestPathSolver()):
            assert best <= inst.mlu(base.solve(inst)) + 1e-9


def test_lp_is_scale_invariant(rand_instances):
    inst = rand_instances[0]
    scaled = TEInstance(inst.graph.with_capacity(inst.graph.capacity * 1e9), inst.paths, inst.demand * 1e9)
    assert solve_lp(scaled).mlu == pytest.approx(solve_lp(inst).mlu, rel=1e-6)


def test_solves_with_different_thread_counts_in_one_process():
    # HiGHS keeps one scheduler per process: a later solve asking for another thread count must still solve.
    inst = triangle(demand=8.0)
    for threads in (None, 2, 1, None):
        assert solve_lp(inst, threads=threads).mlu == pytest.approx(0.4)
