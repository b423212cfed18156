"""QoS-aware routing through queueing theory's twin: the detour that meets an SLA, verified by simulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nettwin.errors import ManageError
from nettwin.manage.routing import candidate_paths, compare_routings, search_routes, with_routes
from nettwin.manage.sla import parse_sla
from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.factory import make_twin


def _scenario() -> dict:
    """a→b: a direct 60 ms link (the shortest path by hops) or a 4 ms detour through c; a second flow a→c.
    Links carry both directions."""
    return {
        "name": "detour",
        "topology": {
            "nodes": ["a", "b", "c"],
            "links": [
                {"src": "a", "dst": "b", "capacity": "1Mbps", "delay": "60ms"},
                {"src": "a", "dst": "c", "capacity": "1Mbps", "delay": "2ms"},
                {"src": "c", "dst": "b", "capacity": "1Mbps", "delay": "2ms"},
            ],
            "defaults": {"buffer": 32},
        },
        "flows": [
            {"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "200kbps"}},
            {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "100kbps"}},
        ],
        "simulation": {"duration": "2s", "warmup": "0.2s", "seed": 1},
    }


@pytest.fixture(scope="module")
def network():
    return build_network(parse_scenario(_scenario()))


def _bounds(network, sla=None):
    return parse_sla(sla or {"all": {"delay": "30ms"}}).bounds(network)


def test_candidates_are_te_paths_shortest_first(network):
    cands = candidate_paths(network, k=4)
    assert cands.nodes[0] == [["a", "b"], ["a", "c", "b"]]
    assert cands.nodes[1] == [["a", "c"], ["a", "b", "c"]]  # links are both ways
    routed = with_routes(network, cands, [1, 0])
    assert [list(r) for r in routed.flows[0].routes] == [cands.links[0][1]]


def test_search_finds_the_detour_and_simulation_confirms(network, qt):
    report = compare_routings(network, qt, _bounds(network), k=4, restarts=2, seed=0, runs=2)
    assert report.search.choice.tolist() == [1, 0]
    assert report.search.violations == 0 and report.search.worst_margin > 0
    # every restart's trace only improves: fewer bounds missed, or as many with a larger worst margin
    for restart in report.search.restarts:
        for (c0, w0), (c1, w1) in zip(restart["trace"], restart["trace"][1:], strict=False):
            assert c1 < c0 or (c1 == c0 and w1 > w0)
    figures = report.figures()
    assert figures["shortest"]["violations"] >= 1 and figures["shortest"]["worst_margin"] < 0
    assert figures["chosen"]["violations"] == 0 and figures["chosen"]["worst_margin"] > 0
    assert figures["chosen"]["mean_delay"] < figures["shortest"]["mean_delay"]
    # min-MLU spreads a→b over both paths: the least loaded routing, yet the SLA is missed
    assert figures["min_mlu"]["mlu"] < figures["chosen"]["mlu"]
    assert figures["min_mlu"]["violations"] >= 1
    assert report.to_dict()["paths"]["chosen"][0] == [["a", "c", "b"]]


def test_same_seed_same_routing(network, qt):
    bounds = _bounds(network, {"all": {"delay": "10ms"}})  # infeasible: the search maximises the worst margin
    a = search_routes(network, qt, bounds, restarts=3, seed=5)
    b = search_routes(network, qt, bounds, restarts=3, seed=5)
    assert a.choice.tolist() == b.choice.tolist() and a.worst_margin == b.worst_margin
    assert [r["start"].tolist() for r in a.restarts] == [r["start"].tolist() for r in b.restarts]
    assert a.violations >= 1 and np.isfinite(a.worst_margin)


def test_bad_inputs_are_refused_in_one_line(network, qt):
    with pytest.raises(ManageError, match="restarts: must be at least 1"):
        search_routes(network, qt, _bounds(network), restarts=0)
    with pytest.raises(ManageError, match="sla: bounds no KPI"):
        search_routes(network, qt, _bounds(network, {"flows": []}))
    with pytest.raises(ManageError, match="candidate paths: .*k"):
        candidate_paths(network, k=0)
    delay_only = make_twin("qt", kpis=["delay"]).fit([])
    with pytest.raises(ManageError, match="sla: bounds jitter, which the twin does not predict"):
        search_routes(network, delay_only, _bounds(network, {"all": {"jitter": "5ms"}}))


def test_cli_writes_table_json_and_plot(tmp_path, run_main):
    scenario, sla = tmp_path / "s.yaml", tmp_path / "sla.yaml"
    scenario.write_text(yaml.safe_dump(_scenario()))
    sla.write_text("all: {delay: 30ms}\n")
    out = tmp_path / "out"
    cmd = ["manage", "routing", "qt", str(scenario), "--sla", str(sla)]
    run = run_main(*cmd, "--runs", "1", "--out", str(out), "--format", "json")
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["options"]["chosen"]["violations"] == 0
    assert json.loads(Path(out / "routing.json").read_text())["search"]["choice"] == [1, 0]
    assert (out / "routing.png").read_bytes()[:4] == b"\x89PNG"
    missing = tmp_path / "missing.yaml"
    bad = run_main(*cmd[:-1], str(missing))
    assert bad.code != 0 and bad.stderr.strip().splitlines() == [f"error: {missing}: no such file"]
