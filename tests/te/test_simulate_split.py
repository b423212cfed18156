"""A TE split simulated with the built-in engine: per-flow KPIs and measured link utilisation next to the MLU."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettwin.te import LPSolver
from nettwin.te.files import read_network
from nettwin.te.network import network_instance
from nettwin.te.simulate import SPLIT_KPIS, simulate_split


def test_a_simulated_lp_split_loads_each_link_as_planned(net):
    network = read_network(net / "network.yaml")
    inst = network_instance(network)
    x = LPSolver().solve(inst)
    sim = simulate_split(network, inst, x, seed=5)
    assert sim.network.flows[0].route_shares == pytest.approx((0.25, 0.75))
    s = sim.summary
    assert s["mlu"] == pytest.approx(0.5) and s["mlu_planned"] == pytest.approx(0.5)
    # a→b and a→c planned at 0.5, c→b at 0.25, the reverse links idle
    assert sim.planned == pytest.approx([0.5, 0, 0.5, 0, 0.25, 0])
    assert sim.measured == pytest.approx(sim.planned, abs=0.05)
    assert s["utilisation_measured"] == pytest.approx(0.5, abs=0.05)
    # one flow: its delay lies between the direct path's propagation (1 ms) and a loaded detour's
    delay = sim.kpis["delay"][0]
    assert 1e-3 < delay < 10e-3 and s["delay_mean"] == s["delay_p95"] == delay
    assert sim.kpis["jitter"][0] > 0 and s["drops"] == sim.kpis["drops"][0] >= 0
    assert set(sim.kpis) == set(SPLIT_KPIS)


def test_a_simulated_split_is_seeded_and_averages_its_runs(net):
    network = read_network(net / "network.yaml")
    inst = network_instance(network)
    x = np.array([0.5, 0.5])
    one = simulate_split(network, inst, x, runs=2, seed=9)
    assert one.to_dict() == simulate_split(network, inst, x, runs=2, seed=9).to_dict()
    assert one.to_dict()["runs"] == 2 and one.to_dict()["seed"] == 9
    runs = [r.kpi("delay")[0] for r in one.results]
    assert runs[0] != runs[1] and one.kpis["delay"][0] == pytest.approx(np.mean(runs))
    # all on one path: nothing splits, and the path's KPIs are the flow's
    whole = simulate_split(network, inst, np.array([0.0, 1.0]), seed=9)
    assert whole.route_kpis is None and list(whole.flow_records()[0]["paths"][0]) == ["nodes", "share"]


def test_cli_solve_simulate_reports_kpis_per_flow_next_to_the_mlu(net, run_main):
    out = net / "result.json"
    res = run_main(
        "te", "solve", "-t", str(net / "network.yaml"), "--simulate", "--format", "json", "--out", str(out)
    )  # fmt: skip
    assert res.code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert json.loads(out.read_text())["simulation"] == doc["simulation"]
    sim = doc["simulation"]
    assert doc["mlu"] == pytest.approx(0.5) and sim["summary"]["mlu"] == doc["mlu"]
    assert sim["runs"] == 1 and sim["seed"] == 5  # the scenario's seed
    [flow] = sim["flows"]
    assert (flow["src"], flow["dst"], flow["rate"]) == ("a", "b", 20e6)
    assert [(p["nodes"], p["share"]) for p in flow["paths"]] == [
        (["a", "b"], pytest.approx(0.25)),
        (["a", "c", "b"], pytest.approx(0.75)),
    ]
    # each path's own delay: at least its propagation (1 ms a link) and transmission (0.8 ms at 10 Mbit/s, 0.27 +
    # 0.13 ms via c); the flow's delay lies between them, weighed by the packets each carries
    direct, detour = (p["delay"] for p in flow["paths"])
    assert direct > 1.8e-3 and detour > 2.4e-3
    assert flow["delay"] == pytest.approx(0.25 * direct + 0.75 * detour, rel=0.02)
    assert all(flow[k] is not None for k in ("delay", "jitter", "drops", "drop_rate"))
    for link in sim["links"]:
        assert link["measured"] == pytest.approx(link["planned"], abs=0.05)
    table = run_main("te", "solve", "-t", str(net / "network.yaml"), "--simulate", "--sim-seed", "7")
    assert table.code == 0, table.stderr
    assert "split summary" in table.stdout and "utilisation measured" in table.stdout
    assert "0.250 a-b (" in table.stdout and " ms) + 0.750 a-c-b (" in table.stdout and "seed 7" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-t", "{net}/net.gml"), "--simulate needs a scenario file (.yaml, .yml, .json) as --topology"),
        (("-t", "{net}/network.yaml", "--all"), "--all cannot be combined with --simulate"),
        (("-t", "{net}/network.yaml", "--capacity", "1Gbps"), "--capacity cannot be combined with --simulate"),
        (("-t", "{net}/bad.yaml"), "bad.yaml: flows[0].dst: unknown node 'z'"),
        (("-t", "{net}/network.yaml", "--runs", "0"), "Invalid value for '--runs'"),
        (("-t", "{net}/network.yaml", "--runs", "1001"), "--runs: must be between 1 and 1000, got 1001"),
    ],
)
def test_cli_simulate_errors_are_one_line(net, run_main, args, message):
    (net / "bad.yaml").write_text((net / "network.yaml").read_text().replace("dst: b, traffic", "dst: z, traffic"))
    res = run_main("te", "solve", "--simulate", *(a.format(net=net) for a in args))
    assert res.code != 0 and "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if message in line]
    assert len(errors) == 1, res.stderr


@pytest.mark.parametrize("option", [("--runs", "3"), ("--sim-seed", "2")])
def test_cli_simulation_options_without_simulate_are_refused(net, run_main, option):
    res = run_main("te", "solve", "-t", str(net / "network.yaml"), *option)
    assert res.code != 0
    assert "error: --runs and --sim-seed set up the simulation of the split: add --simulate" in res.stderr
