"""Random topologies: connected, reproducible by seed, named and placed as documented, refused in one line."""

import networkx as nx
import numpy as np
import pytest

from nettwin.errors import ScenarioError
from nettwin.scenario import build_network, dump_scenario, parse_scenario
from nettwin.scenario.sources import RANDOM_MODELS, random_topology, topology_to_networkx

FLOW = {"src": 0, "dst": 1, "traffic": {"model": "cbr", "rate": "10kbps"}}


def _scenario(random: dict) -> dict:
    return {"topology": {"random": random}, "flows": [FLOW]}


@pytest.mark.parametrize("model", RANDOM_MODELS)
@pytest.mark.parametrize("nodes", [2, 30, 120])
def test_every_model_gives_a_connected_graph_of_exactly_the_nodes_asked(model, nodes):
    t = random_topology(model, nodes, seed=5)
    graph = topology_to_networkx(t)
    assert t.n_nodes == nodes
    assert nx.is_connected(graph)
    assert t.nodes == tuple(str(i) for i in range(nodes))


@pytest.mark.parametrize("model", RANDOM_MODELS)
def test_the_same_seed_gives_the_same_graph_and_another_seed_another(model):
    a, b, c = random_topology(model, 40, seed=1), random_topology(model, 40, seed=1), random_topology(model, 40, seed=2)
    assert a == b
    assert a.edges != c.edges


def test_sparse_graphs_are_joined_by_one_link_per_extra_component():
    # p this small leaves most nodes isolated: each component but the largest gets exactly one joining link.
    raw = nx.fast_gnp_random_graph(60, 0.01, seed=4)
    parts = nx.number_connected_components(raw)
    assert parts > 10
    t = random_topology("erdos_renyi", 60, seed=4, p=0.01)
    assert t.n_edges == raw.number_of_edges() + parts - 1
    assert nx.is_connected(topology_to_networkx(t))


def test_positioned_models_join_components_by_their_closest_nodes():
    t = random_topology("geometric", 80, seed=2, radius=0.05, side=1000.0)
    raw = nx.random_geometric_graph(80, 0.05, seed=2)
    added = set(t.edges) - {(min(u, v), max(u, v)) for u, v in raw.edges}
    assert len(added) == nx.number_connected_components(raw) - 1
    parts = {n: frozenset(c) for c in nx.connected_components(raw) for n in c}
    for u, v in added:
        # the joining link is the shortest between the component of one end and every node outside it that it
        # could have reached: so no node of that component is closer to v than u is
        small = parts[u] if len(parts[u]) <= len(parts[v]) else parts[v]
        end, other = (u, v) if small is parts[u] else (v, u)
        length = np.linalg.norm(t.positions[end] - t.positions[other])
        assert length > 0.05 * 1000.0  # longer than the radius, or the generator would have linked them
        assert length <= min(np.linalg.norm(t.positions[n] - t.positions[other]) for n in small) + 1e-9


@pytest.mark.parametrize(
    ("model", "has_positions"), [("waxman", True), ("geometric", True), ("barabasi_albert", False)]
)
def test_positions_span_the_side_where_the_model_has_them(model, has_positions):
    t = random_topology(model, 50, seed=0, side=5000.0)
    if has_positions:
        assert t.positions.shape == (50, 2)
        assert t.positions.min() >= 0.0 and t.positions.max() <= 5000.0
        assert t.positions.max() > 2500.0
    else:
        assert t.positions is None


def test_barabasi_albert_links_each_new_node_m_times():
    t = random_topology("barabasi_albert", 100, seed=7, m=3)
    assert t.n_edges == 3 * (100 - 3)


def test_a_scenario_with_a_random_topology_builds_with_link_defaults():
    spec = _scenario({"model": "waxman", "nodes": 25, "seed": 3, "alpha": 0.2, "beta": 0.5, "side": "20km"})
    scenario = parse_scenario({**spec, "topology": {**spec["topology"], "defaults": {"capacity": "5Mbps"}}})
    network = build_network(scenario)
    assert network.n_nodes == 25
    assert network.n_links == 2 * random_topology("waxman", 25, seed=3, alpha=0.2, beta=0.5, side=20e3).n_edges
    assert np.all(network.capacity == 5e6)
    assert scenario.topology.source == "random"


@pytest.mark.parametrize(
    ("random", "message"),
    [
        ({"model": "smallworld", "nodes": 10}, r"^topology\.random\.model: Input should be 'waxman'"),
        ({"model": "waxman", "nodes": 1}, r"^topology\.random\.nodes: .*greater than or equal to 2"),
        ({"model": "waxman", "nodes": 20_000}, r"^topology\.random\.nodes: must be at most 10000"),
        ({"model": "waxman", "nodes": 10, "m": 2}, r"^topology\.random\.m: applies to barabasi_albert graphs only"),
        ({"model": "erdos_renyi", "nodes": 10, "side": 5}, r"^topology\.random\.side: applies to waxman and geometric"),
        ({"model": "barabasi_albert", "nodes": 5, "m": 5}, r"^topology\.random\.m: .*at most nodes − 1 \(4\)$"),
        ({"model": "erdos_renyi", "nodes": 10, "p": 1.5}, r"^topology\.random\.p: .*less than or equal to 1"),
        ({"model": "waxman", "nodes": 10, "beta": 0}, r"^topology\.random\.beta: .*greater than 0"),
        ({"model": "geometric", "nodes": 10, "radius": -1}, r"^topology\.random\.radius: .*greater than 0"),
        ({"model": "waxman", "nodes": 10, "seed": -1}, r"^topology\.random\.seed: "),
    ],
)
def test_bad_settings_are_one_line_naming_the_field(random, message):
    with pytest.raises(ScenarioError, match=message) as err:
        parse_scenario(_scenario(random))
    assert "\n" not in str(err.value)


def test_random_is_one_source_among_the_others():
    with pytest.raises(ScenarioError, match="exactly one topology source .* got builtin, random"):
        parse_scenario({"topology": {"builtin": "nsfnet", "random": {"model": "waxman", "nodes": 5}}, "flows": [FLOW]})


def test_the_python_function_refuses_what_the_format_refuses():
    with pytest.raises(ScenarioError, match="unknown random topology model 'tree'"):
        random_topology("tree", 10)
    with pytest.raises(ScenarioError, match="parameter m does not apply to waxman"):
        random_topology("waxman", 10, m=2)
    with pytest.raises(ScenarioError, match="between 1 and nodes − 1"):
        random_topology("barabasi_albert", 4, m=4)


def test_a_random_topology_round_trips_through_the_dump():
    scenario = parse_scenario(_scenario({"model": "geometric", "nodes": 20, "seed": 2, "side": "5km"}))
    dumped = dump_scenario(scenario)
    assert dumped["topology"] == {"random": {"model": "geometric", "nodes": 20, "seed": 2, "side": 5000.0}}
    assert parse_scenario(dumped) == scenario
