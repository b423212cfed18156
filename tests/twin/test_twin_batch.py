import numpy as np
import torch

from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import graph_from_network
from nettwin.twin.normalise import Normalisation


def _batch(*nets, targets=None, kpis=()):
    graphs = [graph_from_network(n) for n in nets]
    norm = Normalisation.fit(graphs, targets or [{}] * len(graphs), kpis)
    return GraphBatch.collate(graphs, norm, targets, kpis), graphs


def test_repr_and_shapes(chain, ring):
    b, _ = _batch(chain, ring)
    assert repr(b) == "GraphBatch(graphs=2, nodes=9, links=18, paths=7, hops=14, max_len=3)"
    assert b.node_x.shape == (9, 4) and b.link_x.shape == (18, 17) and b.path_x.shape == (7, 24)
    assert b.path_counts == (3, 4) and b.link_counts == (6, 12)
    assert sum(b.step_sizes) == b.n_hops == int(b.path_ptr[-1])


def test_packed_layout_walks_every_path_in_order(chain, ring):
    b, _ = _batch(chain, ring)
    lengths = torch.diff(b.path_ptr)
    assert torch.all(lengths[b.order][:-1] >= lengths[b.order][1:])
    # step t lists the t-th link of the first step_sizes[t] sorted paths
    start = 0
    for t, n in enumerate(b.step_sizes):
        paths = b.step_path[start : start + n]
        assert torch.equal(paths, b.order[:n])
        assert torch.equal(b.step_link[start : start + n], b.path_links[b.path_ptr[paths] + t])
        assert torch.all(b.step_pos[start : start + n] == t)
        start += n
    assert torch.equal(b.order[b.inv_order], torch.arange(b.n_paths))


def test_offsets_point_into_each_graph(chain, ring):
    b, graphs = _batch(chain, ring)
    n0, l0 = graphs[0].n_nodes, graphs[0].n_links
    np.testing.assert_array_equal(b.link_src[l0:].numpy(), graphs[1].link_src + n0)
    np.testing.assert_array_equal(b.path_links[graphs[0].path_ptr[-1] :].numpy(), graphs[1].path_links + l0)
    np.testing.assert_array_equal(b.flow_dst[3:].numpy(), graphs[1].flow_dst + n0)


def test_gcn_coefficients_match_dense_normalisation(ring):
    b, _ = _batch(ring)
    n = b.n_nodes
    a = torch.eye(n)
    a[b.link_dst, b.link_src] += 1.0
    d = a.sum(1)
    dense = a / torch.sqrt(d[:, None] * d[None, :])
    x = torch.randn(n, 3)
    from nettwin.twin.blocks import gcn_propagate

    torch.testing.assert_close(gcn_propagate(x, b), dense @ x)


def test_targets_are_normalised_by_iqr(chain):
    t = {"delay": np.array([1.0, 2.0, np.nan])}
    b, _ = _batch(chain, targets=[t], kpis=["delay"])
    # median 1.5; the two values give an IQR of 0.5
    np.testing.assert_allclose(b.y["delay"][:2].numpy(), [-1.0, 1.0])
    assert torch.isnan(b.y["delay"][2])


def test_to_moves_every_tensor(chain):
    b, _ = _batch(chain, targets=[{"delay": np.ones(3)}], kpis=["delay"])
    moved = b.to("cpu")
    assert moved.step_sizes == b.step_sizes and moved.y["delay"].device.type == "cpu"
