"""Scheduling as twin input: per-link policy and queue columns, per-flow class columns."""

from __future__ import annotations

import numpy as np

from nettwin.scenario import build_network, parse_scenario
from nettwin.sim.analytic import QueueingModel
from nettwin.twin import Twin
from nettwin.twin.graph import LINK_FEATURES, PATH_FEATURES, graph_from_network


def scheduled(second: dict | None = None):
    """a→b by strict priority (two queues), b→c by ``second`` (default WFQ 3:1); two flows of classes 0 and 1
    over both links, the same traffic."""
    second = second or {"policy": "wfq", "queues": [{"weight": 3}, {"weight": 1}]}
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["a", "b", "c"],
                    "defaults": {"capacity": "1Mbps", "buffer": 10},
                    "links": [
                        {
                            "src": "a",
                            "dst": "b",
                            "bidirectional": False,
                            "scheduler": {"policy": "sp", "queues": [{}, {}]},
                        },
                        {"src": "b", "dst": "c", "bidirectional": False, "scheduler": second},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "c", "tos": tos, "traffic": {"model": "poisson", "rate": "400kbps"}}
                    for tos in (0, 1)
                ],
            }
        )
    )


def test_the_link_columns_name_the_policy_and_its_queues():
    g = graph_from_network(scheduled())
    col = LINK_FEATURES.index
    np.testing.assert_array_equal(g.link_x[:, col("sp")], [1, 0])
    np.testing.assert_array_equal(g.link_x[:, col("wfq")], [0, 1])
    np.testing.assert_array_equal(g.link_x[:, col("fifo")] + g.link_x[:, col("drr")], [0, 0])
    np.testing.assert_array_equal(g.link_x[:, col("queues")], [2, 2])
    # the model solves strict priority exactly and takes the WFQ link as one FIFO queue of both buffers
    np.testing.assert_array_equal(g.link_x[:, col("qt_exact")], [1, 0])
    fifo = graph_from_network(scheduled({"policy": "fifo", "queues": [{"buffer": 20}]}))
    qt = [col(n) for n in ("qt_utilisation", "qt_blocking", "qt_delay")]
    np.testing.assert_allclose(g.link_x[:, qt], fifo.link_x[:, qt], rtol=1e-12)


def test_flows_of_different_classes_get_different_columns():
    g = graph_from_network(scheduled())
    col = PATH_FEATURES.index
    first, second = g.path_x
    assert (first[col("tos")], second[col("tos")]) == (0, 1)
    assert (first[col("priority")], second[col("priority")]) == (0, 1)
    assert (first[col("share")], second[col("share")]) == (0.75, 0.25)
    assert first[col("scheduled")] == second[col("scheduled")] == 1
    assert first[col("qt_exact")] == second[col("qt_exact")] == 0
    # strict priority: the higher class waits less, in the estimate as in the analytic engine
    assert first[col("qt_delay")] < second[col("qt_delay")]
    sp_only = scheduled({"policy": "fifo", "queues": [{}]})
    delays = QueueingModel().simulate(sp_only).flows["delay"]
    tx = graph_from_network(sp_only).path_x[:, col("tx_time")]
    queueing = delays - sp_only.delay.sum()  # both flows cross both links
    np.testing.assert_allclose(
        graph_from_network(sp_only).path_x[:, col("qt_delay")], np.log1p(queueing / tx), rtol=1e-12
    )
    # traffic and everything else about the two flows is the same
    same = [col(n) for n in ("rate", "mean_rate", "packet_size", "tx_time", "rate_ratio", "prop_ratio")]
    np.testing.assert_array_equal(first[same], second[same])


def test_a_twin_that_reads_the_classes_tells_them_apart():
    """Targets that depend on the class only: a twin given the class columns learns them, one blind to them
    cannot (it sees two identical flows)."""
    net = scheduled()
    pairs = [(net, {"delay": np.array([0.01, 0.03])})] * 8
    options = {"path": 16, "link": 8, "node": 8, "T": 1}
    seeing = Twin(
        "glance",
        epochs=60,
        patience=60,
        kpis=["delay"],
        lr=1e-2,
        options={**options, "path_features": ["rate", "tos", "priority", "share"]},
    ).fit(pairs)
    blind = Twin(
        "glance", epochs=60, patience=60, kpis=["delay"], lr=1e-2, options={**options, "path_features": ["rate"]}
    ).fit(pairs)
    seen, unseen = seeing.predict(net)["delay"], blind.predict(net)["delay"]
    assert abs(seen[1] - seen[0]) > 0.015
    assert abs(unseen[1] - unseen[0]) < 1e-6
