"""Network edits as values: failures and restores reroute only what they touch, edits compose, never change their
input, fail in one line, and any network writes back to a scenario that builds into it again."""

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from nettwin.errors import ScenarioError, UnknownNode, Unreachable
from nettwin.scenario import build_network, load_scenario, parse_scenario
from nettwin.scenario.edits import (
    AddFlow,
    AddLink,
    ChangeDestination,
    ChangeLink,
    ChangePaths,
    ChangeRate,
    Edits,
    FailLink,
    FailNode,
    RemoveFlow,
    RestoreLink,
    RestoreNode,
    apply_edits,
    stranded_flows,
    to_scenario,
)
from nettwin.scenario.edits import _route as route_afresh
from nettwin.scenario.network import flow_hash_path
from nettwin.sim.simulate import simulate

EXAMPLES = Path(__file__).parents[2] / "examples"
POISSON = {"model": "poisson", "rate": "100kbps"}


def _all_pairs(topology: dict, routing: dict | None = None, n: int = 14) -> dict:
    flows = [{"src": s, "dst": t, "traffic": POISSON} for s, t in itertools.permutations(range(n), 2)]
    return {"topology": topology, "flows": flows, "routing": routing or {}}


@pytest.fixture(scope="module")
def nsfnet():
    return build_network(parse_scenario(_all_pairs({"builtin": "nsfnet"})))


def _node_paths(net, i):
    """Flow i's paths as node sequences with their shares."""
    f = net.flows[i]
    return [(_nodes(net, f.src, p), s) for p, s in zip(f.routes, f.route_shares, strict=True)]


def _nodes(net, src, path):
    return (src, *(int(net.link_dst[link]) for link in path))


def _by_id(net):
    """Flow id → its paths as node sequences with shares."""
    return {int(fid): _node_paths(net, i) for i, fid in enumerate(net.flow_id)}


def _live_graph(net):
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_edges_from(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True))
    return g


def _assert_routing_current(net):
    """Every routed flow is where routing over the network's links would put it now."""
    state = net.edit_state
    routed = [i for i, pin in enumerate(state.pinned) if pin is None]
    fresh = route_afresh(net, [(net.flows[i].src, net.flows[i].dst) for i in routed], "test")
    for i, (paths, shares) in zip(routed, fresh, strict=True):
        if net.routing.split == "flow" and len(paths) > 1:
            pick = flow_hash_path(shares, net.simulation.seed, int(net.flow_id[i]))
            paths, shares = (paths[pick],), (1.0,)
        assert net.flows[i].routes == paths, f"flow {i}"
        np.testing.assert_allclose(net.flows[i].route_shares, shares)


_LINK_ARRAYS = (
    "link_src",
    "link_dst",
    "capacity",
    "delay",
    "buffer",
    "weight",
    "policy",
    "queue_ptr",
    "queue_buffer",
    "queue_weight",
)
"""The per-link and per-queue arrays of a network."""


def _assert_same(a, b, ids=True):
    """Two networks carry the same links, attributes, queues and flows."""
    assert a.nodes == b.nodes
    for key in _LINK_ARRAYS:
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    if ids:
        np.testing.assert_array_equal(a.link_id, b.link_id)
        np.testing.assert_array_equal(a.flow_id, b.flow_id)
    assert a.n_flows == b.n_flows
    for fa, fb in zip(a.flows, b.flows, strict=True):
        assert (fa.src, fa.dst, fa.tos, fa.traffic, fa.routes) == (fb.src, fb.dst, fb.tos, fb.traffic, fb.routes)
        np.testing.assert_allclose(fa.route_shares, fb.route_shares, rtol=1e-12)
    assert a.simulation == b.simulation and a.routing == b.routing and a.name == b.name
    if a.positions is None:
        assert b.positions is None
    else:
        np.testing.assert_array_equal(a.positions, b.positions)


def _snapshot(net):
    return {k: getattr(net, k).copy() for k in _LINK_ARRAYS}, net.flows


# ----------------------------------------------------------------------------------------------------- failures


def test_failing_a_link_moves_exactly_the_flows_that_used_it(nsfnet):
    ab = nsfnet.link_index(0, 2)
    users = {i for i, f in enumerate(nsfnet.flows) if ab in f.path}
    assert users
    cut = FailLink(0, 2).apply(nsfnet)
    assert cut.n_links == nsfnet.n_links - 1 and ab not in cut.link_id
    assert not np.any((cut.link_src == 0) & (cut.link_dst == 2))
    before, after = _by_id(nsfnet), _by_id(cut)
    moved = {fid for fid in before if before[fid] != after[fid]}
    assert moved == users
    # every link keeps its identity: the same endpoints and attributes under the same id
    np.testing.assert_array_equal(cut.link_src, nsfnet.link_src[cut.link_id])
    np.testing.assert_array_equal(cut.capacity, nsfnet.capacity[cut.link_id])
    _assert_routing_current(cut)


def test_rerouted_paths_are_shortest_on_what_remains(nsfnet):
    cut = apply_edits(nsfnet, [FailLink(0, 2, bidirectional=True), FailLink(5, 12, bidirectional=True)])
    g = _live_graph(cut)
    for f in cut.flows:
        assert len(f.path) == nx.shortest_path_length(g, f.src, f.dst)
        assert cut.link_dst[f.path[-1]] == f.dst and cut.link_src[f.path[0]] == f.src


def test_restore_undoes_fail_routes_included(nsfnet):
    edits = [FailLink(0, 2, bidirectional=True), FailNode(7), FailLink(3, 4)]
    cut = apply_edits(nsfnet, [FailLink(0, 2, bidirectional=True), FailLink(3, 4)])
    back = apply_edits(cut, [RestoreLink(3, 4), RestoreLink(0, 2, bidirectional=True)])
    _assert_same(back, nsfnet)
    # a node failure takes its flows out only when asked to, and brings them back with their ids
    with pytest.raises(
        Unreachable, match=r"^FailNode: flows 6 \(Palo Alto→Champaign\) and 25 more would lose their destination"
    ):
        apply_edits(nsfnet, edits)
    down = apply_edits(nsfnet, [FailLink(0, 2, bidirectional=True), FailNode(7, unreachable="drop")])
    assert set(stranded_flows(down)) == {i for i, f in enumerate(nsfnet.flows) if 7 in (f.src, f.dst)}
    assert all(7 not in _nodes(down, f.src, f.path) for f in down.flows)
    _assert_routing_current(down)
    back = apply_edits(down, [RestoreNode(7), RestoreLink(2, 0), RestoreLink(0, 2)])
    _assert_same(back, nsfnet)
    assert stranded_flows(back) == {}


def test_a_failure_that_cuts_a_destination_off_names_the_flows_or_drops_them():
    net = build_network(
        parse_scenario(
            _all_pairs({"nodes": ["a", "b", "c"], "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]}, n=3)
        )
    )
    with pytest.raises(Unreachable) as err:
        FailLink("b", "c", bidirectional=True).apply(net)
    assert str(err.value) == (
        "FailLink: flows 1 (a→c) and 3 more would lose their destination; give unreachable='drop' to set such "
        "flows aside until their destination is reachable again"
    )
    cut = FailLink("b", "c", bidirectional=True, unreachable="drop").apply(net)
    assert [(f.src, f.dst) for f in cut.flows] == [(0, 1), (1, 0)]
    assert cut.flow_id.tolist() == [0, 2]
    assert sorted(stranded_flows(cut)) == [1, 3, 4, 5]
    _assert_same(RestoreLink("b", "c", bidirectional=True).apply(cut), net)


def test_pinned_paths_lose_a_broken_path_and_get_it_back():
    net = build_network(parse_scenario(parse_scenario_text()))
    split = net.flows[1]
    assert split.splits
    cut = FailLink("r1c1", "r1c2").apply(net)
    assert not cut.flows[1].splits and cut.flows[1].route_shares == (1.0,)  # the 80 % path carries it all
    assert _nodes(cut, 0, cut.flows[1].path) == (0, 1, 2, 3)
    both = FailLink("r0c1", "r0c2").apply(cut)  # neither own path is whole: routing (ECMP) takes it
    _assert_routing_current(both)
    assert _nodes(both, 0, both.flows[1].path)[-1] == 3
    _assert_same(apply_edits(both, [RestoreLink("r1c1", "r1c2"), RestoreLink("r0c1", "r0c2")]), net)


def parse_scenario_text():
    return load_scenario(EXAMPLES / "multipath.yaml").model_dump()


@pytest.mark.parametrize(("policy", "split"), [("shortest_path", "packet"), ("ecmp", "packet"), ("ecmp", "flow")])
def test_incremental_rerouting_agrees_with_routing_from_scratch(policy, split):
    topology = {"random": {"model": "waxman", "nodes": 30, "seed": 4, "alpha": 0.3}}
    rng = np.random.default_rng(0)
    pairs = {tuple(p) for p in rng.integers(0, 30, (120, 2)) if p[0] != p[1]}
    flows = [{"src": int(s), "dst": int(t), "traffic": POISSON} for s, t in sorted(pairs)]
    routing = {"policy": policy, "weight": "delay", "split": split}
    base = build_network(
        parse_scenario({"topology": {**topology, "defaults": {"delay": "1ms"}}, "flows": flows, "routing": routing})
    )
    delays = rng.uniform(1e-3, 5e-3, base.n_links)
    net = base
    for i in range(base.n_links):
        net = ChangeLink(int(base.link_src[i]), int(base.link_dst[i]), delay=float(delays[i])).apply(net)
        if i % 10 == 0:
            _assert_routing_current(net)
    _assert_routing_current(net)
    down: list[tuple[int, int]] = []
    for _ in range(40):
        if down and rng.random() < 0.4:
            net = RestoreLink(*down.pop(int(rng.integers(len(down))))).apply(net)
        else:
            k = int(rng.integers(net.n_links))
            link = (int(net.link_src[k]), int(net.link_dst[k]))
            net = FailLink(*link, unreachable="drop").apply(net)
            down.append(link)
        _assert_routing_current(net)
        # stranded flows are exactly those routing cannot carry
        g = _live_graph(net)
        assert all(not nx.has_path(g, f.src, f.dst) for f in stranded_flows(net).values())
    while down:
        net = RestoreLink(*down.pop()).apply(net)
    _assert_routing_current(net)
    assert net.n_flows == base.n_flows and stranded_flows(net) == {}


# ---------------------------------------------------------------------------------------------------- links


def test_capacity_change_changes_only_that_link(nsfnet):
    i = nsfnet.link_index(3, 4)
    up = ChangeLink(3, 4, capacity="40Mbps").apply(nsfnet)
    assert up.capacity[i] == 40e6
    np.testing.assert_array_equal(np.delete(up.capacity, i), np.delete(nsfnet.capacity, i))
    assert up.flows is nsfnet.flows and up.link_src is nsfnet.link_src and up.delay is nsfnet.delay
    both = ChangeLink(3, 4, delay="5ms", buffer=8, weight=2.0, bidirectional=True).apply(up)
    j = nsfnet.link_index(4, 3)
    assert both.delay[[i, j]].tolist() == [5e-3, 5e-3] and both.buffer[[i, j]].tolist() == [8, 8]
    assert both.queue_buffer[[i, j]].tolist() == [8, 8] and both.weight[[i, j]].tolist() == [2.0, 2.0]
    assert np.count_nonzero(both.delay != nsfnet.delay) == 2
    # a changed link keeps its new attributes through another link's failure and restore
    again = apply_edits(both, [FailLink(0, 1), RestoreLink(0, 1)])
    _assert_same(again, both)


def test_capacity_change_reroutes_when_routing_weighs_capacity():
    net = build_network(parse_scenario(_all_pairs({"builtin": "nsfnet"}, {"weight": "inverse_capacity"})))
    fast = ChangeLink(0, 3, capacity="100Mbps", bidirectional=True).apply(net)
    _assert_routing_current(fast)
    assert sum(a != b for a, b in zip(net.flows, fast.flows, strict=True)) > 0


def test_an_added_link_carries_the_flows_routing_now_sends_over_it(nsfnet):
    new = AddLink(0, 13, capacity="10Mbps", bidirectional=True).apply(nsfnet)
    assert new.n_links == nsfnet.n_links + 2 and new.link_id[-2:].tolist() == [42, 43]
    assert new.policy[-1] == 0 and new.queue_ptr[-1] == nsfnet.queue_ptr[-1] + 2
    link = new.link_index(0, 13)
    assert new.flows[12].path == (link,)  # 0 → 13 directly
    _assert_routing_current(new)
    with pytest.raises(ScenarioError, match=r"^AddLink: link Palo Alto→Atlanta exists already; change it with"):
        AddLink(0, 13).apply(new)
    cut = FailLink(0, 13).apply(new)
    assert cut.n_links == nsfnet.n_links + 1
    _assert_routing_current(cut)


# ---------------------------------------------------------------------------------------------------- flows


def test_flow_edits(nsfnet):
    onoff = build_network(
        parse_scenario(
            {
                "topology": {"builtin": "nsfnet"},
                "flows": [
                    {"src": 0, "dst": 5, "traffic": {"model": "onoff", "rate": "1Mbps", "tau_on": 1, "tau_off": 3}}
                ],
            }
        )
    )
    fast = ChangeRate(0, "500kbps").apply(onoff)
    assert fast.flows[0].traffic.mean_rate == pytest.approx(5e5)
    assert (fast.flows[0].traffic.tau_on, fast.flows[0].traffic.tau_off) == (1, 3)
    assert fast.flows[0].path == onoff.flows[0].path

    moved = ChangeDestination(0, 13).apply(nsfnet)
    assert moved.flows[0].dst == 13 and moved.flows[0].path == nsfnet.flows[12].path
    assert moved.flows[1:] == nsfnet.flows[1:]

    pinned = ChangePaths(0, [[0, 3, 4, 6, 7, 1]]).apply(nsfnet)
    assert _nodes(pinned, 0, pinned.flows[0].path) == (0, 3, 4, 6, 7, 1)
    split = ChangePaths(0, [[0, 1], [0, 2, 1]], shares=[3, 1]).apply(nsfnet)
    assert split.flows[0].route_shares == (0.75, 0.25)
    assert ChangePaths(0, None).apply(pinned).flows[0].path == nsfnet.flows[0].path

    more = AddFlow({"src": "Atlanta", "dst": 0, "traffic": POISSON, "tos": 0}).apply(nsfnet)
    assert more.n_flows == nsfnet.n_flows + 1 and more.flow_id[-1] == nsfnet.n_flows
    assert more.flows[-1].path == route_afresh(nsfnet, [(13, 0)], "t")[0][0][0]
    fewer = RemoveFlow(3).apply(more)
    assert fewer.flows[3] is nsfnet.flows[4] and 3 not in fewer.flow_id
    assert AddFlow({"src": 0, "dst": 1, "traffic": POISSON}).apply(fewer).flow_id[-1] == nsfnet.n_flows + 1


def test_split_by_flow_hash_takes_one_path():
    data = parse_scenario_text()
    data["routing"]["split"] = "flow"
    net = build_network(parse_scenario(data))
    assert not net.multipath
    split = ChangePaths(
        1, [["r0c0", "r0c1", "r0c2", "r0c3"], ["r0c0", "r1c0", "r1c1", "r1c2", "r1c3", "r0c3"]], shares=[0.8, 0.2]
    ).apply(net)
    _assert_same(split, net)


# ------------------------------------------------------------------------------------------------ composition


def test_composition_is_sequential_application_and_the_input_is_untouched(nsfnet):
    edits = [
        FailLink(0, 2, bidirectional=True),
        ChangeLink(3, 4, capacity=2e7),
        AddLink(1, 12),
        ChangeRate(5, 1e6),
        RemoveFlow(0),
        AddFlow({"src": 1, "dst": 12, "traffic": POISSON}),
        FailNode(13, unreachable="drop"),
        ChangeDestination(3, 9),
        ChangePaths(4, [[0, 3, 4, 6]]),
        RestoreLink(0, 2),
    ]
    arrays, flows = _snapshot(nsfnet)
    one_by_one = nsfnet
    for e in edits:
        one_by_one = e.apply(one_by_one)
    _assert_same(apply_edits(nsfnet, edits), one_by_one)
    _assert_same(Edits((Edits(tuple(edits[:4])), *edits[4:])).apply(nsfnet), one_by_one)
    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(nsfnet, key), value)
    assert nsfnet.flows is flows and nsfnet.edit_state is None and nsfnet.scenario is not None
    assert one_by_one.scenario is None
    # an edited network is an input like any other
    arrays, flows = _snapshot(one_by_one)
    ids, state = one_by_one.link_id.copy(), one_by_one.edit_state
    apply_edits(one_by_one, [FailLink(1, 7, bidirectional=True), RestoreLink(2, 0), ChangeLink(0, 1, capacity=1e6)])
    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(one_by_one, key), value)
    assert one_by_one.flows is flows and one_by_one.edit_state is state
    np.testing.assert_array_equal(one_by_one.link_id, ids)


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (FailLink(0, 9), ScenarioError, "FailLink: link Palo Alto→Ithaca does not exist"),
        (FailLink(0, 99), UnknownNode, r"FailLink.dst: node 99 does not exist \(the topology has nodes 0..13\)"),
        (FailLink("Rome", 1), UnknownNode, "FailLink.src: unknown node 'Rome'"),
        (Edits((FailLink(0, 1), FailLink(0, 1))), ScenarioError, "FailLink: link Palo Alto→Seattle is down"),
        (RestoreLink(0, 1), ScenarioError, "RestoreLink: link Palo Alto→Seattle is up"),
        (
            Edits((FailNode(1, unreachable="drop"), RestoreLink(0, 1))),
            ScenarioError,
            "RestoreLink: link Palo Alto→Seattle is down with its node; restore the node",
        ),
        (RestoreNode(1), ScenarioError, "RestoreNode.node: node 'Seattle' is not down"),
        (
            ChangeLink(0, 1, capacity=0),
            ScenarioError,
            "ChangeLink.capacity: must be > 0 and at most 1000 Tbps, got 0 bit/s",
        ),
        (ChangeLink(0, 1, capacity="10Mbs"), ScenarioError, "ChangeLink.capacity: cannot read '10Mbs' as a rate"),
        (ChangeLink(0, 1, delay=-1), ScenarioError, "ChangeLink.delay: "),
        (ChangeLink(0, 1, buffer=-1), ScenarioError, "ChangeLink.buffer: "),
        (ChangeLink(0, 1, weight=float("nan")), ScenarioError, "ChangeLink.weight: must be a finite number > 0"),
        (ChangeLink(0, 1), ScenarioError, "ChangeLink: give capacity, delay, buffer or weight"),
        (AddLink(0, 0), ScenarioError, "AddLink: a link cannot connect node 'Palo Alto' to itself"),
        (ChangeRate(999, 1e6), ScenarioError, r"ChangeRate.flow: no flow 999 \(the network has flows 0..181\)"),
        (ChangeRate(0, -1), ScenarioError, "ChangeRate.rate: "),
        (ChangeDestination(0, 0), ScenarioError, "ChangeDestination: src and dst are the same node 'Palo Alto'"),
        (ChangePaths(0, [[0, 2, 1, 3]]), ScenarioError, r"ChangePaths.paths\[0\]: must start at the flow's src"),
        (ChangePaths(0, [[0, 9, 1]]), ScenarioError, r"ChangePaths.paths\[0\]: not contiguous, there is no link"),
        (ChangePaths(0, [[0, 1], [0, 2, 1]], shares=[1]), ScenarioError, "ChangePaths: a split flow needs one share"),
        (ChangePaths(0, [0, 1]), ScenarioError, r"ChangePaths.paths\[0\]: a path is a list of nodes, got 0"),
        (AddFlow({"src": 0, "dst": 1}), ScenarioError, "AddFlow.flow.traffic: Field required"),
        (
            Edits((FailNode(5, unreachable="drop"), AddFlow({"src": 0, "dst": 5, "traffic": POISSON}))),
            ScenarioError,
            "AddFlow: node 'Houston' is down",
        ),
    ],
)
def test_bad_edits_say_what_is_wrong_in_one_line(nsfnet, edit, error, message):
    with pytest.raises(error, match=f"^{message}") as err:
        edit.apply(nsfnet)
    assert "\n" not in str(err.value)


def test_edits_refuse_bad_values_when_made():
    with pytest.raises(ScenarioError, match=r"^FailLink.unreachable: 'error' or 'drop', got 'Drop'$"):
        FailLink(0, 1, unreachable="Drop")
    with pytest.raises(ScenarioError, match=r"^Edits.edits\[1\]: not an edit, got 'fail'$"):
        Edits((FailLink(0, 1), "fail"))


def test_removing_the_last_flow_is_refused():
    net = build_network(
        parse_scenario({"topology": {"builtin": "nsfnet"}, "flows": [{"src": 0, "dst": 1, "traffic": POISSON}]})
    )
    with pytest.raises(ScenarioError, match=r"^RemoveFlow.flow: flow 0 is the network's only flow"):
        RemoveFlow(0).apply(net)


def test_a_rerouted_flow_needs_its_class_queue_on_its_new_path():
    data = load_scenario(EXAMPLES / "qos.yaml").model_dump()
    data["topology"]["overrides"].append({"src": 0, "dst": 1, "scheduler": {"policy": "sp", "queues": [{}]}})
    net = build_network(parse_scenario(data))
    with pytest.raises(ScenarioError, match=r"^FailLink: flows\[\d\]\.tos: class 1 needs queue 1, but link "):
        FailLink(0, 2).apply(net)


def test_an_added_flow_is_named_by_its_index_when_its_class_has_no_queue():
    net = build_network(load_scenario(EXAMPLES / "qos.yaml"))
    flow = {"src": 2, "dst": 5, "path": [2, 5], "tos": 3, "traffic": POISSON}
    with pytest.raises(
        ScenarioError, match=rf"^flows\[{net.n_flows}\]\.tos: class 3 needs queue 3, but link San Diego→Houston "
    ):
        AddFlow(flow).apply(net)


# ---------------------------------------------------------------------------------------------- to_scenario


@pytest.mark.parametrize(
    "data",
    [
        _all_pairs({"builtin": "nsfnet"}),
        _all_pairs({"builtin": "geant2"}, {"policy": "ecmp"}, n=24),
        _all_pairs({"builtin": "gbn", "defaults": {"delay": "3ms"}}, {"weight": "delay"}, n=17),
    ],
    ids=["nsfnet", "geant2-ecmp", "gbn-by-delay"],
)
def test_to_scenario_round_trips_builtin_topologies(data):
    net = build_network(parse_scenario(data))
    _assert_same(build_network(to_scenario(net)), net)


NSFNET_EDITS = [
    FailLink(1, 2, bidirectional=True),
    ChangeLink(0, 3, capacity="3Mbps"),
    AddLink(0, 13, capacity="1Mbps"),
    ChangeRate(0, "120kbps"),
]
GRID_EDITS = [
    FailLink("r1c1", "r1c2", bidirectional=True),
    ChangeLink("r0c0", "r0c1", capacity="3Mbps"),
    AddLink("r0c0", "r3c3", delay="5ms"),
    ChangeRate(0, "4Mbps"),
]


@pytest.mark.parametrize(
    ("example", "edits"), [("qos.yaml", NSFNET_EDITS), ("multipath.yaml", GRID_EDITS), ("nsfnet.yaml", NSFNET_EDITS)]
)
def test_to_scenario_round_trips_examples_and_their_edits(example, edits):
    net = build_network(load_scenario(EXAMPLES / example))
    _assert_same(build_network(to_scenario(net)), net)
    edited = apply_edits(net, edits)
    assert edited.multipath == net.multipath
    _assert_same(build_network(to_scenario(edited)), edited, ids=False)


def test_to_scenario_refuses_what_a_scenario_cannot_say():
    data = {
        "name": "tiny",
        "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
        "flows": [{"src": "a", "dst": "b", "traffic": POISSON}],
        "simulation": {"duration": "1s"},
    }
    net = build_network(parse_scenario(data))
    slow = ChangeRate(0, "1bps").apply(net)
    with pytest.raises(ScenarioError, match=r"^to_scenario: simulation.duration: the flows are expected to send"):
        to_scenario(slow)
    wireless = build_network(
        parse_scenario(
            {
                "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 50}, "medium": "wireless"},
                "flows": [{"src": 0, "dst": 3, "traffic": POISSON}],
            }
        )
    )
    with pytest.raises(ScenarioError, match="^network edits apply to wired networks"):
        FailLink(0, 1).apply(wireless)
    with pytest.raises(ScenarioError, match="^to_scenario: writes wired networks"):
        to_scenario(wireless)


@pytest.mark.parametrize("engine", ["analytic", "builtin"])
def test_an_edited_network_simulates_as_the_scenario_it_writes(engine):
    data = load_scenario(EXAMPLES / "nsfnet.yaml").model_dump()
    data["simulation"].update(duration=5.0, warmup=0.5)
    net = build_network(parse_scenario(data))
    cut = apply_edits(net, [FailNode(7, unreachable="drop"), ChangeLink(0, 3, capacity="2Mbps")])
    [edited] = simulate(cut, engine=engine)
    [written] = simulate(build_network(to_scenario(cut)), engine=engine)
    assert edited.n_flows == cut.n_flows < net.n_flows
    for kpi in ("delay", "throughput", "drops"):
        np.testing.assert_array_equal(edited.kpi(kpi), written.kpi(kpi))
