from __future__ import annotations

import numpy as np
import pytest
from te_helpers import random_instance, triangle

from nettwin.te import (
    ECMPSolver,
    GeminetSolver,
    LPSolver,
    RescaleSolver,
    ShortestPathSolver,
    TEError,
    dynamic_sequence,
    fail_links,
    random_failures,
    scale_capacity,
)
from nettwin.te.instance import pair_sums


def test_failure_zeroes_both_directions_and_prunes_paths():
    inst = triangle()
    failed = fail_links(inst, [2])  # the direct a–c link
    assert failed.graph.capacity[failed.graph.physical == 2].tolist() == [0.0, 0.0]
    assert failed.n_paths == 1 and failed.origin.tolist() == [1]
    assert solve_mlu(failed) == pytest.approx(3.4)


def solve_mlu(inst):
    return inst.mlu(LPSolver().solve(inst))


@pytest.mark.parametrize("repath", ["prune", "recompute"])
def test_no_flow_crosses_a_failed_link(repath):
    rng = np.random.default_rng(1)
    solvers = [
        LPSolver(),
        ECMPSolver(),
        ShortestPathSolver(),
        RescaleSolver(LPSolver()),
        GeminetSolver(train_steps=2, steps=2),
    ]
    for seed in range(4):
        inst = random_failures(random_instance(seed), 2, rng, repath=repath)
        dead = inst.graph.capacity == 0
        assert dead.sum() == 4
        for s in solvers:
            if s.needs_fit:
                s.fit([inst])
            x = s.solve(inst)
            assert pair_sums(inst.paths, x) == pytest.approx(np.ones(inst.n_pairs), abs=1e-5)
            assert np.all(inst.loads(x)[dead] == 0), type(s).__name__
            assert np.isfinite(inst.mlu(x))


def test_rescale_keeps_the_surviving_split():
    inst = random_instance(3)
    failed = random_failures(inst, 1, 0)
    before = ECMPSolver().solve(inst)
    after = RescaleSolver(ECMPSolver()).solve(failed)
    kept = failed.origin >= 0
    for p in range(failed.n_pairs):
        sel = np.nonzero((failed.paths.path_pair == p) & kept)[0]
        if len(sel) > 1:
            ratio = before[failed.origin[sel]] / before[failed.origin[sel]].sum()
            assert after[sel] == pytest.approx(ratio)


def test_capacity_change_and_bad_inputs():
    inst = triangle()
    assert solve_mlu(scale_capacity(inst, [0, 1, 2], 2.0)) == pytest.approx(0.85)
    with pytest.raises(TEError, match="capacity factor must be > 0"):
        scale_capacity(inst, [0], 0.0)
    with pytest.raises(TEError, match="no physical link 9"):
        fail_links(inst, [9])
    with pytest.raises(TEError, match="repath must be one of"):
        fail_links(inst, [0], repath="ignore")


def test_dynamic_sequence_changes_the_topology():
    seq = dynamic_sequence("sndlib/abilene", steps=12, seed=3)
    assert len({s.meta["links"] for s in seq}) > 1 or len({s.meta["nodes"] for s in seq}) > 1
    for s in seq:
        assert s.n_pairs > 0
        assert np.isfinite(s.mlu(ECMPSolver().solve(s)))
