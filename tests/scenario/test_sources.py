"""Topology sources: built-ins, grids, topohub, GML/GraphML files, and the TopologyData invariants."""

import math

import networkx as nx
import numpy as np
import pytest

from nettwin.errors import ScenarioError
from nettwin.scenario import sources
from nettwin.scenario.sources import (
    BUILTIN_TOPOLOGIES,
    PROPAGATION_SPEED,
    TopologyData,
    builtin_topology,
    file_topology,
    grid_topology,
    topohub_keys,
    topohub_topology,
    topology_to_networkx,
)


def _is_simple(t: TopologyData) -> bool:
    pairs = [tuple(e) for e in t.edges]
    return (
        len(set(pairs)) == len(pairs) and all(u != v for u, v in pairs) and (t.directed or all(u < v for u, v in pairs))
    )


# ---------------------------------------------------------------------------------------- TopologyData


def test_edge_attrs_default_to_one_empty_dict_per_edge():
    t = TopologyData("line", ("a", "b", "c"), ((0, 1), (1, 2)))
    assert t.edge_attrs == ({}, {})
    assert t.edge_attrs[0] is not t.edge_attrs[1]
    assert (t.n_nodes, t.n_edges) == (3, 2)
    assert repr(t) == "TopologyData(name='line', nodes=3, edges=2, directed=False, positions=None)"


def test_topology_data_normalises_and_compares():
    t = TopologyData(
        "t",
        ["a", "b"],
        [(np.int64(0), np.int64(1))],
        positions=[[0, 0], [3, 4]],
        edge_attrs=[{"capacity": 10, "buffer": np.int64(4)}],
    )
    assert t.nodes == ("a", "b") and t.edges == ((0, 1),)
    assert type(t.edges[0][0]) is int
    assert t.positions.dtype == np.float64 and not t.positions.flags.writeable
    assert t.edge_attrs == ({"capacity": 10.0, "buffer": 4.0},)
    same = TopologyData(
        "t",
        ("a", "b"),
        ((0, 1),),
        positions=np.array([[0.0, 0.0], [3.0, 4.0]]),
        edge_attrs=({"capacity": 10.0, "buffer": 4.0},),
    )
    assert t == same
    assert t != TopologyData("t", ("a", "b"), ((0, 1),))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"nodes": ()}, r"at least one node"),
        ({"nodes": ("a", "a", "c")}, r"node name 'a' appears more than once"),
        ({"nodes": ("a", 1, "c")}, r"node 1 must have a non-empty string name, got 1"),
        ({"edges": ((0, 3),)}, r"edge 0 \(0, 3\) names a node outside 0..2"),
        ({"edges": ((1, 1),)}, r"edge 0 is a self loop on node 'b'"),
        ({"edges": ((1, 0),)}, r"edge 0 \(1, 0\) of an undirected topology must have u < v"),
        ({"edges": ((0, 1), (0, 1))}, r"edge 1 a–b appears more than once"),
        ({"edges": ((0, 1.5),)}, r"edge 0 must be a pair of node ids, got \(0, 1.5\)"),
        ({"edge_attrs": ({}, {})}, r"2 edge attribute entries for 1 edges"),
        ({"edge_attrs": ({"colour": 1.0},)}, r"unknown attribute 'colour'"),
        ({"edge_attrs": ({"capacity": 0.0},)}, r"capacity must be > 0 bit/s, got 0.0"),
        ({"edge_attrs": ({"delay": -1.0},)}, r"delay must be ≥ 0 s, got -1.0"),
        ({"edge_attrs": ({"delay": math.nan},)}, r"delay must be ≥ 0 s, got nan"),
        ({"edge_attrs": ({"buffer": 2.5},)}, r"buffer must be a whole number of packets ≥ 0, got 2.5"),
        ({"edge_attrs": ({"weight": "1"},)}, r"weight must be > 0, got '1'"),
        ({"positions": [[0, 0], [1, 1]]}, r"positions must have shape \(3, 2\), got \(2, 2\)"),
        ({"positions": [[0, 0], [1, np.inf], [2, 2]]}, r"node 1 has a non-finite position"),
        ({"directed": 1}, r"directed must be true or false, got 1"),
    ],
)
def test_topology_data_rejects_bad_fields(kwargs, match):
    base = {"name": "bad", "nodes": ("a", "b", "c"), "edges": ((0, 1),)}
    with pytest.raises(ScenarioError, match=match) as info:
        TopologyData(**{**base, **kwargs})
    assert str(info.value).startswith("topology 'bad'")


def test_directed_topology_keeps_both_directions():
    t = TopologyData("d", ("a", "b"), ((1, 0), (0, 1)), directed=True)
    assert t.edges == ((1, 0), (0, 1))
    assert isinstance(topology_to_networkx(t), nx.DiGraph)


# ---------------------------------------------------------------------------------------- built-ins


@pytest.mark.parametrize(("name", "n_nodes", "n_edges"), [("nsfnet", 14, 21), ("geant2", 24, 37), ("gbn", 17, 26)])
def test_builtin_counts_and_connectivity(name, n_nodes, n_edges):
    t = builtin_topology(name)
    assert (t.name, t.n_nodes, t.n_edges, t.directed) == (name, n_nodes, n_edges, False)
    assert _is_simple(t)
    assert all(a == {} for a in t.edge_attrs)
    g = topology_to_networkx(t)
    assert nx.is_connected(g) and min(d for _, d in g.degree()) >= 2
    if t.positions is not None:
        assert t.positions.shape == (n_nodes, 2)


def test_nsfnet_is_the_routenet_graph():
    t = builtin_topology("nsfnet")
    expected = {
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 7),
        (2, 5),
        (3, 4),
        (3, 8),
        (4, 5),
        (4, 6),
        (5, 12),
        (5, 13),
        (6, 7),
        (7, 10),
        (8, 9),
        (8, 11),
        (9, 10),
        (9, 12),
        (10, 11),
        (10, 13),
        (11, 12),
    }
    assert set(t.edges) == expected
    # Positions are projected from coordinates: Seattle (1) is ~1200 km north of Palo Alto (0).
    seattle, palo_alto = t.positions[1], t.positions[0]
    assert 1000e3 < seattle[1] - palo_alto[1] < 1300e3


def test_builtin_is_case_insensitive_and_rejects_unknown_names():
    assert builtin_topology(" GBN ") == builtin_topology("gbn")
    with pytest.raises(ScenarioError, match=r"unknown built-in topology 'nsf'; choose one of nsfnet, geant2, gbn"):
        builtin_topology("nsf")
    assert BUILTIN_TOPOLOGIES == ("nsfnet", "geant2", "gbn")


# ---------------------------------------------------------------------------------------- grids


@pytest.mark.parametrize(("rows", "cols"), [(1, 2), (2, 1), (3, 3), (4, 7), (1, 10)])
def test_grid_counts(rows, cols):
    t = grid_topology(rows, cols, spacing=50.0)
    assert t.n_nodes == rows * cols
    assert t.n_edges == rows * (cols - 1) + cols * (rows - 1)
    assert _is_simple(t) and nx.is_connected(topology_to_networkx(t))
    lengths = [np.linalg.norm(t.positions[u] - t.positions[v]) for u, v in t.edges]
    assert np.allclose(lengths, 50.0)


def test_regular_grid_layout():
    t = grid_topology(2, 3, spacing=100.0)
    assert t.nodes == ("r0c0", "r0c1", "r0c2", "r1c0", "r1c1", "r1c2")
    assert t.positions.tolist() == [[0, 0], [100, 0], [200, 0], [0, 100], [100, 100], [200, 100]]
    assert t.name == "grid-2x3"


def test_perturbed_grid_stays_within_radius_and_is_seeded():
    regular = grid_topology(6, 6, spacing=100.0)
    a = grid_topology(6, 6, spacing=100.0, perturb=30.0, seed=7)
    b = grid_topology(6, 6, spacing=100.0, perturb=30.0, seed=7)
    c = grid_topology(6, 6, spacing=100.0, perturb=30.0, seed=8)
    offsets = np.linalg.norm(a.positions - regular.positions, axis=1)
    assert offsets.max() <= 30.0 and offsets.min() > 0
    assert np.array_equal(a.positions, b.positions) and a == b
    assert not np.allclose(a.positions, c.positions)
    assert a.edges == regular.edges and a.name == "pertgrid-6x6"


def test_perturbation_is_uniform_over_the_disc():
    t = grid_topology(100, 100, spacing=10.0, perturb=1.0, seed=0)
    r = np.linalg.norm(t.positions - grid_topology(100, 100, spacing=10.0).positions, axis=1)
    # Uniform in a disc: P(r <= 1/2) = 1/4, E[r] = 2/3.
    assert abs(np.mean(r <= 0.5) - 0.25) < 0.02
    assert abs(r.mean() - 2 / 3) < 0.01


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 3, 1.0), r"grid rows must be a whole number ≥ 1, got 0"),
        ((3, -1, 1.0), r"grid cols must be a whole number ≥ 1, got -1"),
        ((2.5, 3, 1.0), r"grid rows must be a whole number ≥ 1, got 2.5"),
        ((True, 3, 1.0), r"grid rows must be a whole number ≥ 1, got True"),
        ((1, 1, 1.0), r"at least 2 nodes, got 1×1"),
        ((2, 2, 0.0), r"grid spacing must be a finite number of metres > 0, got 0.0"),
        ((2, 2, math.inf), r"grid spacing .* got inf"),
        ((2, 2, 1.0, -1.0), r"grid perturb must be a finite number of metres ≥ 0, got -1.0"),
    ],
)
def test_grid_rejects_bad_parameters(args, match):
    with pytest.raises(ScenarioError, match=match):
        grid_topology(*args)


# ---------------------------------------------------------------------------------------- topohub


def _topohub_delays_match_haversine(t: TopologyData, lonlat: np.ndarray) -> None:
    for (u, v), attrs in zip(t.edges, t.edge_attrs, strict=True):
        distance = sources._haversine(lonlat[u, 0], lonlat[u, 1], lonlat[v, 0], lonlat[v, 1])
        if distance == 0:
            assert "delay" not in attrs
        else:
            assert attrs["delay"] == pytest.approx(distance / PROPAGATION_SPEED, rel=0.03, abs=2e-7)


def _lonlat(key: str) -> np.ndarray:
    import topohub

    return np.array([n["pos"] for n in topohub.get(key)["nodes"]], dtype=float)


def test_topohub_sndlib_geant():
    t = topohub_topology("sndlib/geant")
    assert (t.n_nodes, t.n_edges, t.directed) == (22, 36, False)
    assert _is_simple(t) and nx.is_connected(topology_to_networkx(t))
    assert t.positions.shape == (22, 2)
    assert all(set(a) == {"delay"} for a in t.edge_attrs)
    _topohub_delays_match_haversine(t, _lonlat("sndlib/geant"))
    # The equirectangular projection keeps link lengths near great-circle ones at continental scale.
    lonlat = _lonlat("sndlib/geant")
    ratio = np.array(
        [
            np.linalg.norm(t.positions[u] - t.positions[v])
            / sources._haversine(lonlat[u, 0], lonlat[u, 1], lonlat[v, 0], lonlat[v, 1])
            for u, v in t.edges
        ]
    )
    assert np.median(np.abs(ratio - 1)) < 0.05 and np.abs(ratio - 1).max() < 0.2


def test_topohub_topology_zoo_abilene():
    t = topohub_topology("topozoo/Abilene")
    assert (t.n_nodes, t.n_edges) == (11, 14)
    assert "New York" in t.nodes
    assert t.positions is not None
    _topohub_delays_match_haversine(t, _lonlat("topozoo/Abilene"))


def test_topohub_repeated_names_become_unique():
    import topohub

    key = "caida/2024-08/1853"
    raw = [n.get("name") for n in topohub.get(key)["nodes"]]
    t = topohub_topology(key)
    assert len(set(t.nodes)) == len(t.nodes) == len(raw)


def test_topohub_planar_gabriel_graph_uses_kilometres():
    t = topohub_topology("gabriel/25/0")
    assert t.n_nodes == 25
    for (u, v), attrs in zip(t.edges, t.edge_attrs, strict=True):
        length = np.linalg.norm(t.positions[u] - t.positions[v])
        assert attrs["delay"] == pytest.approx(length / PROPAGATION_SPEED, rel=1e-3)


def test_topohub_keys_are_listed_offline():
    keys = topohub_keys()
    assert len(keys) > 500
    assert {"sndlib/geant", "sndlib/abilene", "topozoo/Abilene", "gabriel/25/0"} <= set(keys)
    assert any(k.startswith("caida/") for k in keys) and any(k.startswith("backbone/") for k in keys)


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("sndlib/geantt", r"unknown topohub topology 'sndlib/geantt'; did you mean 'sndlib/geant'"),
        ("topozoo/abilene", r"did you mean 'topozoo/Abilene'\?"),
        ("nothing/here", r"unknown topohub topology 'nothing/here'\. .*topohub_keys\(\)"),
        ("../../etc/passwd", r"a topohub key looks like 'sndlib/geant', got '../../etc/passwd'"),
        ("", r"a topohub key looks like"),
    ],
)
def test_topohub_unknown_keys(key, match):
    with pytest.raises(ScenarioError, match=match):
        topohub_topology(key)


# ---------------------------------------------------------------------------------------- files


def _example_graph(directed: bool = False) -> nx.Graph:
    g = nx.DiGraph() if directed else nx.Graph()
    g.graph["name"] = "example"
    for name, x, y in (("a", 0.0, 0.0), ("b", 300.0, 0.0), ("c", 300.0, 400.0)):
        g.add_node(name, x=x, y=y)
    g.add_edge("a", "b", capacity="10Mbps", delay="2ms", buffer="16", weight=2)
    g.add_edge("b", "c", capacity=1e9, delay=0.5e-3, weight="1.5")
    g.add_edge("c", "a", buffer=8, colour="red")
    return g


def _write(g: nx.Graph, path) -> None:
    (nx.write_gml if path.suffix == ".gml" else nx.write_graphml)(g, path)


def _attrs_by_edge(t: TopologyData) -> dict[tuple[str, str], dict[str, float]]:
    return {(t.nodes[u], t.nodes[v]): a for (u, v), a in zip(t.edges, t.edge_attrs, strict=True)}


@pytest.mark.parametrize("suffix", [".gml", ".graphml"])
def test_file_round_trip(tmp_path, suffix):
    path = tmp_path / f"net{suffix}"
    _write(_example_graph(), path)
    t = file_topology(path)
    assert (t.name, t.nodes, t.directed) == ("example", ("a", "b", "c"), False)
    assert _is_simple(t)
    assert _attrs_by_edge(t) == {
        ("a", "b"): {"capacity": 1e7, "delay": 2e-3, "buffer": 16.0, "weight": 2.0},
        ("b", "c"): {"capacity": 1e9, "delay": 5e-4, "weight": 1.5},
        ("a", "c"): {"buffer": 8.0},
    }
    assert t.positions.tolist() == [[0, 0], [300, 0], [300, 400]]
    # Back to networkx: the written graph's structure, with SI attributes and positions.
    g = nx.relabel_nodes(topology_to_networkx(t), dict(enumerate(t.nodes)))
    assert set(map(frozenset, g.edges)) == set(map(frozenset, _example_graph().edges))
    assert g.edges["a", "b"]["capacity"] == 1e7 and g.nodes["c"]["pos"] == (300.0, 400.0)


def test_graphml_label_attribute_names_nodes(tmp_path):
    g = _example_graph()
    for n in g:
        g.nodes[n]["label"] = f"City {n.upper()}"
    path = tmp_path / "labels.graphml"
    _write(g, path)
    assert file_topology(path).nodes == ("City A", "City B", "City C")


@pytest.mark.parametrize("suffix", [".gml", ".graphml"])
def test_file_directed_graph_stays_directed(tmp_path, suffix):
    g = _example_graph(directed=True)
    g.add_edge("b", "a", capacity="5Mbps")
    path = tmp_path / f"net{suffix}"
    _write(g, path)
    t = file_topology(path)
    assert t.directed and _is_simple(t)
    by_edge = _attrs_by_edge(t)
    assert set(by_edge) == {("a", "b"), ("b", "c"), ("c", "a"), ("b", "a")}
    assert by_edge[("b", "a")] == {"capacity": 5e6}
    assert by_edge[("a", "b")]["capacity"] == 1e7


def test_file_topology_zoo_style_gml(tmp_path):
    path = tmp_path / "zoo.gml"
    path.write_text(
        """graph [
  label "Tiny"
  multigraph 1
  node [ id 0 label "Vienna" Longitude 16.37 Latitude 48.21 ]
  node [ id 1 label "Prague" Longitude 14.42 Latitude 50.09 ]
  node [ id 2 label "Vienna" Longitude 16.40 Latitude 48.20 ]
  edge [ source 0 target 1 LinkSpeedRaw 1000000000.0 ]
  edge [ source 1 target 0 LinkSpeedRaw 10000000.0 ]
  edge [ source 1 target 2 ]
  edge [ source 2 target 2 ]
]
""",
        encoding="utf-8",
    )
    t = file_topology(path)
    assert t.name == "Tiny"
    assert t.nodes == ("Vienna", "Prague", "Vienna-2")
    assert t.edges == ((0, 1), (1, 2))  # parallel edge and self loop dropped, the first edge wins
    assert t.edge_attrs == ({"capacity": 1e9}, {})
    distance = sources._haversine(16.37, 48.21, 14.42, 50.09)
    assert np.linalg.norm(t.positions[0] - t.positions[1]) == pytest.approx(distance, rel=0.01)


def test_gml_numbers_with_an_exponent_and_no_point_are_numbers(tmp_path):
    path = tmp_path / "exp.gml"
    path.write_text(
        'graph [ node [ id 0 label "1e9" ] node [ id 1 label "b" ] node [ id 2 label "c" ]\n'
        "  edge [ source 0 target 1 capacity 1e9 ] edge [ source 1 target 2 capacity 2E-3 delay +5e-3 ] ]\n"
    )
    t = file_topology(path)
    assert t.nodes == ("1e9", "b", "c")  # quoted text is left as it is
    assert t.edge_attrs == ({"capacity": 1e9}, {"capacity": 2e-3, "delay": 5e-3})


def test_file_without_positions_or_labels(tmp_path):
    g = nx.path_graph(4)
    g.nodes[2]["x"] = 1.0
    path = tmp_path / "p.graphml"
    nx.write_graphml(g, path)
    t = file_topology(path)
    assert t.nodes == ("0", "1", "2", "3") and t.positions is None and t.name == "p"


def test_file_disconnected_graph_keeps_all_nodes(tmp_path):
    g = nx.Graph([(0, 1), (2, 3)])
    path = tmp_path / "two.gml"
    nx.write_gml(g, path)
    t = file_topology(path)
    assert t.n_nodes == 4 and t.n_edges == 2


def test_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"topology file '.*missing\.gml' does not exist"):
        file_topology(tmp_path / "missing.gml")
    txt = tmp_path / "net.txt"
    txt.write_text("0 1\n")
    with pytest.raises(ScenarioError, match=r"cannot read topology file '.*net\.txt': the extension must be"):
        file_topology(txt)
    broken = tmp_path / "broken.gml"
    broken.write_text("graph [ node [ id 0 ]\n")
    with pytest.raises(ScenarioError, match=r"cannot read topology file '.*broken\.gml' as GML: "):
        file_topology(broken)
    bad_xml = tmp_path / "broken.graphml"
    bad_xml.write_text("<graphml><graph>")
    with pytest.raises(ScenarioError, match=r"cannot read topology file '.*broken\.graphml' as GraphML: "):
        file_topology(bad_xml)
    empty = tmp_path / "empty.gml"
    nx.write_gml(nx.Graph(), empty)
    with pytest.raises(ScenarioError, match=r"topology file '.*empty\.gml' has no nodes"):
        file_topology(empty)


@pytest.mark.parametrize(
    ("attrs", "match"),
    [
        ({"capacity": "10Mbs"}, r"edge A–B: cannot read '10Mbs' as a rate"),
        ({"delay": "soon"}, r"edge A–B: cannot read 'soon' as a duration"),
        ({"buffer": "2.5"}, r"edge A–B: cannot read '2.5' as a count"),
        ({"weight": "heavy"}, r"edge A–B: weight must be a number > 0, got 'heavy'"),
        ({"weight": -1}, r"edge A–B: weight must be a number > 0, got -1"),
        ({"capacity": 0}, r"edge A–B: capacity must be > 0, got 0"),
    ],
)
def test_file_bad_attribute_values_name_the_file(tmp_path, attrs, match):
    g = nx.Graph()
    g.add_edge("A", "B", **attrs)
    path = tmp_path / "bad.gml"
    nx.write_gml(g, path)
    with pytest.raises(ScenarioError, match=r"topology file '.*bad\.gml': " + match):
        file_topology(path)


# ---------------------------------------------------------------------------------------- helpers


def test_haversine_and_projection():
    # A quarter of a meridian, and one degree of longitude on the equator.
    assert sources._haversine(0.0, 0.0, 0.0, 90.0) == pytest.approx(math.pi / 2 * sources.EARTH_RADIUS)
    assert sources._haversine(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-4)
    xy = sources._project(np.array([179.5, -179.5]), np.array([0.0, 0.0]))
    assert np.linalg.norm(xy[0] - xy[1]) == pytest.approx(111_195, rel=1e-4)  # across the antimeridian
    assert np.allclose(xy.mean(axis=0), 0.0, atol=1e-6)
