from __future__ import annotations

import numpy as np
import pytest
import torch
from te_helpers import random_instance

from nettwin.te import ECMPSolver, TEError, TEInstance
from nettwin.te.tensors import TEBatch, graph_mlu, link_loads, link_sums, path_sums, segment_softmax, utilisation


def _mlu_by_loop(inst: TEInstance, x: np.ndarray) -> float:
    """MLU the slow, obvious way: walk every path and add its flow to each of its links."""
    load = np.zeros(inst.n_links)
    for q in range(inst.n_paths):
        for e in inst.paths.path(q):
            load[e] += inst.demand[inst.paths.path_pair[q]] * x[q]
    return float(np.max(load / inst.graph.capacity))


def test_mlu_three_ways_agree():
    insts = [random_instance(s) for s in range(3)]
    rng = np.random.default_rng(0)
    xs = []
    for inst in insts:
        w = rng.random(inst.n_paths)
        xs.append(w / np.bincount(inst.paths.path_pair, w)[inst.paths.path_pair])
    batch = TEBatch.from_instances(insts, torch.device("cpu"))
    x_all = torch.tensor(np.concatenate(xs), dtype=torch.float32)
    torch_mlu = graph_mlu(batch, utilisation(batch, link_loads(batch, x_all))).numpy()
    for i, (inst, x) in enumerate(zip(insts, xs, strict=True)):
        # the batch divides capacities and demands by the same scale, so the MLU is unchanged
        assert inst.mlu(x) == pytest.approx(_mlu_by_loop(inst, x), rel=1e-12)
        assert torch_mlu[i] == pytest.approx(inst.mlu(x), rel=1e-5)


def test_segment_softmax_sums_to_one_and_skips_dead_paths():
    logits = torch.tensor([0.0, -torch.inf, 1.0, -torch.inf, -torch.inf])
    seg = torch.tensor([0, 0, 1, 2, 2])
    w = segment_softmax(logits, seg, 3)
    assert w.tolist() == pytest.approx([1.0, 0.0, 1.0, 0.5, 0.5])


def test_segment_softmax_matches_a_softmax_per_segment_values_and_gradients():
    sizes = torch.tensor([3, 1, 4, 2, 2])
    seg = torch.repeat_interleave(torch.arange(5), sizes)
    logits = torch.randn(len(seg), generator=torch.Generator().manual_seed(0))
    logits[[3, 10, 11]] = -torch.inf  # segment 1 and segment 4 entirely dead, segment 2 partly
    weights = torch.randn(len(seg), generator=torch.Generator().manual_seed(1))
    leaf = logits.clone().requires_grad_()
    got = segment_softmax(leaf, seg, 5, sizes)
    (got * weights).sum().backward()
    ref_leaf = logits.clone().requires_grad_()
    parts = [
        torch.full((len(part),), 1 / len(part)) if torch.isinf(part).all() else torch.softmax(part, 0)
        for part in torch.split(ref_leaf, sizes.tolist())
    ]
    ref = torch.cat(parts)
    (ref * weights).sum().backward()
    torch.testing.assert_close(got, ref)
    torch.testing.assert_close(segment_softmax(logits, seg, 5), ref.detach())  # sizes counted when not given
    torch.testing.assert_close(leaf.grad, ref_leaf.grad)


def test_incidence_sums_equal_dense_products_with_gradients():
    insts = [random_instance(s) for s in range(2)]
    batch = TEBatch.from_instances(insts, torch.device("cpu"))
    dense = batch.path_link.to_dense()
    torch.testing.assert_close(batch.link_path.to_dense(), dense.T)
    rows = torch.zeros_like(dense)
    rows[batch.nnz_path, batch.nnz_link] = 1.0
    torch.testing.assert_close(dense, rows)
    gen = torch.Generator().manual_seed(0)
    for op, mat in ((path_sums, dense), (link_sums, dense.T)):
        for cols in ((), (3,)):
            v = torch.randn((mat.shape[1], *cols), generator=gen, requires_grad=True)
            out = op(batch, v)
            torch.testing.assert_close(out, mat @ v.detach())
            g = torch.randn(out.shape, generator=gen)
            (grad,) = torch.autograd.grad(out, v, g)
            torch.testing.assert_close(grad, mat.T @ g)


def test_bad_ratios_are_rejected_with_the_pair_named(tri):
    with pytest.raises(TEError, match="pair 0 sum to 0.9"):
        tri.mlu(np.array([0.5, 0.4]))
    with pytest.raises(TEError, match="path 1 must be a finite number ≥ 0"):
        tri.mlu(np.array([1.5, -0.5]))
    with pytest.raises(TEError, match="one entry per path"):
        tri.mlu(np.array([1.0]))


def test_bad_demands_are_rejected(tri):
    with pytest.raises(TEError, match="demand must be ≥ 0"):
        TEInstance(tri.graph, tri.paths, np.array([-1.0]))


def test_ecmp_splits_equally(tri):
    assert ECMPSolver().solve(tri).tolist() == [0.5, 0.5]
