"""Resolving scenarios into networks: links, defaults/overrides, routing invariants."""

import copy

import numpy as np
import pytest

from nettwin.errors import ScenarioError, UnknownNode
from nettwin.scenario import build_network, dump_scenario, parse_scenario
from nettwin.scenario.network import node_index, node_ref
from nettwin.scenario.routing import shortest_paths
from nettwin.scenario.wireless import radio_range


def test_bidirectional_links_become_two_directed_links(square):
    net = build_network(parse_scenario(square))
    assert net.n_links == 10
    pairs = set(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True))
    assert all((v, u) in pairs for u, v in pairs)


def test_hop_routing_prefers_diagonal_and_weight_routing_avoids_it(square):
    net = build_network(parse_scenario(square))
    assert net.path_nodes(0) == (0, 2)
    data = copy.deepcopy(square)
    data["routing"] = {"weight": "weight"}
    net = build_network(parse_scenario(data))
    # a-b-c and a-d-c both cost 2 < 3; the tie goes to the smaller next node, b.
    assert net.path_nodes(0) == (0, 1, 2)


def test_explicit_path_is_kept(square):
    data = copy.deepcopy(square)
    data["flows"][0]["path"] = ["a", "d", "c"]
    net = build_network(parse_scenario(data))
    assert net.path_nodes(0) == (0, 3, 2)


def test_overrides_beat_defaults_and_capacity_scale_applies(square):
    data = copy.deepcopy(square)
    data["topology"]["defaults"] = {"capacity": "1Mbps"}
    data["topology"]["overrides"] = [{"src": "a", "dst": "b", "capacity": "5Mbps", "bidirectional": False}]
    data["topology"]["capacity_scale"] = 2
    net = build_network(parse_scenario(data))
    ab, ba = net.link_index(0, 1), net.link_index(1, 0)
    assert net.capacity[ab] == 10e6 and net.capacity[ba] == 2e6


def test_path_invariants_on_nsfnet():
    flows = [
        {"src": s, "dst": d, "traffic": {"model": "cbr", "rate": "10kbps"}}
        for s in range(14)
        for d in range(14)
        if s != d
    ]
    for weight in ("hops", "delay"):
        net = build_network(
            parse_scenario({"topology": {"builtin": "nsfnet"}, "flows": flows, "routing": {"weight": weight}})
        )
        for f in net.flows:
            links = np.array(f.path)
            # contiguous, from src to dst, loop-free
            assert net.link_src[links[0]] == f.src and net.link_dst[links[-1]] == f.dst
            assert np.all(net.link_dst[links[:-1]] == net.link_src[links[1:]])
            nodes = [f.src, *net.link_dst[links].tolist()]
            assert len(set(nodes)) == len(nodes)


def random_links(rng: np.random.Generator, n: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Links both ways between each node and ``degree`` random others (fewer where one is the node itself)."""
    src, dst = [], []
    for u in range(n):
        for v in rng.choice(n, size=degree, replace=False):
            if u != v:
                src += [u, int(v)]
                dst += [int(v), u]
    return np.array(src), np.array(dst)


def test_shortest_paths_are_optimal_and_deterministic():
    rng = np.random.default_rng(3)
    n = 30
    src, dst = random_links(rng, n, 4)
    cost = rng.integers(1, 4, size=len(src)).astype(float)
    pairs = [(0, d) for d in range(1, n)]
    paths = shortest_paths(n, src, dst, cost, pairs)
    import networkx as nx

    g = nx.DiGraph()
    for u, v, c in zip(src, dst, cost, strict=True):
        if not g.has_edge(u, v) or g[u][v]["w"] > c:
            g.add_edge(int(u), int(v), w=c)
    for (s, d), p in zip(pairs, paths, strict=True):
        assert cost[list(p)].sum() == pytest.approx(nx.shortest_path_length(g, s, d, weight="w"))
    # order of pairs does not change the chosen paths
    assert shortest_paths(n, src, dst, cost, pairs[::-1]) == paths[::-1]


def test_zero_cost_links_give_simple_shortest_paths_with_fewest_links():
    rng = np.random.default_rng(5)
    n = 25
    src, dst = random_links(rng, n, 3)
    cost = rng.integers(0, 3, size=len(src)).astype(float)  # many zero-cost cycles
    pairs = [(s, d) for s in range(n) for d in range(n) if s != d]
    import networkx as nx

    g = nx.DiGraph()
    for u, v, c in zip(src, dst, cost, strict=True):
        if not g.has_edge(u, v) or g[u][v]["w"] > c:
            g.add_edge(int(u), int(v), w=c)
    for (s, d), p in zip(pairs, shortest_paths(n, src, dst, cost, pairs), strict=True):
        nodes = [s, *dst[list(p)].tolist()]
        assert src[p[0]] == s and nodes[-1] == d and len(set(nodes)) == len(nodes)  # a simple path s→d
        assert cost[list(p)].sum() == pytest.approx(nx.shortest_path_length(g, s, d, weight="w"))
    # All links free: every pair takes a path with the fewest links.
    for (s, d), p in zip(pairs, shortest_paths(n, src, dst, np.zeros(len(src)), pairs), strict=True):
        assert len(p) == nx.shortest_path_length(g, s, d)


def test_wireless_grid_links_follow_radio_range():
    from nettwin.scenario.wireless import radio_range

    data = {
        "topology": {"grid": {"rows": 3, "cols": 3, "spacing": 150}, "medium": "wireless"},
        "flows": [{"src": 0, "dst": 8, "traffic": {"model": "onoff", "rate": "50kbps", "tau_on": 1, "tau_off": 1}}],
    }
    net = build_network(parse_scenario(data))
    reach = radio_range(parse_scenario(data).topology.wireless)
    assert 212 < reach < 230  # GLANCE's model with ns-3's default power and sensitivity
    d = np.linalg.norm(net.positions[net.link_src] - net.positions[net.link_dst], axis=1)
    assert np.all(d <= reach)
    # neighbours at 150 m and diagonals at 212 m are in range; 300 m is not
    assert net.n_links == 2 * (12 + 8)
    assert np.allclose(net.weight, 1 / np.log1p(d**2))
    assert np.all(net.capacity == 1e6)  # the 802.11b default rate


def test_a_radio_range_gives_the_neighbours_within_it():
    # 4 x 4 grid, 30 m apart: a 35 m range reaches the 4 neighbours, not the diagonals at 42 m.
    topology = {"grid": {"rows": 4, "cols": 4, "spacing": "30m"}, "medium": "wireless", "wireless": {"range": "35m"}}
    data = {"topology": topology, "flows": [{"src": 0, "dst": 15, "traffic": {"model": "cbr", "rate": "50kbps"}}]}
    net = build_network(parse_scenario(data))
    assert net.n_links == 2 * 24
    d = np.linalg.norm(net.positions[net.link_src] - net.positions[net.link_dst], axis=1)
    assert np.allclose(d, 30.0)
    # The range sets the receiver sensitivity, which gives the same range back.
    radio = parse_scenario(data).topology.wireless
    same = radio.model_copy(update={"range": None, "rx_sensitivity": radio.sensitivity})
    assert radio_range(same) == pytest.approx(35.0)
    assert parse_scenario(dump_scenario(parse_scenario(data))) == parse_scenario(data)


def test_a_wireless_neighbour_graph_is_used_as_given():
    # All three nodes are within the default radio range (~221 m) of each other; the graph leaves out a-c.
    nodes = [{"name": n, "x": 20.0 * i, "y": 0.0} for i, n in enumerate("abc")]
    links = [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c", "buffer": 3, "weight": 2}]
    flows = [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "50kbps"}}]
    net = build_network(
        parse_scenario({"topology": {"nodes": nodes, "links": links, "medium": "wireless"}, "flows": flows})
    )
    assert list(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True)) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert net.path_nodes(0) == (0, 1, 2)
    assert np.all(net.capacity == 1e6)
    assert net.weight[:2] == pytest.approx(1 / np.log1p(20.0**2)) and net.weight[2:].tolist() == [2.0, 2.0]
    assert net.buffer.tolist() == [32, 32, 3, 3]
    unplaced = {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}], "medium": "wireless"}
    with pytest.raises(ScenarioError, match="wireless topology needs node positions"):
        build_network(parse_scenario({"topology": unplaced, "flows": [{**flows[0], "dst": "b"}]}))


def test_wireless_links_carry_the_radio_rate():
    topology = {"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless", "wireless": {"rate": "5.5Mbps"}}
    data = {"topology": topology, "flows": [{"src": 0, "dst": 3, "traffic": {"model": "cbr", "rate": "50kbps"}}]}
    assert np.all(build_network(parse_scenario(data)).capacity == 5.5e6)
    for key, value, field in [
        ("capacity_scale", 2.0, "topology.capacity_scale"),
        ("overrides", [{"src": 0, "dst": 1, "capacity": "2Mbps"}], r"topology.overrides\[0\].capacity"),
    ]:
        bad = {**data, "topology": {**topology, key: value}}
        with pytest.raises(ScenarioError, match=f"^{field}: wireless links all send at topology.wireless.rate"):
            build_network(parse_scenario(bad))


def test_a_number_is_a_name_where_nodes_are_numbered_and_an_index_elsewhere():
    cities = ("Seattle", "Boston", "Austin")
    assert [node_index(r, cities, "src") for r in (0, "2", "Boston")] == [0, 2, 1]
    numbered = ("5", "3", "1")
    assert [node_index(r, numbered, "src") for r in (1, "5", 3)] == [2, 0, 1]
    with pytest.raises(UnknownNode) as info:
        node_index(0, numbered, "flows[0].src")
    assert str(info.value) == (
        "flows[0].src: no node is named 0 (the topology names its nodes by number, so a number is a name)"
    )
    # GÉANT2's nodes are named "0".."23": name and index agree.
    geant2 = tuple(str(i) for i in range(24))
    assert node_index(17, geant2, "src") == 17
    for nodes in (cities, numbered, geant2):
        assert [node_index(node_ref(nodes, i), nodes, "src") for i in range(len(nodes))] == list(range(len(nodes)))
    assert node_ref(geant2, 4) == 4 and node_ref(numbered, 0) == "5"
