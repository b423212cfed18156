"""Flows over several weighted paths: the format, ECMP shares, per-flow hashing, routes and subflows."""

import copy
from fractions import Fraction

import numpy as np
import pytest

from nettwin.errors import ScenarioError
from nettwin.scenario import build_network, dump_scenario, load_scenario, parse_scenario
from nettwin.scenario.network import flow_hash_path, split_flow
from nettwin.scenario.routing import ecmp_paths, shortest_paths
from nettwin.scenario.traffic import Traffic


def _split(square, shares=(0.7, 0.3)):
    data = copy.deepcopy(square)
    data["flows"][0]["paths"] = [
        {"path": ["a", "b", "c"], "share": shares[0]},
        {"path": ["a", "d", "c"], "share": shares[1]},
    ]
    return data


def test_weighted_paths_resolve_to_routes_with_their_shares(square):
    net = build_network(parse_scenario(_split(square)))
    flow = net.flows[0]
    nodes = [tuple(int(net.link_dst[link]) for link in p) for p in flow.routes]
    assert nodes == [(1, 2), (3, 2)]
    assert flow.route_shares == (0.7, 0.3)
    assert flow.splits and net.multipath
    assert flow.path == flow.routes[0]  # the largest share
    assert net.route_flow.tolist() == [0, 0]
    np.testing.assert_allclose(net.route_share, [0.7, 0.3])
    assert net.route_links.tolist() == [link for p in flow.routes for link in p]


def test_offered_load_puts_each_share_on_its_path(square):
    net = build_network(parse_scenario(_split(square)))
    ab, bc = net.link_index(0, 1), net.link_index(1, 2)
    ad, dc = net.link_index(0, 3), net.link_index(3, 2)
    load = net.offered_load
    assert load[ab] == load[bc] == pytest.approx(0.7e5)
    assert load[ad] == load[dc] == pytest.approx(0.3e5)
    assert load.sum() == pytest.approx(2 * 1e5)


def test_shares_within_tolerance_are_normalised(square):
    net = build_network(parse_scenario(_split(square, (0.6004, 0.4))))
    assert sum(net.flows[0].route_shares) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.update(path=["a", "c"]), "give path or paths, not both"),
        (lambda f: f["paths"][1].update(share=0.2), "paths: the shares must sum to 1, got 0.9"),
        (lambda f: f["paths"][1].update(share=0), r"^flows\[0\]\.paths\[1\]\.share: Input should be greater than 0"),
        (lambda f: f["paths"][1].update(path=["a", "b", "c"]), r"flows\[0\]\.paths\[1\]: the same path as .*\[0\]"),
        (lambda f: f["paths"][1].update(path=["a", "d"]), r"flows\[0\]\.paths\[1\]\.path: must start at"),
        (lambda f: f["paths"][1].update(path=["a", "x", "c"]), r"flows\[0\]\.paths\[1\]\.path: unknown node 'x'"),
    ],
)
def test_bad_paths_are_refused_in_one_line_naming_the_field(square, change, message):
    data = _split(square)
    change(data["flows"][0])
    with pytest.raises(ScenarioError, match=message) as info:
        build_network(parse_scenario(data))
    assert "\n" not in str(info.value)


def test_split_flow_checks_its_arguments():
    with pytest.raises(ScenarioError, match="one share per path"):
        split_flow(0, 1, None, [(0,), (1, 2)], [1.0])
    with pytest.raises(ScenarioError, match="finite and > 0"):
        split_flow(0, 1, None, [(0,), (1, 2)], [1.0, np.nan])
    with pytest.raises(ScenarioError, match="same path twice"):
        split_flow(0, 1, None, [(0,), (0,)], [0.5, 0.5])
    assert not split_flow(0, 1, None, [(0,)], [3.0]).splits


def _grid(rows, cols, **routing):
    return {
        "topology": {"grid": {"rows": rows, "cols": cols}},
        "routing": {"policy": "ecmp", **routing},
        "flows": [{"src": 0, "dst": rows * cols - 1, "traffic": {"model": "poisson", "rate": "100kbps"}}],
    }


def _ecmp_share(net, path):
    """A path's ECMP share computed independently: the product over its nodes of 1 / (next hops that keep the
    walk on a minimum-hop path), counted from hop distances."""
    n = net.n_nodes
    dst = net.flows[0].dst
    hops = np.full(n, np.inf)
    hops[dst] = 0
    for _ in range(n):
        for u, v in zip(net.link_src, net.link_dst, strict=True):
            hops[u] = min(hops[u], hops[v] + 1)
    share = Fraction(1)
    for link in path:
        u = net.link_src[link]
        options = {int(v) for s, v in zip(net.link_src, net.link_dst, strict=True) if s == u and hops[v] == hops[u] - 1}
        share /= len(options)
    return float(share)


@pytest.mark.parametrize(("rows", "cols", "count"), [(2, 2, 2), (3, 3, 6), (3, 4, 10), (4, 4, 20)])
def test_ecmp_lists_every_shortest_path_with_per_hop_equal_shares(rows, cols, count):
    net = build_network(parse_scenario(_grid(rows, cols)))
    flow = net.flows[0]
    assert len(flow.routes) == count  # binomial(rows + cols - 2, rows - 1) corner-to-corner paths
    assert sum(flow.route_shares) == pytest.approx(1.0)
    shortest = len(shortest_paths(net.n_nodes, net.link_src, net.link_dst, np.ones(net.n_links), [(0, flow.dst)])[0])
    for path, share in zip(flow.routes, flow.route_shares, strict=True):
        assert len(path) == shortest
        assert share == pytest.approx(_ecmp_share(net, path))


def test_ecmp_with_one_shortest_path_is_shortest_path_routing():
    data = _grid(1, 4)
    net = build_network(parse_scenario(data))
    data["routing"]["policy"] = "shortest_path"
    assert [f.routes for f in net.flows] == [f.routes for f in build_network(parse_scenario(data)).flows]
    assert not net.multipath


def test_ecmp_refuses_more_paths_than_max_paths():
    with pytest.raises(ScenarioError, match=r"^routing\.max_paths: flow .* more than 5 equal-cost paths"):
        build_network(parse_scenario(_grid(3, 3, max_paths=5)))


def test_ecmp_keeps_zero_cost_cycles_out_of_paths():
    # a→b and b→a cost nothing; both lead on to c at equal cost, so both one-hop-nearer routes are used, no loop.
    src, dst = np.array([0, 1, 0, 1]), np.array([1, 0, 2, 2])
    [(paths, shares)] = ecmp_paths(3, src, dst, np.array([0.0, 0.0, 1.0, 1.0]), [(0, 2)], max_paths=8)
    assert paths == ((2,),)
    assert shares == (1.0,)


def test_flow_hash_sends_a_flow_down_one_path_stable_across_runs_and_shares():
    data = _grid(3, 3, split="flow")
    data["flows"] = data["flows"] * 40
    data["simulation"] = {"seed": 7}
    nets = [build_network(parse_scenario(data)) for _ in range(2)]
    assert not nets[0].multipath
    assert [f.path for f in nets[0].flows] == [f.path for f in nets[1].flows]
    # Every flow took one of its ECMP paths, and different flows spread over several of them.
    ecmp = build_network(parse_scenario(_grid(3, 3))).flows[0].routes
    assert {f.path for f in nets[0].flows} <= set(ecmp)
    assert len({f.path for f in nets[0].flows}) >= 3


def test_flow_hash_follows_the_shares():
    shares = (0.1, 0.6, 0.3)
    picks = np.bincount([flow_hash_path(shares, 1, i) for i in range(20_000)], minlength=3) / 20_000
    # Binomial standard error at n = 20,000 is at most 0.0035; five of them.
    np.testing.assert_allclose(picks, shares, atol=0.018)


def test_subflows_carry_each_share_of_the_traffic(square):
    data = _split(square)
    onoff = {"model": "onoff", "rate": "1Mbps", "tau_on": 1, "tau_off": 1}
    data["flows"].append({"src": "b", "dst": "d", "traffic": onoff})
    net = build_network(parse_scenario(data))
    sub = net.subflows()
    assert sub.n_flows == len(net.route_flow) == 3
    assert [f.path for f in sub.flows] == [p for f in net.flows for p in f.routes]
    assert [f.traffic.mean_rate for f in sub.flows] == pytest.approx([0.7e5, 0.3e5, net.flows[1].traffic.mean_rate])
    np.testing.assert_allclose(sub.offered_load, net.offered_load)
    assert build_network(parse_scenario(square)).subflows().n_flows == 1


@pytest.mark.parametrize(
    "traffic",
    [
        {"model": "cbr", "rate": 1e6},
        {"model": "normal", "rate": 1e6, "gap_std": 0.002},
        {"model": "onoff", "rate": 1e6, "tau_on": 1, "tau_off": 2},
        {"model": "ppbp", "rate": 1e6, "burst_arrivals": 5, "burst_min": 1e4, "burst_max": 1e6, "pareto_shape": 1.5},
    ],
)
def test_thinned_traffic_keeps_its_law_at_the_share_of_the_mean_rate(traffic):
    full = Traffic.model_validate(traffic)
    part = full.thinned(0.25)
    assert part.model == full.model
    assert part.mean_rate == pytest.approx(0.25 * full.mean_rate, rel=1e-12)
    assert part.packet_size == full.packet_size
    assert full.thinned(1.0) is full


def test_split_paths_survive_a_round_trip_through_the_file_format(square, tmp_path):
    scenario = parse_scenario(_split(square))
    path = tmp_path / "split.yaml"
    dump_scenario(scenario, path)
    again = build_network(load_scenario(path))
    assert again.flows[0].routes == build_network(scenario).flows[0].routes
    assert again.flows[0].route_shares == build_network(scenario).flows[0].route_shares
