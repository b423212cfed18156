"""What-if failures: flows move or are lost, the bottleneck ranks first, simulation checks the ranking."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from nettwin._json import dumps
from nettwin.cli.manage import app
from nettwin.errors import ManageError
from nettwin.manage.sla import parse_sla
from nettwin.manage.whatif import failures, whatif
from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.factory import make_twin

# a→b directly, or a→c→b over slow links: failing a–b pushes both flows onto the slow detour.
SCENARIO = {
    "topology": {
        "nodes": ["a", "b", "c", "d"],
        "links": [
            {"src": "a", "dst": "b", "capacity": "10Mbps", "bidirectional": True},
            {"src": "a", "dst": "c", "capacity": "1Mbps", "bidirectional": True},
            {"src": "c", "dst": "b", "capacity": "1Mbps", "bidirectional": True},
            {"src": "b", "dst": "d", "capacity": "10Mbps", "bidirectional": False},
        ],
    },
    "flows": [
        {"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps"}},
        {"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps"}},
        {"src": "b", "dst": "d", "traffic": {"model": "poisson", "rate": "100kbps"}},
    ],
    "routing": {"policy": "shortest_path", "weight": "hops"},
    "simulation": {"duration": "3s", "seed": 1},
}


@pytest.fixture(scope="module")
def network():
    return build_network(parse_scenario(SCENARIO))


def test_failures_list_links_once_nodes_and_distinct_samples(network):
    found = failures(network, k=2, samples=50, seed=3)
    kinds = [f.kind for f in found]
    assert kinds.count("link") == 4  # a–b, a–c, c–b both ways as one each; b→d one way
    assert kinds.count("node") == 4
    assert kinds.count("links") == 6  # every pair of the 4 links, fewer than the 50 asked for
    assert len({f.name for f in found}) == len(found)
    assert failures(network, k=2, samples=3, seed=3) == failures(network, k=2, samples=3, seed=3)
    assert len(failures(network, nodes=False, bidirectional=False)) == 7
    with pytest.raises(ManageError, match="k: must be between 2 and 4"):
        failures(network, k=5, samples=1)


def test_failing_the_direct_link_moves_the_flows_and_ranks_it_first(network, qt):
    sla = parse_sla({"all": {"delay": "20ms"}})
    report = whatif(qt, network, sla=sla, nodes=False)
    out = report.to_dict()
    first = out["ranking"][0]
    assert first["failure"] == "a–b"
    assert first["lost_flows"] == [] and first["sla_flows_missing"] == [0, 1]
    assert all(d > 0 for d in first["change"]["delay"][:2])
    assert first["change"]["delay"][2] == pytest.approx(0.0)
    # the flows now cross c
    failed = report.failures[report.ranking()[0]].edit.apply(network)
    assert [network.nodes[n] for n in failed.path_nodes(0)] == ["a", "c", "b"]
    assert all(r["flows_hurt"] == 0 for r in out["ranking"][1:] if r["failure"] != "b→d")


def test_lost_flows_are_reported_and_json_has_no_nan(network, qt):
    report = whatif(qt, network)
    out = json.loads(dumps(report.to_dict()))
    by_name = {r["failure"]: r for r in out["ranking"]}
    assert by_name["b→d"]["lost_flows"] == [2]
    assert by_name["b→d"]["change"]["delay"][2] is None  # a lost flow has no KPIs
    assert by_name["a"]["lost_flows"] == [0, 1]
    assert by_name["d"]["lost_flows"] == [2]
    assert out["kinds"] == {"link": 4, "node": 4, "links": 0}
    dumps(out)  # standard JSON: would raise on NaN


def test_verification_compares_rankings_with_simulation(network, qt):
    report = whatif(qt, network, sla=parse_sla({"all": {"delay": "20ms"}}), nodes=False, runs=1)
    agreement = report.to_dict()["agreement"]
    assert agreement["spearman"] > 0.5
    assert agreement["violations_found"] == 1.0  # both flows miss 20 ms after a–b fails, by twin and simulation
    sim_first = report.ranking(simulated=True)[0]
    assert report.failures[sim_first].name == "a–b"


def test_sla_naming_a_missing_flow_is_refused(network, qt):
    with pytest.raises(ManageError, match="flows\\[0\\].flow: no flow 9"):
        whatif(qt, network, sla=parse_sla({"flows": [{"flow": 9, "delay": "1ms"}]}))


def test_cli_writes_table_json_and_png(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    sla = tmp_path / "sla.yaml"
    sla.write_text("all: {delay: 20ms}\n")
    runner = CliRunner()
    res = runner.invoke(app, ["whatif", "qt", str(scenario), "--sla", str(sla), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "a–b" in res.output
    data = json.loads((tmp_path / "o" / "whatif.json").read_text())
    assert data["ranking"][0]["failure"] == "b" and data["ranking"][0]["lost_flows"] == [0, 1, 2]
    assert [r["failure"] for r in data["ranking"] if r["kind"] == "link"][0] == "a–b"
    assert (tmp_path / "o" / "whatif.png").read_bytes()[:4] == b"\x89PNG"
    res = runner.invoke(app, ["whatif", "qt", str(scenario), "--format", "json", "--no-nodes", "--samples", "2"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["kinds"] == {"link": 4, "node": 0, "links": 2}
    np.testing.assert_equal(len(json.loads(res.stdout)["ranking"]), 6)


def test_sla_bounding_what_the_twin_does_not_predict_is_refused(network):
    delay_only = make_twin("qt", kpis=["delay"]).fit([])
    with pytest.raises(ManageError, match="the SLA bounds jitter, which the twin does not predict"):
        whatif(delay_only, network, sla=parse_sla({"all": {"jitter": "1ms"}}))
