"""TE on the shared Network: instances built from a network's links and flows, solutions applied back as splits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml
from te_helpers import NETWORK

from nettwin.scenario import parse_scenario
from nettwin.scenario.network import build_network
from nettwin.te import LPSolver, TEError, make_instances
from nettwin.te.files import read_network
from nettwin.te.lp import solve_lp
from nettwin.te.network import apply_split, flow_demands, network_graph, network_instance


def random_network(seed: int, n: int = 7, flows: int = 12):
    """A connected network of ``n`` nodes with random capacities (some links one-way) and random Poisson flows,
    two of them sharing a pair."""
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(n)]
    links, seen = [], set()

    def add(u: int, v: int) -> None:
        seen.update({(u, v), (v, u)})
        links.append(
            {"src": names[u], "dst": names[v], "capacity": f"{rng.uniform(5, 50):.3f}Mbps",
             "bidirectional": bool(rng.random() < 0.8) or v == u + 1}
        )  # fmt: skip

    for i in range(n - 1):
        add(i, i + 1)
    while len(links) < 2 * n:
        u, v = rng.choice(n, 2, replace=False).tolist()
        if (u, v) not in seen:
            add(u, v)
    pairs = [rng.choice(n, 2, replace=False).tolist() for _ in range(flows - 1)]
    pairs.append(pairs[0])
    specs = [
        {"src": names[s], "dst": names[t], "traffic": {"model": "poisson", "rate": f"{rng.uniform(1, 8):.3f}Mbps"}}
        for s, t in sorted(pairs, key=lambda p: p[0] < p[1])  # some flows ride the chain backwards
    ]
    return build_network(parse_scenario({"name": f"rand{seed}", "topology": {"nodes": names, "links": links},
                                         "flows": specs}))  # fmt: skip


def two_routes():
    return build_network(parse_scenario(yaml.safe_load(NETWORK)))


def test_an_instance_from_a_network_routes_over_its_links_with_their_capacities():
    net = random_network(0)
    inst = network_instance(net)
    g = inst.graph
    assert g.links.tolist() == np.column_stack([net.link_src, net.link_dst]).tolist()
    assert g.capacity.tolist() == net.capacity.tolist() and g.delay.tolist() == net.delay.tolist()
    assert g.nodes == net.nodes and g.name == inst.name == net.name
    assert g.network is net  # a view of the network's links, not a copy of them
    failed = g.with_capacity(np.where(np.arange(net.n_links) == 0, 0.0, net.capacity))
    assert failed.network.flows is net.flows and failed.network.capacity[0] == 0 and net.capacity[0] > 0
    # the demand of each pair is the sum of its flows' mean rates
    expected: dict[tuple[int, int], float] = {}
    for f in net.flows:
        expected[(f.src, f.dst)] = expected.get((f.src, f.dst), 0.0) + f.traffic.mean_rate
    got = {tuple(p): d for p, d in zip(inst.paths.pairs.tolist(), inst.demand.tolist(), strict=True)}
    assert got == pytest.approx(expected)
    assert flow_demands(net).sum() == pytest.approx(sum(f.traffic.mean_rate for f in net.flows))
    # a link and its reverse are one physical link; a one-way link is one of its own
    reverse = {(int(u), int(v)): i for i, (u, v) in enumerate(g.links)}
    for i, (u, v) in enumerate(g.links.tolist()):
        j = reverse.get((v, u))
        assert (g.physical[i] == g.physical[j]) if j is not None else (np.sum(g.physical == g.physical[i]) == 1)


@pytest.mark.parametrize("seed", range(4))
def test_an_lp_split_applied_back_offers_the_network_the_lp_loads_and_mlu(seed):
    net = random_network(seed)
    inst = network_instance(net, k=3)
    result = solve_lp(inst)
    split = apply_split(net, inst, result.ratios)
    assert split.offered_load == pytest.approx(inst.loads(result.ratios), rel=1e-9, abs=1e-6)
    assert float(np.max(split.offered_load / split.capacity)) == pytest.approx(result.mlu, rel=1e-9)
    assert split.n_flows == net.n_flows and split.multipath
    for before, after in zip(net.flows, split.flows, strict=True):
        assert (after.src, after.dst, after.traffic, after.tos) == (before.src, before.dst, before.traffic, before.tos)
        assert sum(after.route_shares) == pytest.approx(1.0)
    # the two flows of one pair take the same split
    pairs = [(f.src, f.dst) for f in split.flows]
    shared = max(pairs, key=pairs.count)
    twins = [f for f in split.flows if (f.src, f.dst) == shared]
    assert len(twins) >= 2 and len({(f.routes, f.route_shares) for f in twins}) == 1
    assert net.offered_load.sum() > 0 and not net.multipath  # the input is left as it was


def test_paths_without_share_are_dropped_and_the_rest_renormalised():
    net = two_routes()
    inst = network_instance(net)
    assert inst.n_paths == 2
    direct, detour = (tuple(inst.paths.path(q)) for q in range(2))
    split = apply_split(net, inst, np.array([1.0, 0.0]))
    assert not split.multipath and split.flows[0].routes == (direct,) == ((net.link_index(0, 1),),)
    split = apply_split(net, inst, np.array([1e-12, 1 - 1e-12]))  # a solver's rounding is no path
    assert split.flows[0].routes == (detour,) and split.flows[0].route_shares == (1.0,)
    split = apply_split(net, inst, np.array([0.4, 0.6]), min_share=0.5)
    assert split.flows[0].routes == (detour,) and split.flows[0].route_shares == (1.0,)
    split = apply_split(net, inst, np.array([0.4, 0.6]))
    assert split.flows[0].routes == (direct, detour) and split.flows[0].route_shares == pytest.approx((0.4, 0.6))


def test_flows_of_pairs_the_matrix_leaves_out_keep_their_paths():
    net = random_network(1)
    demands = np.zeros((net.n_nodes, net.n_nodes))
    first = net.flows[0]
    demands[first.src, first.dst] = 1e6
    inst = network_instance(net, demands)
    assert inst.n_pairs == 1
    split = apply_split(net, inst, LPSolver().solve(inst))
    for before, after in zip(net.flows, split.flows, strict=True):
        if (before.src, before.dst) != (first.src, first.dst):
            assert after is before


def test_make_instances_takes_a_network_and_its_flows():
    net = two_routes()
    [inst] = make_instances(net)
    assert inst.name == "two-routes" and inst.demand.tolist() == [net.flows[0].traffic.mean_rate]
    assert len(make_instances(net, steps=3, traffic="gravity")) == 3  # generated traffic on its links
    with pytest.raises(TEError, match="capacity: a network keeps its own link capacities"):
        make_instances(net, capacity=1e9)


def test_read_network_reads_a_scenario_file_whole(net):
    network = read_network(net / "network.yaml")
    assert network.name == "two-routes" and network.n_flows == 1 and network.n_links == 6
    (net / "bad.yaml").write_text(NETWORK.replace("{src: a, dst: b, traffic", "{src: a, dst: z, traffic"))
    with pytest.raises(TEError) as err:
        read_network(net / "bad.yaml")
    assert str(err.value) == f"{net / 'bad.yaml'}: flows[0].dst: unknown node 'z'"
    with pytest.raises(TEError, match="scenario file 'x.gml': the extension must be one of"):
        read_network("x.gml")


def test_a_split_for_another_network_or_bad_ratios_is_one_line():
    net, other = two_routes(), random_network(2)
    inst = network_instance(net)
    for call, message in [
        (lambda: apply_split(other, inst, [0.5, 0.5]), "does not route over the links of network 'rand2'"),
        (lambda: apply_split(net, inst, [0.5, 0.6]), "split ratios of pair 0 sum to 1.1, expected 1"),
        (lambda: apply_split(net, inst, [1.0]), "split ratios need one entry per path (2), got 1"),
        (lambda: network_instance(net, np.zeros((2, 2))), "must have shape (3, 3), got (2, 2)"),
    ]:
        with pytest.raises(TEError) as err:
            call()
        assert message in str(err.value) and "\n" not in str(err.value)


def test_parallel_links_in_one_direction_are_refused_in_one_line():
    net = two_routes()  # scenarios refuse parallel links; a network built in code may have them
    src, dst = net.link_src.copy(), net.link_dst.copy()
    src[5], dst[5] = 0, 1
    with pytest.raises(TEError) as err:
        network_graph(dataclasses.replace(net, link_src=src, link_dst=dst))
    assert str(err.value) == (
        "'two-routes': links 0 and 5 both go a→b; traffic engineering routes over at most one link per direction "
        "between two nodes"
    )


def test_a_split_network_is_pinned_to_its_paths_for_later_edits():
    from nettwin.scenario.edits import FailLink, RestoreLink, apply_edits

    net = two_routes()
    inst = network_instance(net)
    split = apply_split(net, inst, np.array([0.25, 0.75]))
    cut = apply_edits(split, [FailLink("a", "b", bidirectional=True)])
    # the detour is what remains of the split; restoring the direct link brings the split back
    assert [cut.path_nodes(0)] == [(0, 2, 1)] and not cut.multipath
    back = apply_edits(cut, [RestoreLink("a", "b", bidirectional=True)])
    assert back.flows[0].route_shares == pytest.approx((0.25, 0.75)) and back.offered_load == pytest.approx(
        split.offered_load
    )


def test_under_per_flow_hashing_each_flow_takes_one_path_of_its_split():
    doc = yaml.safe_load(NETWORK)
    doc["routing"] = {"split": "flow"}
    doc["flows"] *= 8
    net = build_network(parse_scenario(doc))
    inst = network_instance(net)
    split = apply_split(net, inst, np.array([0.25, 0.75]))
    assert not split.multipath
    assert {split.path_nodes(i) for i in range(split.n_flows)} == {(0, 1), (0, 2, 1)}
