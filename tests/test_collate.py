"""Stacking samples into one: indices shift by the running count of what they index, CSR pointers join, and each
entity knows its samples; the twins' and traffic engineering's batches stack through it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nettwin._collate import collate
from nettwin.scenario import build_network, parse_scenario
from nettwin.te import TEGraph, TEInstance, compute_paths
from nettwin.te.tensors import TEBatch
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, delay_parts, graph_from_network
from nettwin.twin.normalise import Normalisation

SIZES = {"node": "x", "edge": "src", "hop": "hops"}
INDEX = {"src": "node", "hops": "edge"}
POINTER = {"ptr": "hop"}


def _sample(x, src, ptr, hops):
    return {
        "x": np.asarray(x, float).reshape(-1, 2),
        "src": np.asarray(src, np.int64),
        "ptr": np.asarray(ptr, np.int64),
        "hops": np.asarray(hops, np.int64),
    }


A = _sample([[0, 1], [2, 3], [4, 5]], [2, 0], [0, 2, 2], [1, 0])  # 3 nodes, 2 edges, rows [1, 0] and []
B = _sample([[6, 7]], [0, 0, 0], [0, 1], [2])  # 1 node, 3 edges, one row [2]


def test_indices_shift_by_the_count_of_what_they_index_in_earlier_samples():
    c = collate([A, B], SIZES, INDEX, POINTER)
    assert c.arrays["x"].tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert c.arrays["src"].tolist() == [2, 0, 3, 3, 3]  # B's nodes start after A's 3
    assert c.arrays["hops"].tolist() == [1, 0, 4]  # B's edges start after A's 2
    assert c.arrays["src"].dtype == np.int64


def test_pointers_join_into_one_over_all_rows():
    c = collate([A, B], SIZES, INDEX, POINTER)
    ptr, hops = c.arrays["ptr"], c.arrays["hops"]
    assert ptr.tolist() == [0, 2, 2, 3]
    rows = [hops[ptr[i] : ptr[i + 1]].tolist() for i in range(len(ptr) - 1)]
    assert rows == [[1, 0], [], [4]]


def test_each_entity_has_its_offsets_counts_and_samples():
    c = collate([A, B], SIZES, INDEX, POINTER)
    assert c.n_samples == 2
    assert {e: o.tolist() for e, o in c.offsets.items()} == {"node": [0, 3, 4], "edge": [0, 2, 5], "hop": [0, 2, 3]}
    assert c.counts("edge").tolist() == [2, 3]
    assert c.membership("node").tolist() == [0, 0, 0, 1]
    assert c.membership("edge").tolist() == [0, 0, 1, 1, 1]


def test_a_sample_without_some_entity_takes_no_room():
    hollow = _sample(np.zeros((0, 2)), [], [0], [])  # no nodes, no edges, no rows
    c = collate([A, hollow, B], SIZES, INDEX, POINTER)
    assert c.offsets["node"].tolist() == [0, 3, 3, 4]
    assert c.membership("node").tolist() == [0, 0, 0, 2]
    assert c.arrays["src"].tolist() == [2, 0, 3, 3, 3] and c.arrays["ptr"].tolist() == [0, 2, 2, 3]
    edgeless = _sample([[8, 9]], [], [0], [])  # a node but no edges
    c = collate([edgeless, B], SIZES, INDEX, POINTER)
    assert c.arrays["src"].tolist() == [1, 1, 1] and c.arrays["hops"].tolist() == [2]  # it has no edges to skip
    assert c.membership("edge").tolist() == [1, 1, 1]


def test_counts_can_be_given_instead_of_read_from_an_array():
    c = collate([A, B], {**SIZES, "node": [10, 1]}, INDEX, POINTER)
    assert c.arrays["src"].tolist() == [2, 0, 10, 10, 10] and c.offsets["node"].tolist() == [0, 10, 11]


def test_no_samples_stack_to_empty_arrays_shaped_like_the_empty_ones_given():
    c = collate([], SIZES, INDEX, POINTER, empty=_sample(np.zeros((0, 2)), [], [0], []))
    assert c.n_samples == 0 and c.offsets["node"].tolist() == [0] and c.membership("node").tolist() == []
    assert c.arrays["x"].shape == (0, 2) and c.arrays["src"].dtype == np.int64 and c.arrays["ptr"].tolist() == [0]
    with pytest.raises(ValueError, match="nothing to stack"):
        collate([], SIZES, INDEX, POINTER)


# --- the twins' batch ---------------------------------------------------------------------------------------------


def _network(split: bool, capacity: str):
    """A diamond s -> {a, b} -> t; flow 0 from s to t (split 70/30 over both sides when ``split``), flow 1 a -> t."""
    first = {"src": "s", "dst": "t", "traffic": {"model": "poisson", "rate": "300kbps", "packet_size": 500}}
    if split:
        first["paths"] = [{"path": ["s", "a", "t"], "share": 0.7}, {"path": ["s", "b", "t"], "share": 0.3}]
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["s", "a", "b", "t"],
                    "defaults": {"capacity": capacity, "buffer": 8},
                    "links": [{"src": u, "dst": v} for u, v in (("s", "a"), ("a", "t"), ("s", "b"), ("b", "t"))],
                },
                "flows": [first, {"src": "a", "dst": "t", "traffic": {"model": "cbr", "rate": "100kbps"}}],
                "simulation": {"duration": "10s"},
            }
        )
    )


def _cat(arrays):
    return np.concatenate([np.asarray(a) for a in arrays])


def test_the_twins_batch_stacks_graphs_and_targets_with_offsets():
    graphs = [graph_from_network(_network(False, "1Mbps")), graph_from_network(_network(True, "2Mbps"))]
    assert [g.splits for g in graphs] == [False, True]
    targets = [
        {"delay": np.array([0.01, np.nan]), "tx_packets": np.array([700.0, np.nan])},
        {"delay": np.array([0.02, 0.03])},  # no observed packets: the expected ones stand
    ]
    norm = Normalisation.fit(graphs, targets, ["delay"])
    b = GraphBatch.collate(graphs, norm, targets, ["delay"], dtype=torch.float64)
    g0, g1 = graphs
    n0, l0, p0, f0 = g0.n_nodes, g0.n_links, g0.n_paths, g0.n_flows
    assert (b.node_counts, b.link_counts, b.path_counts, b.flow_counts) == ((4, 4), (8, 8), (2, 3), (2, 2))
    np.testing.assert_array_equal(b.link_raw, _cat([g0.link_x, g1.link_x]))
    np.testing.assert_array_equal(b.path_raw, _cat([g0.path_x, g1.path_x]))
    np.testing.assert_array_equal(b.node_x, norm.features("node", _cat([g0.node_x, g1.node_x])))
    for name in ("link_src", "link_dst", "flow_src", "flow_dst"):
        np.testing.assert_array_equal(getattr(b, name), _cat([getattr(g0, name), getattr(g1, name) + n0]))
    np.testing.assert_array_equal(b.path_links, _cat([g0.path_links, g1.path_links + l0]))
    np.testing.assert_array_equal(b.path_ptr, _cat([g0.path_ptr, g1.path_ptr[1:] + g0.path_ptr[-1]]))
    np.testing.assert_array_equal(b.path_graph, [0] * p0 + [1] * g1.n_paths)
    np.testing.assert_array_equal(b.path_flow, _cat([g0.route_flow, g1.route_flow + f0]))
    np.testing.assert_array_equal(b.path_share, _cat([g0.route_share, g1.route_share]))
    flow_tx, flow_propagation = (_cat([g0.flow_parts()[k], g1.flow_parts()[k]]) for k in (0, 1))
    np.testing.assert_array_equal(b.flow_tx_time, flow_tx)
    np.testing.assert_array_equal(b.flow_propagation, flow_propagation)
    np.testing.assert_array_equal(b.tx_time, delay_parts(_cat([g0.path_x, g1.path_x]))[0])
    expected = _cat([g0.path_packets, np.bincount(g1.route_flow, g1.path_packets)])
    expected[0] = 700.0  # observed
    np.testing.assert_array_equal(b.flow_packets, expected)
    np.testing.assert_array_equal(b.packets, b.path_share * b.flow_packets[b.path_flow])
    delay = _cat([targets[0]["delay"], targets[1]["delay"]])
    np.testing.assert_array_equal(b.y["delay"], norm.kpi("delay", delay, (flow_tx, flow_propagation)))


def test_a_twins_batch_of_no_graphs_is_empty_with_the_features_widths():
    graph = graph_from_network(_network(False, "1Mbps"))
    norm = Normalisation.fit([graph], [{"delay": np.array([0.01, 0.02])}], ["delay"])
    b = GraphBatch.collate([], norm, [], ["delay"])
    assert (b.n_graphs, b.n_nodes, b.n_links, b.n_paths, b.n_flows, b.n_hops) == (0, 0, 0, 0, 0, 0)
    assert b.node_x.shape == (0, len(NODE_FEATURES)) and b.link_x.shape == (0, len(LINK_FEATURES))
    assert b.path_x.shape == (0, len(PATH_FEATURES)) and b.path_ptr.tolist() == [0] and b.y["delay"].shape == (0,)


# --- traffic engineering's batch ----------------------------------------------------------------------------------


def _te_instances() -> list[TEInstance]:
    square = TEGraph.from_links(
        ["a", "b", "c", "d"], [("a", "b", 10.0), ("b", "c", 20.0), ("a", "c", 5.0), ("c", "d", 40.0)]
    )
    paths = compute_paths(square, k=2)
    failed = square.with_capacity(np.where(np.arange(square.n_links) == 0, 0.0, square.capacity))
    line = TEGraph.from_links(["x", "y"], [("x", "y", 4.0)])
    return [
        TEInstance(square, paths, np.arange(1.0, paths.n_pairs + 1)),
        TEInstance(line, compute_paths(line, k=1), np.array([1.0, 2.0])),
        TEInstance(failed, paths, np.full(paths.n_pairs, 3.0)),  # its paths over link 0 are dead
    ]


def test_traffic_engineerings_batch_stacks_instances_with_offsets():
    insts = _te_instances()
    b = TEBatch.from_instances(insts, torch.device("cpu"))
    links = np.cumsum([0] + [i.n_links for i in insts])
    pairs = np.cumsum([0] + [i.n_pairs for i in insts])
    paths = np.cumsum([0] + [i.n_paths for i in insts])
    scale = [np.median(i.graph.capacity[i.graph.capacity > 0]) for i in insts]
    assert (b.n_graphs, b.n_links, b.n_pairs, b.n_paths) == (3, links[-1], pairs[-1], paths[-1])
    np.testing.assert_array_equal(
        b.cap, _cat([i.graph.capacity / s for i, s in zip(insts, scale, strict=True)]).astype(np.float32)
    )
    np.testing.assert_array_equal(
        b.path_demand, _cat([i.path_demand / s for i, s in zip(insts, scale, strict=True)]).astype(np.float32)
    )
    np.testing.assert_array_equal(b.link_graph, np.repeat([0, 1, 2], np.diff(links)))
    np.testing.assert_array_equal(b.pair_graph, np.repeat([0, 1, 2], np.diff(pairs)))
    np.testing.assert_array_equal(
        b.nnz_path, _cat([i.paths.path_of_nnz + o for i, o in zip(insts, paths[:-1], strict=True)])
    )
    np.testing.assert_array_equal(
        b.nnz_link, _cat([i.paths.link_ids + o for i, o in zip(insts, links[:-1], strict=True)])
    )
    np.testing.assert_array_equal(
        b.path_pair, _cat([i.paths.path_pair + o for i, o in zip(insts, pairs[:-1], strict=True)])
    )
    np.testing.assert_array_equal(b.pair_size, _cat([np.diff(i.paths.pair_ptr) for i in insts]))
    crosses_0 = [0 in insts[2].paths.path(q) for q in range(insts[2].n_paths)]
    assert any(crosses_0)
    np.testing.assert_array_equal(b.path_alive, [True] * paths[2] + [not c for c in crosses_0])
    incidence = np.zeros((paths[-1], links[-1]), np.float32)  # block diagonal, one block per instance
    for i, q, e in zip(insts, paths[:-1], links[:-1], strict=True):
        incidence[q : q + i.n_paths, e : e + i.n_links] = i.paths.incidence(i.n_links).toarray()
    np.testing.assert_array_equal(b.path_link.to_dense(), incidence)
    np.testing.assert_array_equal(b.link_path.to_dense(), incidence.T)
    assert b.path_link.crow_indices().dtype == torch.int32 and b.link_path.col_indices().dtype == torch.int32
