import numpy as np
import pytest

from nettwin.twin import TwinError
from nettwin.twin.graph import LINK_FEATURES, PATH_FEATURES, graph_from_network


def test_graph_arrays_of_a_chain(chain):
    g = graph_from_network(chain)
    assert repr(g) == "Graph('chain', nodes=4, links=6, paths=3)"
    assert g.path_x.shape == (3, len(PATH_FEATURES)) and g.link_x.shape == (6, len(LINK_FEATURES))
    np.testing.assert_array_equal(np.diff(g.path_ptr), [3, 1, 2])
    # on/off flow: rate while on 200 kbps, mean rate a third of it, one-hot onoff
    onoff = dict(zip(PATH_FEATURES, g.path_x[1], strict=True))
    assert onoff["rate"] == 200e3 and onoff["mean_rate"] == pytest.approx(200e3 / 3)
    assert (onoff["tau_on"], onoff["tau_off"], onoff["onoff"], onoff["cbr"]) == (1.0, 2.0, 1.0, 0.0)
    # degrees: b and c have two neighbours
    np.testing.assert_array_equal(g.node_x[:, 0], [1, 2, 2, 1])


def test_paths_follow_links(chain):
    g = graph_from_network(chain)
    for p in range(g.n_paths):
        links = g.path_links[g.path_ptr[p] : g.path_ptr[p + 1]]
        assert g.link_src[links[0]] == g.flow_src[p] and g.link_dst[links[-1]] == g.flow_dst[p]
        np.testing.assert_array_equal(g.link_dst[links[:-1]], g.link_src[links[1:]])


def test_load_is_offered_over_capacity(chain):
    g = graph_from_network(chain)
    load = g.link_x[:, LINK_FEATURES.index("load")]
    np.testing.assert_allclose(load, chain.offered_load / chain.capacity)


def test_empty_path_is_an_error(chain):
    from dataclasses import replace

    bad = replace(chain, flows=(replace(chain.flows[0], path=()),))
    with pytest.raises(TwinError, match="flow 0 .* empty path"):
        graph_from_network(bad)
