"""Link-upgrade planning: the bottleneck is upgraded first, the front only falls, simulation confirms the plan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nettwin.errors import ManageError
from nettwin.manage.sla import parse_sla
from nettwin.manage.upgrades import plan_upgrades
from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.factory import make_twin

# a–b is the one bottleneck (1 Mbps carrying 750 kbps); every other link has ten times its capacity.
SCENARIO = {
    "topology": {
        "nodes": ["a", "b", "c", "d"],
        "links": [
            {"src": "b", "dst": "c", "capacity": "10Mbps", "bidirectional": True},
            {"src": "a", "dst": "b", "capacity": "1Mbps", "bidirectional": True},
            {"src": "c", "dst": "d", "capacity": "10Mbps", "bidirectional": True},
        ],
    },
    "flows": [
        {"src": "a", "dst": "d", "traffic": {"model": "poisson", "rate": "500kbps"}},
        {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "250kbps"}},
        {"src": "b", "dst": "d", "traffic": {"model": "poisson", "rate": "300kbps"}},
    ],
    "routing": {"policy": "shortest_path", "weight": "hops"},
    "simulation": {"duration": "2s", "seed": 1},
}


@pytest.fixture(scope="module")
def network():
    return build_network(parse_scenario(SCENARIO))


def test_the_bottleneck_is_upgraded_first_and_simulation_confirms_it(network, qt):
    report = plan_upgrades(qt, network, budget=1, runs=2)
    assert report.plan.upgrades == ["a–b"]
    ab = [
        i
        for i in range(network.n_links)
        if {network.nodes[network.link_src[i]], network.nodes[network.link_dst[i]]} == {"a", "b"}
    ]
    assert np.allclose(report.plan.network.capacity[ab], 2 * network.capacity[ab])
    assert report.plan.simulated < 0.7 * report.before.simulated
    # Upgrading any other link barely helps, in simulation too.
    random, degree = (next(b for b in report.baselines if b.rule == r) for r in ("random", "degree"))
    assert degree.upgrades == ["b–c"]
    assert report.plan.simulated < degree.simulated
    assert report.front[1]["simulated"] == report.plan.simulated
    assert report.front[0]["simulated"] == report.before.simulated


def test_the_front_never_rises_by_the_twin(network, qt):
    report = plan_upgrades(qt, network, budget=4, runs=0)
    twin = [p["twin"] for p in report.front]
    assert len(twin) == 5 and all(b <= a for a, b in zip(twin, twin[1:], strict=False))
    assert report.plan.twin == twin[-1] and report.before.twin == twin[0]
    assert report.evaluations == 1 + 4 * 3 + 3  # the network, 3 candidates per step, 3 baselines
    assert report.plan.simulated is None
    # Same seed, same plan and random baseline.
    again = plan_upgrades(qt, network, budget=4, runs=0)
    assert again.to_dict() | {"twin_seconds": 0} == report.to_dict() | {"twin_seconds": 0}


def test_budget_zero_changes_nothing(network, qt):
    report = plan_upgrades(qt, network, budget=0, runs=0)
    assert report.plan.upgrades == [] and report.plan.network is network
    assert report.plan.twin == report.before.twin
    assert all(b.upgrades == [] for b in report.baselines)


def test_the_sla_objective_counts_bounds_missed(network, qt):
    worst = float(np.max(qt.predict([network])[0]["delay"]))
    sla = parse_sla({"all": {"delay": f"{worst * 1e3 * 0.5:.6f}ms"}})
    report = plan_upgrades(qt, network, budget=2, objective="sla", sla=sla, runs=0)
    assert report.front[0]["twin"] >= 1 and report.plan.twin == 0
    assert report.plan.upgrades[0] == "a–b"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"budget": -1}, "budget: must be at least 0, got -1"),
        ({"factor": 1.0}, "factor: an upgrade must multiply capacity by more than 1, got 1"),
        ({"objective": "cost"}, "objective: must be one of delay, sla, got 'cost'"),
        ({"objective": "sla"}, "objective sla: give an SLA"),
        ({"runs": -2}, "runs: must be at least 0, got -2"),
    ],
)
def test_bad_options_are_refused_in_one_line(network, qt, options, message):
    with pytest.raises(ManageError) as err:
        plan_upgrades(qt, network, **{"budget": 1, **options})
    assert str(err.value) == message


def test_cli_writes_json_and_plot(tmp_path: Path, run_main):
    scenario, out = tmp_path / "line.yaml", tmp_path / "out"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    args = ("qt", str(scenario), "--budget", "2", "--runs", "1", "--format", "json", "--out", str(out))
    done = run_main("manage", "upgrades", *args)
    assert done.code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["plan"]["upgrades"][0] == "a–b" and len(report["front"]) == 3
    assert [b["rule"] for b in report["baselines"]] == ["utilisation", "degree", "random"]
    assert json.loads((out / "upgrades.json").read_text())["front"] == report["front"]
    assert (out / "upgrades.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_refuses_a_bad_objective_in_one_line(tmp_path: Path, run_main):
    scenario = tmp_path / "line.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    done = run_main("manage", "upgrades", "qt", str(scenario), "--objective", "sla")
    assert done.code != 0
    assert done.stderr.strip().splitlines() == ["error: objective sla: give an SLA"]


def test_sla_bounding_what_the_twin_does_not_predict_is_refused(network):
    delay_only = make_twin("qt", kpis=["delay"]).fit([])
    with pytest.raises(ManageError, match="the SLA bounds jitter, which the twin does not predict"):
        plan_upgrades(delay_only, network, objective="sla", sla=parse_sla({"all": {"jitter": "1ms"}}), budget=1)
