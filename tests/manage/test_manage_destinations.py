"""Flow destinations by hill climbing through queueing theory's twin: monotone, seeded, optimal on a tiny network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nettwin.errors import ManageError
from nettwin.manage.destinations import (
    DestinationSearch,
    SLAGoal,
    TargetProfile,
    choose_destinations,
    exhaustive_search,
    random_search,
    reachable_destinations,
    search_destinations,
    with_destinations,
)
from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.factory import make_twin

KPIS = ["delay", "throughput", "drops"]


def _scenario(nodes: int = 5, flows: int = 3, duration: str = "2s") -> dict:
    """A ring of ``nodes`` with one chord, slow links so that destinations matter, ``flows`` flows."""
    names = [f"n{i}" for i in range(nodes)]
    links = [{"src": names[i], "dst": names[(i + 1) % nodes], "capacity": "1Mbps"} for i in range(nodes)]
    links.append({"src": names[0], "dst": names[2], "capacity": "300kbps"})
    rates = ["400kbps", "250kbps", "300kbps", "200kbps"]
    return {
        "name": "ring",
        "topology": {"nodes": names, "links": links, "defaults": {"delay": "1ms", "buffer": 16}},
        "flows": [
            {"src": names[i], "dst": names[(i + 1) % nodes], "traffic": {"model": "poisson", "rate": rates[i]}}
            for i in range(flows)
        ],
        "simulation": {"duration": duration, "warmup": "0.2s", "seed": 3},
    }


def _network(nodes: int = 5, flows: int = 3, duration: str = "2s"):
    return build_network(parse_scenario(_scenario(nodes, flows, duration)))


@pytest.fixture(scope="module")
def twin():
    return make_twin("qt", kpis=KPIS).fit([])


def _target(network, twin, destinations):
    """The twin's KPIs of ``network`` with ``destinations``: a target profile some configuration meets exactly."""
    return twin.predict(with_destinations(network, destinations))


def test_hill_climbing_never_accepts_a_worse_configuration(twin):
    net = _network()
    goal = TargetProfile(_target(net, twin, [3, 4, 0]))
    found = search_destinations(net, twin, goal, restarts=3, starts=4, seed=1)
    for restart in found.restarts:
        trace = restart["trace"]
        assert trace[0] == restart["start_loss"] and trace[-1] == restart["loss"]
        assert all(b < a for a, b in zip(trace, trace[1:], strict=False)), trace
        assert len(trace) == restart["steps"] + 1
    assert found.history == sorted(found.history, reverse=True)
    assert found.loss == min(r["loss"] for r in found.restarts)
    # the loss reported is the twin's of the network returned
    assert goal.loss(twin.predict(found.network)) == pytest.approx(found.loss)


def test_same_seed_same_result_and_seeds_differ(twin):
    net = _network(nodes=6, flows=4)
    goal = TargetProfile(_target(net, twin, [3, 4, 5, 0]))
    a = search_destinations(net, twin, goal, restarts=2, starts=3, seed=7)
    b = search_destinations(net, twin, goal, restarts=2, starts=3, seed=7)
    c = search_destinations(net, twin, goal, restarts=2, starts=3, seed=8)
    assert a.restarts == b.restarts and np.array_equal(a.destinations, b.destinations)
    assert a.evaluations == b.evaluations
    assert a.restarts != c.restarts


def test_finds_the_exhaustive_optimum_on_a_tiny_network(twin):
    net = _network()
    goal = TargetProfile(_target(net, twin, [3, 4, 0]))
    best = exhaustive_search(net, twin, goal)
    assert best.evaluations == 4**3
    assert best.loss == pytest.approx(0.0, abs=1e-12)
    found = search_destinations(net, twin, goal, restarts=3, starts=5, seed=0)
    assert found.loss == pytest.approx(best.loss, abs=1e-12)
    # random search at the same budget is never better than the optimum
    assert random_search(net, twin, goal, found.evaluations, seed=0).loss >= best.loss


def test_destinations_never_equal_sources(twin):
    net = _network(nodes=6, flows=4)
    for r, f in zip(reachable_destinations(net), net.flows, strict=True):
        assert f.src not in r and len(r) == net.n_nodes - 1
    goal = TargetProfile({"delay": np.zeros(net.n_flows)})  # as short as can be: each flow wants its source
    found = search_destinations(net, twin, goal, restarts=2, starts=5, seed=2)
    assert all(found.network.flows[i].src != d for i, d in enumerate(found.destinations))
    assert [f.dst for f in found.network.flows] == found.destinations.tolist()


def test_sla_goal_counts_missed_bounds_first(twin):
    net = _network()
    pred = twin.predict(net)
    bounds = {"delay": pred["delay"] * 1.01}
    goal = SLAGoal(bounds, net)
    assert goal.loss(pred) < 1e-12  # every bound met
    worse = {"delay": pred["delay"] * np.array([1.5, 1.0, 1.0])}
    much_worse = {"delay": pred["delay"] * np.array([1.2, 1.2, 1.0])}
    assert goal.loss(worse) < goal.loss(much_worse)  # one bound missed beats two, however far


def test_choice_is_verified_by_simulation(twin):
    net = _network(duration="1s")
    target = _target(net, twin, [3, 4, 0])
    choice = choose_destinations(net, twin, target=target, runs=2, restarts=1, starts=2, seed=0)
    out = choice.to_dict()
    assert out["twin"] == "QT" and out["goal"] == "target"
    assert out["random_search"]["evaluations"] == out["search"]["evaluations"]
    for when in ("before", "after"):
        assert out[when]["runs"] == 2
        assert set(out[when]["metrics"]) == set(KPIS)
        assert 0.0 <= out[when]["metrics"]["delay"]["qos_failure"] <= 1.0
    assert [r["dst_after"] for r in out["flows"]] == [net.nodes[d] for d in choice.found.destinations]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "goal: give per-flow targets or SLA bounds, one of them"),
        ({"target": {"delay": np.ones(3)}, "bounds": {"delay": np.ones(3)}}, "one of them"),
        ({"target": {"delay": np.ones(2)}}, "targets.delay: 2 values for 3 flows"),
        ({"target": {"speed": np.ones(3)}}, "targets: unknown KPI 'speed'"),
        ({"target": {"jitter": np.ones(3)}}, "goal: the twin does not predict 'jitter'"),
        ({"bounds": {"delay": np.full(3, np.nan)}}, "sla: bounds no KPI of any flow"),
        ({"target": {"delay": np.ones(3)}, "restarts": 0}, "restarts: must be a whole number >= 1, got 0"),
        ({"target": {"delay": np.ones(3)}, "seed": -1}, "seed: must be a whole number >= 0, got -1"),
        ({"target": {"delay": np.ones(3)}, "runs": -1}, "runs: must be a whole number >= 0, got -1"),
    ],
)
def test_bad_inputs_give_one_clear_line(twin, kwargs, message):
    with pytest.raises(ManageError) as err:
        choose_destinations(_network(), twin, runs=kwargs.pop("runs", 0), **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_exhaustive_search_refuses_too_many_configurations(twin):
    net = _network(nodes=6, flows=4)
    with pytest.raises(ManageError, match="exhaustive search: 625 configurations, more than the limit of 100"):
        exhaustive_search(net, twin, TargetProfile({"delay": np.ones(4)}), limit=100)


def test_search_parameters_are_checked_when_made():
    with pytest.raises(ManageError, match="starts: must be a whole number >= 1"):
        DestinationSearch(starts=0)


@pytest.fixture
def cli(run_main):
    """``cli(ARGS)`` runs ``nettwin manage destinations ARGS`` in this process."""
    return lambda *args: run_main("manage", "destinations", *args)


def test_cli_writes_json_and_plot_for_an_sla(tmp_path: Path, cli):
    scenario, sla, out = tmp_path / "ring.yaml", tmp_path / "sla.yaml", tmp_path / "out"
    scenario.write_text(yaml.safe_dump(_scenario(duration="1s")))
    sla.write_text("all: {delay: 5ms, drop_rate: 1%}\n")
    args = [
        "qt",
        str(scenario),
        "--sla",
        str(sla),
        "--restarts",
        "2",
        "--starts",
        "3",
        "--runs",
        "1",
        "--select-runs",
        "1",
        "--exhaustive",
    ]
    done = cli(*args, "--out", str(out), "--format", "json")
    assert done.code == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["twin"] == "QT" and report["goal"] == "sla"
    assert len(report["search"]["restarts"]) == 2
    assert sum(row["chosen"] for row in report["selection"]) == 1
    assert report["exhaustive"]["evaluations"] == 4**3
    assert report["search"]["regret"] >= 0 and report["random_search"]["regret"] >= 0
    assert set(report["after"]["metrics"]["delay"]) >= {"qos_failure", "twin_mre"}
    assert json.loads((out / "destinations.json").read_text())["flows"] == report["flows"]
    assert (out / "destinations.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("goal", [[], ["--target", "t.yaml", "--sla", "s.yaml"]])
def test_cli_wants_one_goal_in_one_line(tmp_path: Path, goal: list[str], cli):
    scenario = tmp_path / "ring.yaml"
    scenario.write_text(yaml.safe_dump(_scenario()))
    done = cli("qt", str(scenario), *goal, "--out", str(tmp_path / "out"))
    assert done.code != 0
    assert done.stderr.strip().splitlines() == ["error: give --target FILE or --sla FILE, one of them"]


def test_simulation_picks_among_the_restarts_optima(twin):
    net = _network(duration="1s")
    target = _target(net, twin, [3, 4, 0])
    choice = choose_destinations(net, twin, target=target, runs=0, baseline=False, restarts=4, starts=1, seed=3)
    optima = choice.found.optima
    assert len(optima) == 4 and [loss for _, _, loss in optima] == [r["loss"] for r in choice.found.restarts]
    choice.select_by_simulation(runs=1)
    rows = choice.selection
    distinct = {tuple(d.tolist()) for d, _, _ in optima}
    assert len(rows) == len(distinct)
    [chosen] = [r for r in rows if r["chosen"]]
    assert chosen["simulated_loss"] == min(r["simulated_loss"] for r in rows)
    dst, network, loss = optima[chosen["restart"]]
    assert choice.network is network and np.array_equal(choice.found.destinations, dst)
    assert choice.found.loss == loss and choice.to_dict()["selection"] == rows
    assert choice.goal.loss(twin.predict(choice.network)) == pytest.approx(loss)


def test_exhaustive_comparison_gives_regrets(twin):
    net = _network()
    choice = choose_destinations(net, twin, target=_target(net, twin, [3, 4, 0]), runs=0, restarts=2, starts=3, seed=0)
    optimum = choice.compare_exhaustive()
    out = choice.to_dict()
    assert out["exhaustive"] == {"loss": optimum.loss, "evaluations": 64}
    assert out["search"]["regret"] == pytest.approx(choice.found.loss - optimum.loss) and out["search"]["regret"] >= 0
    assert out["random_search"]["regret"] == pytest.approx(choice.baseline.loss - optimum.loss)


def test_cli_refuses_an_exhaustive_search_too_large_before_searching(tmp_path: Path, cli):
    sla = tmp_path / "sla.yaml"
    sla.write_text("all: {delay: 30ms}\n")
    examples = Path(__file__).parents[2] / "examples"
    done = cli("qt", str(examples / "nsfnet.yaml"), "--sla", str(sla), "--exhaustive", "--out", str(tmp_path / "o"))
    assert done.code != 0 and "hill climbing" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --exhaustive: 3937376385699289 destination lists, more than 100000 to enumerate"
    ]
