"""The user's own topology and traffic matrices, and split ratios written with node names."""

from __future__ import annotations

import json

import numpy as np
import pytest
from te_helpers import GML, SCENARIO

from nettwin.te import LPSolver, TEError, make_instances
from nettwin.te.files import read_demands, read_topology
from nettwin.te.paths import compute_paths
from nettwin.te.splits import apply_splits, read_splits, write_splits


@pytest.mark.parametrize("topology", ["net.yaml", "net.gml"])
def test_lp_optimum_on_two_parallel_routes_matches_the_analytic_one(net, topology):
    inst = make_instances(net / topology, demands=[net / "tm.csv"])[0]
    x = LPSolver().solve(inst)
    assert inst.mlu(x) == pytest.approx(20e9 / 40e9)
    assert x == pytest.approx([0.25, 0.75])  # direct first (fewer hops), then via c


def test_sndlib_native_demands_in_a_stated_unit(net):
    graph = read_topology(net / "net.gml")
    d = read_demands(net / "tm.txt", graph, unit="Mbps")
    assert d.shape == (1, 3, 3) and d[0, 0, 1] == 30e9 and d.sum() == 30e9
    inst = make_instances(graph, demands=d)[0]
    assert inst.mlu(LPSolver().solve(inst)) == pytest.approx(30e9 / 40e9)


def test_several_matrices_one_instance_each_sharing_paths(net):
    graph = read_topology(net / "net.yaml")
    (net / "long.csv").write_text("step,src,dst,demand\n0,a,b,4e10\n1,c,b,60Gbps\n")
    np.save(net / "tm.npy", np.stack([np.zeros((3, 3)), read_demands(net / "tm.csv", graph)[0]]))
    long = read_demands(net / "long.csv", graph)
    assert long.shape == (2, 3, 3) and long[0, 0, 1] == 40e9 and long[1, 2, 1] == 60e9
    insts = make_instances(net / "net.yaml", demands=[net / "long.csv", net / "tm.npy", net / "tm.csv"])
    assert [i.name for i in insts] == [f"two-routes/t={t:04d}" for t in range(5)]
    assert all(i.paths is insts[0].paths for i in insts) and insts[0].n_pairs == 2
    # c→b: 60 Gbit/s over c→b (60) and c→a→b (bottleneck 10): 6/7
    assert [i.mlu(LPSolver().solve(i)) for i in insts] == pytest.approx([1.0, 6 / 7, 0.0, 0.5, 0.5])


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_split_ratios_round_trip_with_node_names(net, suffix):
    insts = make_instances(net / "net.yaml", demands=[net / "tm.csv", net / "tm.txt"], demand_unit="Mbps")
    ratios = [LPSolver().solve(i) for i in insts]
    out = net / f"splits{suffix}"
    write_splits(out, insts, ratios)
    back = read_splits(out)
    assert list(back) == [i.name for i in insts]
    assert back[insts[0].name][("a", "b")] == [(("a", "b"), pytest.approx(0.25)), (("a", "c", "b"), 0.75)]
    for inst, x in zip(insts, ratios, strict=True):
        assert apply_splits(inst, back[inst.name]) == pytest.approx(x, abs=0)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", ",a,b,c\na,0,5,0\nz,0,0,0\n", "m.csv', line 3: unknown node 'z'"),
        ("m.csv", ",a,b,c\na,0,5\n", "m.csv', line 2: 3 fields, expected 4"),
        ("m.csv", ",a,b,c\na,0,-5,0\n", "m.csv', line 2, column 'b': a demand must be a finite rate ≥ 0, got '-5'"),
        ("m.csv", ",a,b,c\na,7,0,0\n", "m.csv', line 2: a node cannot send traffic to itself"),
        ("l.csv", "src,dst,demand\na,b,1\na,b,2\n", "l.csv', line 3: a second demand for the same pair"),
        ("d.txt", "DEMANDS (\n  D1 ( a b ) 1 5 UNLIMITED\n  D2 a c 1 5\n)\n", "d.txt', line 3: expected 'id ("),
        ("d.txt", "DEMANDS (\n  D1 ( a q ) 1 5 UNLIMITED\n)\n", "d.txt', line 2: unknown node 'q'"),
        ("d.txt", "NODES (\n a ( 0 0 )\n)\nstray\n", "d.txt', line 4: expected a section header"),
        ("d.txt", "LINKS (\n)\n", "d.txt': no DEMANDS section"),
    ],
)
def test_bad_demand_files_are_one_line_naming_file_and_line(net, name, text, message):
    (net / name).write_text(text)
    with pytest.raises(TEError) as err:
        read_demands(net / name, read_topology(net / "net.yaml"))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_npy_and_topology_files_name_file_and_field(net):
    graph = read_topology(net / "net.yaml")
    np.save(net / "m.npy", np.ones((2, 2)))
    with pytest.raises(TEError, match=r"m.npy': expected numbers of shape \(3, 3\)"):
        read_demands(net / "m.npy", graph)
    (net / "bad.yaml").write_text(SCENARIO.replace("capacity: 30Gbps", "capacity: 30Gbs"))
    with pytest.raises(TEError, match=r"bad.yaml: topology.links\[1\].capacity: cannot read '30Gbs'"):
        read_topology(net / "bad.yaml")
    (net / "nocap.gml").write_text(GML.replace(' capacity "30Gbps"', ""))
    with pytest.raises(TEError, match="nocap.gml': link a–c has no capacity"):
        read_topology(net / "nocap.gml")
    assert read_topology(net / "nocap.gml", capacity=1e9).capacity.tolist() == [1e9] * 6


def test_paths_report_progress_pair_by_pair(net):
    graph = read_topology(net / "net.gml")
    seen = []
    compute_paths(graph, None, k=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 6) for i in range(1, 7)]


def test_own_files_refuse_what_does_not_apply(net):
    with pytest.raises(TEError, match="dynamic sequences"):
        make_instances(net / "net.yaml", demands=[net / "tm.csv"], dynamic=True)
    with pytest.raises(TEError, match="traffic and endpoints apply to generated traffic"):
        make_instances(net / "net.yaml", demands=[net / "tm.csv"], traffic="gravity")
    assert len(make_instances(net / "net.yaml", steps=3)) == 3  # no demands: gravity traffic on the own graph


def test_cli_solves_every_matrix_and_writes_named_splits(net, run_main):
    splits = net / "s.csv"
    res = run_main(
        "te", "solve", "-t", str(net / "net.gml"), "-d", str(net / "tm.csv"), "-d", str(net / "tm.txt"),
        "--demand-unit", "Mbps", "--all", "--threads", "2", "--splits", str(splits), "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    mlus = [i["mlu"] for i in json.loads(res.stdout)["instances"]]
    assert mlus == pytest.approx([0.5, 0.75])
    assert set(read_splits(splits)) == {"two-routes/t=0000", "two-routes/t=0001"}


def test_cli_evaluates_on_own_files(net, run_main):
    res = run_main(
        "te", "evaluate", "-t", str(net / "net.yaml"), "-d", str(net / "tm.csv"), "-d", str(net / "tm.txt"),
        "--demand-unit", "Mbps", "--split", "all", "--baselines", "shortest", "--format", "json",
    )  # fmt: skip
    assert res.code == 0, res.stderr
    rows = {r["solver"]: r for r in json.loads(res.stdout)["solvers"]}
    # shortest puts all of D on the 10 Gbit/s link: MLU D / 10G against the optimum D / 40G, four times it
    assert rows["lp"]["solved"] == 2 and rows["shortest"]["avg"] == pytest.approx(4.0)


def test_cli_bad_demand_file_is_one_error_line(net, run_main):
    (net / "bad.csv").write_text(",a,b,c\na,0,5,0\nz,0,0,0\n")
    res = run_main("te", "solve", "-t", str(net / "net.yaml"), "-d", str(net / "bad.csv"))
    assert res.code != 0 and "Traceback" not in res.stderr
    assert [line for line in res.stderr.splitlines() if line.startswith("error:")] == [
        f"error: demand file '{net / 'bad.csv'}', line 3: unknown node 'z' (the topology has a, b, c)"
    ]


def test_cli_shows_a_progress_bar_while_paths_are_found_on_large_topologies(net, run_main, monkeypatch):
    import nettwin.cli.te as te_cli

    args = ("te", "solve", "-t", str(net / "net.yaml"), "-d", str(net / "tm.csv"), "--solver", "ecmp")
    assert "finding paths" not in run_main(*args).stderr  # one pair: no bar
    monkeypatch.setattr(te_cli, "BAR_MIN_PAIRS", 1)
    res = run_main(*args)
    assert res.code == 0 and "finding paths" in res.stderr and "1/1" in res.stderr


def test_cli_step_beyond_the_given_matrices_is_one_error_line(net, run_main):
    res = run_main("te", "solve", "-t", str(net / "net.yaml"), "-d", str(net / "tm.csv"), "--step", "3")
    assert res.code != 0 and "error: --step 3: the demand matrices are steps 0..0" in res.stderr


def test_a_csv_saved_with_a_byte_order_mark_reads_as_without(net):
    (net / "bom.csv").write_text("\ufeffsrc,dst,demand\na,b,5\n", encoding="utf-8")
    assert read_demands(net / "bom.csv", read_topology(net / "net.yaml"))[0, 0, 1] == 5.0
