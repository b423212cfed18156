"""Traffic loads searched through a learned twin towards a target KPI profile (nettwin.manage.loads)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettwin.errors import ManageError
from nettwin.manage.loads import read_targets, resolve_targets, scaled_targets, search_loads
from nettwin.scenario import dump_scenario
from nettwin.scenario.edits import to_scenario
from nettwin.testing.twins import twin_data
from nettwin.twin import Twin

KPIS = ["delay", "jitter", "throughput", "drops"]


@pytest.fixture(scope="module")
def setup():
    """A tiny GLANCE twin (2 epochs on the battery's networks) and the ring with four flows (one on/off)."""
    nets, pairs = twin_data()
    twin = Twin("glance", kpis=KPIS, epochs=2, device="cpu").fit(pairs)
    return twin, nets[0]


def test_the_search_lowers_the_loss_within_the_bounds(setup):
    twin, net = setup
    targets = scaled_targets(twin, net, 1.6, ["delay", "throughput"])
    found = search_loads(twin, net, targets, restarts=3, steps=30, low=0.5, high=2.0)
    assert found.loss < 0.5 * found.start_loss
    assert found.history[-1] <= found.history[0]
    own = np.array([f.traffic.rate for f in net.flows])
    bottleneck = np.array([min(net.capacity[list(p)].min() for p in f.routes) for f in net.flows])
    assert np.all(found.rate >= 0.5 * own * (1 - 1e-12))
    assert np.all(found.rate <= np.minimum(2.0 * own, bottleneck) * (1 + 1e-12))
    # the found network is the original with this traffic: same paths, the rates and on/off periods found
    new = found.network
    assert [f.routes for f in new.flows] == [f.routes for f in net.flows]
    np.testing.assert_allclose([f.traffic.rate for f in new.flows], found.rate)
    onoff = [i for i, f in enumerate(net.flows) if f.traffic.model == "onoff"]
    assert onoff and all(new.flows[i].traffic.tau_on == pytest.approx(found.tau_on[i]) for i in onoff)
    assert np.all(np.isnan(np.delete(found.tau_on, onoff)))


def test_a_rate_never_exceeds_its_bottleneck(setup):
    twin, net = setup
    # a throughput far above any link's capacity pulls every rate up to its bound
    targets = {"throughput": np.full(net.n_flows, 1e9)}
    found = search_loads(twin, net, targets, restarts=2, steps=20, lr=0.5, high=1e4, within_training=False)
    bottleneck = np.array([min(net.capacity[list(p)].min() for p in f.routes) for f in net.flows])
    assert np.all(found.rate <= bottleneck * (1 + 1e-9))


def test_same_seed_same_result(setup):
    twin, net = setup
    targets = scaled_targets(twin, net, 0.7)
    a = search_loads(twin, net, targets, restarts=3, steps=5, seed=3)
    b = search_loads(twin, net, targets, restarts=3, steps=5, seed=3)
    np.testing.assert_array_equal(a.rate, b.rate)
    assert a.history == b.history


def test_a_target_equal_to_the_prediction_is_met_at_step_0(setup):
    twin, net = setup
    found = search_loads(twin, net, scaled_targets(twin, net, 1.0), restarts=4, steps=3)
    assert found.start_loss == 0.0
    assert found.best == 0 and found.loss < 1e-12
    np.testing.assert_array_equal(found.rate, [f.traffic.rate for f in net.flows])
    for k, v in found.predicted.items():
        np.testing.assert_allclose(v, found.targets[k], rtol=1e-5)


def test_target_files_in_human_units(setup, tmp_path):
    twin, net = setup
    path = tmp_path / "t.yaml"
    path.write_text("flows:\n  - {flow: 0, delay: 20ms, throughput: 40kbps}\n  - {flow: 2, drops: 3}\n")
    t = read_targets(path, net)
    assert t["delay"][0] == pytest.approx(0.02) and np.isnan(t["delay"][1])
    assert t["throughput"][0] == pytest.approx(4e4) and t["drops"][2] == 3
    assert set(resolve_targets(str(path), twin, net, ["delay"])) == {"delay"}
    assert set(resolve_targets("1.5", twin, net)) == set(KPIS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("flows: [{flow: 9, delay: 1ms}]", r"t.yaml: flows\[0\].flow: must be a flow index 0..3, got 9"),
        ("flows: [{flow: 0, delay: fast}]", r"t.yaml: flows\[0\].delay: "),
        ("flows: [{flow: 0, latency: 1ms}]", r"t.yaml: flows\[0\].latency: not a KPI"),
        ("flows: [{flow: 0, drops: -1}]", r"t.yaml: flows\[0\].drops: must be a finite value >= 0"),
        ("flows: []", r"t.yaml: flows: must be a non-empty list"),
        ("flows: [{flow: 0, delay: 1ms", r"t.yaml: not valid YAML"),
    ],
)
def test_bad_target_files_give_one_line(setup, tmp_path, text, message):
    _, net = setup
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ManageError, match=message) as err:
        read_targets(path, net)
    assert len(str(err.value).splitlines()) == 1


def test_refusals(setup, tmp_path):
    twin, net = setup
    with pytest.raises(ManageError, match="does not predict"):
        search_loads(twin, net, {"delay_p99": np.ones(net.n_flows)})
    with pytest.raises(ManageError, match="one value per flow"):
        search_loads(twin, net, {"delay": np.ones(2)})
    with pytest.raises(ManageError, match="none given"):
        search_loads(twin, net, {"delay": np.full(net.n_flows, np.nan)})
    with pytest.raises(ManageError, match="bounds"):
        search_loads(twin, net, {"delay": np.ones(net.n_flows)}, low=2.0)
    with pytest.raises(ManageError, match="scale"):
        resolve_targets("-1", twin, net)
    with pytest.raises(ManageError, match="no such file"):
        resolve_targets(str(tmp_path / "missing.json"), twin, net)


def test_the_found_configuration_is_verified_by_simulation(setup):
    twin, net = setup
    found = search_loads(twin, net, scaled_targets(twin, net, 1.2, ["throughput"]), restarts=2, steps=5)
    report = found.verify(runs=2, seed=1)
    m = report.metrics()["throughput"]
    assert m["eps"] is not None and m["eps_bm"] is not None and m["r2"] is not None
    json.dumps({"search": found.to_dict(), "verification": report.to_dict()})


def test_parameters_stay_within_what_the_twin_saw_in_training(setup):
    twin, net = setup
    seen = twin.ranges_.bounds["path.rate"]
    targets = {"throughput": np.full(net.n_flows, 1e9)}
    inside = search_loads(twin, net, targets, restarts=2, steps=20, lr=0.5, high=1e3)
    assert np.all(inside.rate <= seen[1] * (1 + 1e-9))
    anywhere = search_loads(twin, net, targets, restarts=2, steps=20, lr=0.5, high=1e3, within_training=False)
    assert np.any(anywhere.rate > seen[1] * 1.01)


@pytest.fixture
def files(setup, tmp_path):
    """The twin's checkpoint and the ring's scenario file, as the command takes them."""
    twin, net = setup
    ckpt = tmp_path / "glance.pt"
    twin.save(ckpt)
    scenario = tmp_path / "ring.yaml"
    scenario.write_text(json.dumps(dump_scenario(to_scenario(net))))
    return ckpt, scenario


def test_the_command_writes_a_table_json_and_a_plot(files, tmp_path, run_main):
    ckpt, scenario = files
    out = tmp_path / "report"
    args = ["manage", "loads", str(ckpt), str(scenario), "--target", "1.3", "--kpis", "delay,throughput"]
    result = run_main(*args, "--restarts", "2", "--steps", "3", "--runs", "2", "--out", str(out))
    assert result.code == 0, result.stderr
    assert "ε_gen" in result.stdout and "throughput" in result.stdout
    report = json.loads((out / "loads.json").read_text())
    assert set(report["verification"]["metrics"]) == {"delay", "throughput"}
    assert (out / "loads.png").read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.yaml"
    bad.write_text("flows: [{flow: 0, delay: soon}]")
    result = run_main("manage", "loads", str(ckpt), str(scenario), "--target", str(bad), "--out", str(out))
    assert result.code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "flows[0].delay" in result.stderr


def test_refused_settings_are_one_line_before_any_progress(files, run_main):
    ckpt, scenario = files
    result = run_main("manage", "loads", str(ckpt), str(scenario), "--target", "1.1", "--low", "0")
    assert result.code != 0
    assert result.stderr.strip().splitlines() == ["error: bounds: need 0 < low <= 1 <= high, got low=0.0, high=10.0"]
