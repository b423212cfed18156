"""Drawing samples: purity, what each variation does, and split assignment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _datasets import TINY_BASE, tiny_spec

from nettwin.data.sampling import draw_scenario, runs_for_split, sample_seed, split_assignment
from nettwin.data.spec import parse_dataset_spec
from nettwin.errors import DatasetError, ScenarioError
from nettwin.scenario import build_network
from nettwin.scenario.io import dump_scenario


def spec_of(**changes):
    return parse_dataset_spec(tiny_spec(**changes))


def test_a_sample_is_a_pure_function_of_spec_seed_and_id():
    a, b = spec_of(), spec_of()
    first = [dump_scenario(draw_scenario(a, i)) for i in range(10)]
    # another spec object, other order: the same samples
    assert [dump_scenario(draw_scenario(b, i)) for i in reversed(range(10))] == first[::-1]
    assert len({str(s) for s in first}) == 10
    other_seed = spec_of(seed=8)
    assert dump_scenario(draw_scenario(other_seed, 0)) != first[0]


def test_simulation_seed_and_engine():
    spec = spec_of(engine="analytic")
    sc = draw_scenario(spec, 4)
    assert sc.simulation.seed == sample_seed(spec.seed, 4)
    assert sc.simulation.engine == "analytic"
    assert sc.name == "tiny-4"
    assert len({sample_seed(7, i) for i in range(1000)}) == 1000


def test_out_of_range_sample():
    with pytest.raises(DatasetError, match=r"sample 10 does not exist; the spec has samples 0..9"):
        draw_scenario(spec_of(), 10)


def test_traffic_parameters_drawn_per_flow_from_the_set():
    spec = spec_of(samples=50)
    ons, offs = [], []
    for i in range(50):
        flows = draw_scenario(spec, i).flows
        onoff = [f.traffic for f in flows if f.traffic.model == "onoff"]
        ons += [t.tau_on for t in onoff]
        offs += [t.tau_off for t in onoff]
        # non-on/off flows are left alone
        assert flows[1].traffic.tau_on is None and flows[1].traffic.rate == 4e4
    assert set(ons) == {1.0, 2.0, 4.0} and set(offs) == {1.0, 2.0, 4.0}


def test_rate_and_packet_size_variation():
    spec = spec_of(traffic={"rate": {"uniform": ["10kbps", "20kbps"]}, "packet_size": {"choice": [100, 300]}})
    for i in range(5):
        for f in draw_scenario(spec, i).flows:
            assert 1e4 <= f.traffic.rate <= 2e4
            assert f.traffic.packet_size.mean in (100.0, 300.0)


def test_a_varied_packet_size_scales_each_size_law_to_the_drawn_mean():
    base = {**TINY_BASE, "flows": [dict(f) for f in TINY_BASE["flows"]]}
    laws = [
        {"dist": "uniform", "min": 100, "max": 300},
        {"dist": "discrete", "sizes": [100, 400], "probs": [0.5, 0.5]},
        {"dist": "binomial", "sizes": [50, 350], "p": 0.5},
    ]
    for flow, law in zip(base["flows"], laws, strict=True):
        flow["traffic"] = {**flow["traffic"], "packet_size": law}
    spec = spec_of(base=base, traffic={"packet_size": {"choice": [400]}})
    sizes = [f.traffic.packet_size for f in draw_scenario(spec, 0).flows]
    assert [p.dist for p in sizes] == ["uniform", "discrete", "binomial"]
    assert [p.mean_bytes for p in sizes] == pytest.approx([400, 400, 400])
    assert (sizes[0].min, sizes[0].max) == pytest.approx((200, 600))
    assert sizes[1].sizes == pytest.approx((160, 640)) and sizes[2].sizes == pytest.approx((100, 700))


def test_capacity_scale():
    spec = spec_of()
    for i in range(5):
        sc = draw_scenario(spec, i)
        net = build_network(sc)
        assert 0.5 <= sc.topology.capacity_scale <= 1.5
        assert np.allclose(net.capacity, 2e5 * sc.topology.capacity_scale)


def test_random_flows():
    flows = {"random": {"count": {"uniform": [20, 30]}, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    spec = spec_of(flows=flows, samples=5)
    counts = set()
    for i in range(5):
        sc = draw_scenario(spec, i)
        pairs = [(f.src, f.dst) for f in sc.flows]
        counts.add(len(pairs))
        assert 20 <= len(pairs) <= 30
        assert len(set(pairs)) == len(pairs)
        assert all(s != d and 0 <= s < 14 and 0 <= d < 14 for s, d in pairs)
    assert len(counts) > 1


def test_all_pairs_reachable_with_unique_random_flows():
    flows = {"random": {"count": 14 * 13, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    sc = draw_scenario(spec_of(flows=flows, samples=1), 0)
    assert {(f.src, f.dst) for f in sc.flows} == {(s, d) for s in range(14) for d in range(14) if s != d}


def test_too_many_unique_pairs():
    flows = {"random": {"count": 200, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    with pytest.raises(DatasetError, match="200 flows with unique_pairs, but the topology has only 182"):
        draw_scenario(spec_of(flows=flows), 0)
    flows["random"]["unique_pairs"] = False
    assert len(draw_scenario(spec_of(flows=flows), 0).flows) == 200


@pytest.mark.parametrize("model", ["uniform", "gravity"])
def test_traffic_matrix(model):
    matrix = {
        "model": model,
        "intensity": {"uniform": ["100kbps", "200kbps"]},
        "low": 0.2,
        "traffic": {"model": "poisson", "packet_size": 500},
    }
    spec = spec_of(flows={"matrix": matrix}, traffic={})
    sc = draw_scenario(spec, 0)
    assert len(sc.flows) == 14 * 13
    rate = np.zeros((14, 14))
    for f in sc.flows:
        assert f.traffic.model == "poisson" and f.traffic.packet_size.mean == 500
        rate[f.src, f.dst] = f.traffic.rate
    off = ~np.eye(14, dtype=bool)
    assert rate[off].max() <= 2e5 + 1e-6 and rate[off].min() >= 0.2 * 1e5 * (0.2 if model == "gravity" else 1) - 1e-6
    if model == "gravity":
        # rank one off the diagonal: r(a,b)·r(c,d) = r(a,d)·r(c,b)
        for a, b, c, d in [(0, 1, 2, 3), (4, 7, 9, 13), (1, 0, 3, 2)]:
            assert rate[a, b] * rate[c, d] == pytest.approx(rate[a, d] * rate[c, b])
        assert rate[off].max() == pytest.approx(max(r for r in rate[off]))


def test_link_weights_route_flows_on_cheapest_paths():
    spec = spec_of(routing={"link_weights": {"uniform": [1, 10]}})
    for i in range(3):
        sc = draw_scenario(spec, i)
        assert sc.routing.weight == "weight"
        net = build_network(sc)
        assert len(sc.topology.overrides) == net.n_links and len(np.unique(net.weight)) > 10
        for f in net.flows:
            cost = net.weight[list(f.path)].sum()
            # no single link detour does better than the chosen path: compare with a brute-force search
            assert cost == pytest.approx(_cheapest(net, f.src, f.dst))


def _cheapest(net, s, t):
    best = {s: 0.0}
    for _ in range(net.n_nodes):
        for link in range(net.n_links):
            u, v = int(net.link_src[link]), int(net.link_dst[link])
            if u in best and best[u] + net.weight[link] < best.get(v, np.inf):
                best[v] = best[u] + net.weight[link]
    return best[t]


def test_symmetric_link_weights():
    spec = spec_of(routing={"link_weights": {"uniform": [1, 10]}, "symmetric": True})
    net = build_network(draw_scenario(spec, 0))
    for link in range(net.n_links):
        back = net.link_index(int(net.link_dst[link]), int(net.link_src[link]))
        assert net.weight[link] == net.weight[back]


def test_topology_choices_and_failures_of_drawn_scenarios():
    small = {"nodes": ["a", "b", "c"], "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]}
    spec = spec_of(topology={"choices": [{"builtin": "nsfnet"}, small]}, samples=20)
    sources = set()
    for i in range(20):
        sc = draw_scenario(spec, i)
        sources.add(sc.topology.source)
        if sc.topology.source == "nodes":  # the base's fixed flows name nodes the small topology lacks
            with pytest.raises(ScenarioError, match="node 12 does not exist"):
                build_network(sc)
    assert sources == {"builtin", "nodes"}


def test_grid_perturbation_redrawn_per_sample():
    base = {**TINY_BASE, "topology": {"grid": {"rows": 3, "cols": 3, "spacing": 100}}}
    flows = {"random": {"count": 2, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    topology = {"perturb": {"uniform": [5, 20]}}
    spec = parse_dataset_spec({"base": base, "samples": 5, "flows": flows, "topology": topology})
    grids = [draw_scenario(spec, i).topology.grid for i in range(5)]
    assert all(5 <= g.perturb <= 20 for g in grids)
    assert len({g.seed for g in grids}) == 5
    positions = [build_network(draw_scenario(spec, i)).positions for i in range(2)]
    assert not np.allclose(positions[0], positions[1])


def test_split_assignment():
    spec = spec_of(samples=100)
    splits = split_assignment(spec)
    assert [int((splits == s).sum()) for s in ("train", "val", "test")] == [80, 10, 10]
    assert (split_assignment(spec_of(samples=100)) == splits).all()
    assert not (split_assignment(spec_of(samples=100, seed=1)) == splits).all()
    assert runs_for_split(spec, "test") == 3 and runs_for_split(spec, "train") == 1


def test_scenarios_build_and_differ_only_where_varied():
    spec = spec_of(samples=4)
    scenarios = [draw_scenario(spec, i) for i in range(4)]
    for a, b in itertools.combinations(scenarios, 2):
        assert [(f.src, f.dst) for f in a.flows] == [(f.src, f.dst) for f in b.flows]
        assert a.simulation.duration == b.simulation.duration == 5.0


def test_random_flows_name_nodes_of_numbered_topologies_by_name():
    base = {
        "topology": {"nodes": [5, 3, 1], "links": [{"src": 5, "dst": 3}, {"src": 3, "dst": 1}, {"src": 1, "dst": 5}]},
        "simulation": {"duration": "1s"},
    }
    random = {"random": {"count": 6, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    spec = parse_dataset_spec({"base": base, "samples": 2, "flows": random})
    net = build_network(draw_scenario(spec, 0))
    assert sorted((f.src, f.dst) for f in net.flows) == [(a, b) for a in range(3) for b in range(3) if a != b]
