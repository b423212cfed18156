"""Own-network TE: every kind of topology input refuses the same capacities with the same line; long CSV traffic
matrices leave no step out; --capacity on the command line."""

from __future__ import annotations

import json
import math

import pytest

from nettwin.te import TEError, make_instances
from nettwin.te.files import read_demands, read_topology
from nettwin.te.graph import TEGraph


@pytest.mark.parametrize("capacity", [0, 0.0, -1e9, math.nan, math.inf, True])
@pytest.mark.parametrize("topology", ["net.yaml", "net.gml"])
def test_a_scenario_and_a_gml_topology_refuse_the_same_capacity_with_the_same_line(net, topology, capacity):
    with pytest.raises(TEError) as err:
        read_topology(net / topology, capacity)
    assert str(err.value) == f"capacity must be a finite number of bit/s > 0, got {capacity!r}"


def test_a_zero_capacity_for_a_scenario_topology_is_refused_before_any_instance_is_built(net):
    with pytest.raises(TEError, match=r"^capacity must be a finite number of bit/s > 0, got 0$"):
        make_instances(net / "net.yaml", demands=[net / "tm.csv"], capacity=0)


def test_a_bad_link_capacity_names_the_link():
    with pytest.raises(
        TEError, match=r"^graph 'graph': link 2 \(b→c\): capacity must be a finite number of bit/s ≥ 0, got -5\.0$"
    ):
        TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", -5.0)])


@pytest.mark.parametrize(
    ("lines", "missing"),
    [(["0,a,b,1e9", "1,a,b,2e9", "3,a,b,3e9"], 2), (["1,a,b,1e9"], 0), (["2,a,b,1e9", "0,a,b,1e9"], 1)],
)
def test_a_long_csv_whose_steps_leave_one_out_names_the_file_and_the_missing_step(net, lines, missing):
    (net / "gap.csv").write_text("step,src,dst,demand\n" + "\n".join(lines) + "\n")
    graph = read_topology(net / "net.yaml")
    with pytest.raises(TEError) as err:
        read_demands(net / "gap.csv", graph)
    assert str(err.value).startswith(f"demand file '{net / 'gap.csv'}': no line for step {missing} (")


def test_a_step_without_traffic_is_a_line_with_demand_zero(net):
    (net / "quiet.csv").write_text("step,src,dst,demand\n0,a,b,1e9\n1,a,b,0\n2,a,b,3e9\n")
    d = read_demands(net / "quiet.csv", read_topology(net / "net.yaml"))
    assert d.shape == (3, 3, 3) and d[:, 0, 1].tolist() == [1e9, 0.0, 3e9]


def _cli(*args: str):
    from typer.testing import CliRunner

    from nettwin.cli.te import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("topology", ["net.yaml", "net.gml"])
def test_solve_with_capacity_gives_every_link_that_capacity(net, topology):
    # 20 Gbit/s a→b over a→b and a→c→b: 10 Gbit/s links everywhere make the optimum MLU 1 (it is 0.5 with the
    # topology's own 10/30/60 Gbit/s).
    res = _cli(
        "solve", "-t", str(net / topology), "-d", str(net / "tm.csv"), "--capacity", "10Gbps", "--format", "json"
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["optimum"] == pytest.approx(1.0)


def test_train_and_evaluate_take_capacity_too(net, tmp_path):
    (net / "four.csv").write_text("step,src,dst,demand\n" + "".join(f"{t},a,b,{t + 1}Gbps\n" for t in range(4)))
    ckpt = tmp_path / "m.pt"
    own = ["-t", str(net / "net.gml"), "-d", str(net / "four.csv"), "--capacity", "1Gbps"]
    res = _cli("train", *own, "--train-steps", "1", "--out", str(ckpt))
    assert res.exit_code == 0, res.output
    res = _cli("evaluate", *own, "--split", "all", "-m", str(ckpt), "--baselines", "ecmp", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["instances"] == 4


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("0", "--capacity: capacity must be a finite number of bit/s > 0, got 0.0"),
        ("-1Gbps", "--capacity: cannot read '-1Gbps' as a rate"),
        ("fast", "--capacity: cannot read 'fast' as a rate"),
    ],
)
def test_a_bad_capacity_is_one_line(net, text, match):
    res = _cli("solve", "-t", str(net / "net.gml"), "-d", str(net / "tm.csv"), f"--capacity={text}")
    assert isinstance(res.exception, TEError) and "\n" not in str(res.exception)
    assert str(res.exception).startswith(match)


def test_capacity_applies_to_a_topohub_topology_with_generated_traffic_too():
    inst = make_instances("sndlib/abilene", steps=2, capacity=1e9)[0]
    assert set(inst.graph.capacity.tolist()) == {1e9}


def test_a_scenario_link_that_the_capacity_scale_takes_to_zero_is_refused_naming_it(net):
    # Capacity 0 means a failed link to a TE graph; a GML file with one is refused, and so is this.
    (net / "tiny.yaml").write_text(
        "topology:\n  nodes: [a, b, c]\n  links:\n    - {src: a, dst: b, capacity: 1e-200}\n"
        "    - {src: a, dst: c, capacity: 30Gbps}\n  capacity_scale: 1e-200\n"
    )
    with pytest.raises(TEError) as err:
        read_topology(net / "tiny.yaml")
    assert str(err.value).startswith(f"{net / 'tiny.yaml'}: topology.capacity_scale: 1e-200 takes link a→b to 0 bit/s")
