import pytest
import torch

from nettwin.twin import TwinError
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import MLP, PathRNN, hops_to_links, hops_to_paths, links_to_nodes, pad_features, scatter_sum
from nettwin.twin.graph import graph_from_network
from nettwin.twin.normalise import Normalisation


@pytest.fixture
def batch(chain, ring):
    graphs = [graph_from_network(chain), graph_from_network(ring)]
    return GraphBatch.collate(graphs, Normalisation.fit(graphs, [{}, {}], ()))


def test_path_rnn_equals_a_gru_cell_hop_by_hop(batch):
    torch.manual_seed(0)
    rnn = PathRNN(5, 7)
    h0 = torch.randn(batch.n_paths, 7)
    x = torch.randn(batch.n_links, 5)
    final, hops = rnn(h0, x, batch)
    assert final.shape == (batch.n_paths, 7) and hops.shape == (batch.n_hops, 7)
    for p in range(batch.n_paths):
        h = h0[p : p + 1]
        for j, link in enumerate(batch.path_links[batch.path_ptr[p] : batch.path_ptr[p + 1]]):
            h = rnn.cell(x[link : link + 1], h)
            e = int(((batch.step_path == p) & (batch.step_pos == j)).nonzero())
            torch.testing.assert_close(hops[e], h[0])
        torch.testing.assert_close(final[p], h[0])


def test_path_rnn_repr():
    assert repr(PathRNN(32, 16)) == "PathRNN(32, 16)"


def test_scatters_sum_where_they_should(batch):
    ones = torch.ones(batch.n_hops, 1)
    per_link = hops_to_links(ones, batch)[:, 0]
    expected = torch.bincount(batch.path_links, minlength=batch.n_links).float()
    torch.testing.assert_close(per_link, expected)
    torch.testing.assert_close(hops_to_paths(ones, batch)[:, 0], torch.diff(batch.path_ptr).float())
    out_deg = links_to_nodes(torch.ones(batch.n_links, 1), batch, "src")[:, 0]
    torch.testing.assert_close(out_deg, torch.bincount(batch.link_src, minlength=batch.n_nodes).float())
    assert scatter_sum(torch.ones(2, 3), torch.tensor([0, 0]), 2).tolist() == [[2, 2, 2], [0, 0, 0]]


def test_pad_features():
    assert pad_features(torch.ones(2, 3), 5).tolist() == [[1, 1, 1, 0, 0]] * 2
    with pytest.raises(TwinError, match="3 features do not fit an embedding of size 2"):
        pad_features(torch.ones(2, 3), 2)


def test_mlp_layers():
    assert len(MLP(4, 8, 2, layers=3).linears) == 3
    assert MLP(4, 8, 2)(torch.ones(5, 4)).shape == (5, 2)
    with pytest.raises(TwinError, match="layers must be ≥ 1"):
        MLP(4, 8, 2, layers=0)
