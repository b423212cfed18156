"""Scale-free columns: the same under faster links (every rate × k, every time / k) and in larger networks."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, SCALE_FREE, graph_from_network


def scaled(k: float):
    """A chain with on/off, Poisson and CBR flows, its capacities and rates × k and its times / k."""
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["a", "b", "c", "d"],
                    "links": [
                        {"src": "a", "dst": "b", "capacity": f"{1e6 * k}bps", "delay": 2e-3 / k, "buffer": 8},
                        {"src": "b", "dst": "c", "capacity": f"{2e6 * k}bps", "delay": 1e-3 / k, "buffer": 16},
                        {"src": "c", "dst": "d", "capacity": f"{1e6 * k}bps", "delay": 5e-3 / k, "buffer": 4},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "d", "traffic": {"model": "poisson", "rate": f"{300e3 * k}bps"}},
                    {
                        "src": "b",
                        "dst": "d",
                        "traffic": {"model": "onoff", "rate": f"{400e3 * k}bps", "tau_on": 1 / k, "tau_off": 2 / k},
                    },
                    {
                        "src": "d",
                        "dst": "a",
                        "traffic": {"model": "cbr", "rate": f"{500e3 * k}bps", "packet_size": 500},
                    },
                ],
            }
        )
    )


def ring(n: int):
    """n nodes in a ring, each sending to its clockwise neighbour."""
    nodes = [str(i) for i in range(n)]
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": nodes,
                    "defaults": {"capacity": "1Mbps", "delay": "1ms"},
                    "links": [{"src": nodes[i], "dst": nodes[(i + 1) % n]} for i in range(n)],
                },
                "flows": [
                    {"src": nodes[i], "dst": nodes[(i + 1) % n], "traffic": {"model": "poisson", "rate": "600kbps"}}
                    for i in range(n)
                ],
            }
        )
    )


@pytest.mark.parametrize("k", [2.5, 1000.0])
def test_faster_links_leave_the_scale_free_columns_unchanged(k):
    slow, fast = graph_from_network(scaled(1.0)), graph_from_network(scaled(k))
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        cols = [names.index(n) for n in SCALE_FREE[kind]]
        a, b = getattr(slow, f"{kind}_x")[:, cols], getattr(fast, f"{kind}_x")[:, cols]
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=kind)
    # ... while the reference they are relative to scales with the links
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES)):
        col = names.index("tx_time")
        np.testing.assert_allclose(getattr(fast, f"{kind}_x")[:, col] * k, getattr(slow, f"{kind}_x")[:, col])
    assert slow.path_x[:, PATH_FEATURES.index("qt_delay")].min() > 1  # the estimate is there, not zero


def test_a_larger_network_of_the_same_links_and_loads_has_the_same_columns():
    small, large = graph_from_network(ring(4)), graph_from_network(ring(12))
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        cols = [names.index(n) for n in SCALE_FREE[kind]]
        a = np.unique(getattr(small, f"{kind}_x")[:, cols].round(12), axis=0)
        b = np.unique(getattr(large, f"{kind}_x")[:, cols].round(12), axis=0)
        np.testing.assert_array_equal(a, b, err_msg=kind)


def test_scale_free_columns_are_known_columns():
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        assert set(SCALE_FREE[kind]) <= set(names)
        assert "tx_time" not in SCALE_FREE[kind] and "capacity" not in SCALE_FREE[kind]
