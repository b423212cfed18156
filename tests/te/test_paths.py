from __future__ import annotations

import numpy as np
import pytest

from nettwin.te import TEError, TEGraph, compute_paths, te_graph
from nettwin.te.paths import PathSet


def square() -> TEGraph:
    return TEGraph.from_links(
        ["a", "b", "c", "d"], [("a", "b", 1.0), ("b", "c", 1.0), ("c", "d", 1.0), ("d", "a", 1.0), ("a", "c", 1.0)]
    )


def test_yen_lists_paths_shortest_first_and_loop_free():
    g = square()
    ps = compute_paths(g, np.array([[0, 2]]), k=4)
    lengths = ps.path_lengths.tolist()
    assert lengths == sorted(lengths) and lengths[0] == 1 and ps.n_paths == 3
    for q in range(ps.n_paths):
        nodes = [int(g.links[e, 0]) for e in ps.path(q)] + [2]
        assert nodes[0] == 0 and len(set(nodes)) == len(nodes)
        for e1, e2 in zip(ps.path(q), ps.path(q)[1:], strict=False):
            assert g.links[e1, 1] == g.links[e2, 0]  # consecutive links meet


def test_disjoint_paths_share_no_link():
    ps = compute_paths(square(), np.array([[0, 2], [1, 3]]), k=4, method="disjoint")
    for p in range(ps.n_pairs):
        used = [e for q in np.nonzero(ps.path_pair == p)[0] for e in ps.path(q)]
        assert len(used) == len(set(used))


def test_all_pairs_by_default_and_csr_is_consistent():
    g = te_graph("sndlib/abilene")
    ps = compute_paths(g, k=2)
    assert ps.n_pairs == 12 * 11
    inc = ps.incidence(g.n_links)
    assert inc.shape == (ps.n_paths, g.n_links) and inc.sum() == ps.nnz
    assert np.array_equal(ps.pair_ptr[1:] - ps.pair_ptr[:-1], np.bincount(ps.path_pair))


def test_failed_links_are_never_used_and_unreachable_pairs_are_reported():
    g = square()
    cap = g.capacity.copy()
    cap[g.physical == 4] = 0.0  # a–c down
    ps = compute_paths(g.with_capacity(cap), np.array([[0, 2]]), k=4)
    assert all(cap[e] > 0 for q in range(ps.n_paths) for e in ps.path(q))
    cut = g.with_capacity(np.where(np.isin(g.physical, [0, 3, 4]), 0.0, g.capacity))  # a isolated
    with pytest.raises(TEError, match="no working path from 'a' to 'c'"):
        compute_paths(cut, np.array([[0, 2]]))
    assert compute_paths(cut, np.array([[0, 2], [1, 2]]), drop_unreachable=True).pairs.tolist() == [[1, 2]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k": 0}, "k \\(paths per pair\\)"), ({"method": "ksp"}, "path method"), ({"weight": "cost"}, "path weight")],
)
def test_bad_options_name_the_option(kwargs, match):
    with pytest.raises(TEError, match=match):
        compute_paths(square(), np.array([[0, 2]]), **kwargs)


def test_pathset_rejects_a_pair_without_paths():
    with pytest.raises(TEError, match="pair 1 has no candidate path"):
        PathSet(np.array([[0, 1], [1, 0]]), np.array([0]), np.array([0, 1]), np.array([0]))
