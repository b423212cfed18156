"""The ``datanet`` importer: BNN-UPC's RouteNet / GNNetworking Challenge format, from fixtures written as its
specification says (its worked example, hand-broken lines, and networks simulated here and written in its units)."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import _datanet as dn
import numpy as np
import pytest

from nettwin.data import Dataset, import_dataset
from nettwin.data.importers import ExcludedSamplesWarning
from nettwin.errors import DatasetError, NettwinWarning
from nettwin.scenario import parse_scenario
from nettwin.sim import simulate


def _flows(ds: Dataset, sample: int = 0) -> list[dict[str, Any]]:
    return json.loads(ds.table()["scenario"][sample].as_py())["flows"]


def _column(ds: Dataset, name: str, sample: int = 0) -> list[Any]:
    return ds.table()[name][sample].as_py()[0]


def test_the_spec_example_maps_every_field_with_its_unit(tmp_path: Path) -> None:
    res = import_dataset("datanet", dn.spec_example(tmp_path / "src"), tmp_path / "ds")
    assert res["samples"] == 1 and res["source"]["version"] == "2021"
    ds = Dataset(tmp_path / "ds")
    scenario = json.loads(ds.table()["scenario"][0].as_py())
    links = {(link["src"], link["dst"]): link for link in scenario["topology"]["links"]}
    assert links[0, 1]["capacity"] == 12000.0 and links[1, 2]["capacity"] == 24000.0  # bits/tu → bit/s
    assert all(link["buffer"] == 15 and link["delay"] == 0.0 for link in links.values())  # queue 16 counts service
    flows = _flows(ds)
    assert [(f["src"], f["dst"]) for f in flows] == [(0, 1), (0, 2), (1, 2), (1, 2), (2, 0)]
    assert [f["path"] for f in flows][1] == [0, 1, 2]
    poisson, onoff, cbr, normal, uniform = (f["traffic"] for f in flows)
    assert poisson["model"] == "poisson" and poisson["rate"] == 500.0 and poisson["packet_size"]["mean"] == 125.0
    # on/off: AvgTOff comes before AvgTOn; the mean rate stays EqLambda = 240
    assert onoff["model"] == "onoff" and (onoff["tau_on"], onoff["tau_off"]) == (1.0, 3.0)
    assert onoff["rate"] == pytest.approx(960.0) and onoff["packet_size"] == {
        "dist": "uniform",
        "min": 50.0,
        "max": 150.0,
    } | {k: v for k, v in onoff["packet_size"].items() if k not in ("dist", "min", "max")}
    assert cbr["model"] == "cbr" and cbr["rate"] == 200.0 and cbr["packet_size"]["mean"] == 100.0
    assert normal["model"] == "normal" and normal["gap_std"] == 0.4
    assert normal["packet_size"]["sizes"] == [50.0, 100.0] and normal["packet_size"]["probs"] == [0.5, 0.5]
    assert uniform["model"] == "uniform" and uniform["spread"] == pytest.approx(1 / 3)
    net_rates = [parse_scenario(scenario).flows[i].traffic.mean_rate for i in range(5)]
    assert net_rates == pytest.approx([500.0, 240.0, 200.0, 300.0, 450.0])  # every law keeps EqLambda as mean rate
    # KPIs: the per-flow results where the pair has two flows, the pair's otherwise; kbit/tu → bit/s; √variance
    assert _column(ds, "delay") == pytest.approx([0.11, 0.25, 0.1, 0.085, 0.16])
    assert _column(ds, "delay_std") == pytest.approx(np.sqrt([0.0004, 0.008, 0.001, 0.0025, 0.0005]).tolist())
    assert _column(ds, "throughput") == pytest.approx([498.0, 236.0, 200.0, 300.0, 452.0])
    assert _column(ds, "delay_p50") == pytest.approx([0.1, 0.22, 0.04, 0.08, 0.15])
    assert _column(ds, "delay_p90") == pytest.approx([0.15, 0.38, 0.12, 0.16, 0.2])
    assert _column(ds, "drops") == [0.0] * 5 and _column(ds, "drop_rate") == [0.0] * 5
    assert ds.manifest["kpis"] == ["delay", "throughput", "drops", "drop_rate", "delay_std", "delay_p50", "delay_p90"]
    # per-port statistics in the graph's edge order; waiting packets = ρ·(sojourn in service times − 1)
    assert _column(ds, "link_utilisation") == pytest.approx([0.0612, 0.0376, 0.0307, 0.0188])
    assert _column(ds, "link_mean_queue") == pytest.approx([0.0612 * 0.07, 0.0376 * 0.04, 0.0307 * 0.03, 0.0188 * 0.02])
    meta = json.loads(ds.table()["meta"][0].as_py())[0]
    assert meta["sample_id"] == 0 and meta["graph"] == "graph-demo.txt" and meta["max_avg_lambda"] == 600.0
    semantics = ds.manifest["source"]["semantics"]
    assert "variance" in semantics["kpis"]["delay_std"] and "jitter" in semantics["absent"]
    assert json.loads(ds.table()["scenario"][0].as_py())["simulation"]["duration"] == 2400.0


def test_the_2020_port_matrix_gives_the_same_paths_and_schedulers_serve_tos_classes(tmp_path: Path) -> None:
    import_dataset("datanet", dn.spec_example(tmp_path / "a", "2020"), tmp_path / "ds20")
    import_dataset("datanet", dn.spec_example(tmp_path / "b", "2021"), tmp_path / "ds21")
    assert Dataset(tmp_path / "ds20").manifest["source"]["version"] == "2020"
    assert [f["path"] for f in _flows(Dataset(tmp_path / "ds20"))] == [
        f["path"] for f in _flows(Dataset(tmp_path / "ds21"))
    ]
    # node 1 schedules three queues by DRR; the flow 0→2 is of class 2, the 1→2 flows of class 1
    root = dn.spec_example(tmp_path / "c", "2020")
    graph = root / "graphs" / "graph-demo.txt"
    drr = (
        'node [ id 1 label "1" queueSizes "16,16,8" schedulingPolicy "DRR" schedulingWeights "50,30,20" levelsQoS "3" ]'
    )
    graph.write_text(re.sub(r"node \[ id 1 .*\]", drr, graph.read_text()))
    traffic = [*dn.TRAFFIC]
    traffic[2] = traffic[2][:-1] + "2"
    traffic[5] = traffic[5][:-1] + "1"
    traffic[5] = traffic[5].replace(",0:3,", ",1:3,")
    archive = dn.Archive("gnnet_data_set_0_0", [_example(tmp_path, traffic=dn.pair_line(traffic, "600"))[1]])
    dn.write(root, [archive], {}, {})
    import_dataset("datanet", root, tmp_path / "ds")
    ds = Dataset(tmp_path / "ds")
    scenario = parse_scenario(json.loads(ds.table()["scenario"][0].as_py()))
    links = {(str(link.src), str(link.dst)): link for link in scenario.topology.links or []}
    drr_port = links["1", "2"].scheduler
    assert drr_port.policy == "drr" and [(q.buffer, q.weight) for q in drr_port.queues] == [(15, 50), (15, 30), (7, 20)]
    assert links["0", "1"].scheduler is None and links["0", "1"].buffer == 15  # FIFO nodes keep one queue
    assert [f.tos for f in scenario.flows] == [0, 2, 1, 1, 0]
    (run,) = simulate(scenario, seed=3)  # the built-in engine serves the classes as the source's simulator did
    assert np.all(run.flows["rx_packets"] > 0)
    fifo3 = 'node [ id 2 label "2" queueSizes "16,16,8" schedulingPolicy "FIFO" levelsQoS "3" ]'
    graph.write_text(re.sub(r"node \[ id 2 .*\]", fifo3, graph.read_text()))
    with pytest.raises(DatasetError, match=r"every sample was left out \(1; the first at .*: node 2 is FIFO over 3"):
        import_dataset("datanet", root, tmp_path / "ds2")
    assert not (tmp_path / "ds2").exists()


def test_a_strict_priority_node_and_a_class_without_its_queue(tmp_path: Path) -> None:
    root = dn.spec_example(tmp_path / "sp", "2020")
    graph = root / "graphs" / "graph-demo.txt"
    sp = 'node [ id 0 label "0" queueSizes "16,8" schedulingPolicy "SP" levelsQoS "2" ]'
    graph.write_text(re.sub(r"node \[ id 0 .*\]", sp, graph.read_text()))
    traffic = [*dn.TRAFFIC]
    traffic[1] = traffic[1][:-1] + "1"
    archive = dn.Archive("gnnet_data_set_0_0", [_example(tmp_path, traffic=dn.pair_line(traffic, "600"))[1]])
    dn.write(root, [archive], {}, {})
    import_dataset("datanet", root, tmp_path / "ds")
    scenario = parse_scenario(json.loads(Dataset(tmp_path / "ds").table()["scenario"][0].as_py()))
    port = next(link for link in scenario.topology.links or [] if (link.src, link.dst) == (0, 1)).scheduler
    assert port.policy == "sp" and [(q.buffer, q.weight) for q in port.queues] == [(15, None), (7, None)]
    assert [f.tos for f in scenario.flows][:2] == [1, 0]
    traffic[2] = traffic[2][:-1] + "2"  # class 2 at a port of two queues
    archive = dn.Archive("gnnet_data_set_0_0", [_example(tmp_path, traffic=dn.pair_line(traffic, "600"))[1]])
    dn.write(root, [archive], {}, {})
    with pytest.raises(DatasetError, match=r"traffic\.txt: line 1: flows\[1\]\.tos: class 2 needs queue 2") as err:
        import_dataset("datanet", root, tmp_path / "ds2")
    assert "\n" not in str(err.value)


def test_a_ppbp_flow_keeps_its_bursts_and_its_mean_rate(tmp_path: Path) -> None:
    ppbp = "5,51,0.02,2000,1000,40000,1.5,8,0,1000,0"
    root, sample = _example(tmp_path, traffic=dn.pair_line([*dn.TRAFFIC[:6], ppbp, *dn.TRAFFIC[7:]], "600"))
    _write(root, [sample])
    import_dataset("datanet", root, tmp_path / "ds")
    traffic = _flows(Dataset(tmp_path / "ds"))[-1]["traffic"]
    assert traffic["model"] == "ppbp" and traffic["rate"] == 2000.0 and traffic["pareto_shape"] == 1.5
    assert (traffic["burst_min"], traffic["burst_max"]) == (125.0, 5000.0)  # bits → bytes
    # EqLambda stays the mean rate; the burst arrival rate it implies is the source's BurstGenLambda within 10 %
    assert parse_scenario(json.loads(Dataset(tmp_path / "ds").table()["scenario"][0].as_py())).flows[
        -1
    ].traffic.mean_rate == pytest.approx(51.0)
    assert traffic["burst_arrivals"] == pytest.approx(0.02, rel=0.1)


def _simulated(tmp_path: Path, **kwargs: Any) -> tuple[Path, list[dict[str, np.ndarray]]]:
    return dn.simulated(tmp_path / "tree" / "train", **{"samples": 3, **kwargs})


def test_measured_kpis_come_back_exactly_and_resimulate_alike(tmp_path: Path) -> None:
    _, truth = _simulated(tmp_path, samples=3)
    import_dataset("datanet", tmp_path / "tree", tmp_path / "ds")
    ds = Dataset(tmp_path / "ds")
    for i, measured in enumerate(truth):
        for kpi in ("delay", "delay_std", "delay_p50", "delay_p90", "drops", "throughput"):
            assert _column(ds, kpi, i) == pytest.approx(measured[kpi].tolist(), rel=1e-12), kpi
    # the imported scenario is the simulated one: the same queues (queue 8 = buffer 7), rates, sizes and paths,
    # so another seed of the built-in engine lands within run-to-run noise
    scenario = parse_scenario(json.loads(ds.table()["scenario"][0].as_py()))
    (again,) = simulate(scenario, seed=12345)
    assert np.mean(again.flows["delay"]) == pytest.approx(np.mean(truth[0]["delay"]), rel=0.15)
    assert {link.buffer for link in scenario.topology.links or []} == {7}


def test_splits_follow_directory_names_and_unpacked_archives_read_alike(tmp_path: Path) -> None:
    dn.simulated(tmp_path / "root" / "train", 2, seed=1)
    dn.simulated(tmp_path / "root" / "validation", 1, seed=2)
    dn.spec_example(tmp_path / "root" / "test" / "ch21-val-setting-1" / "3")
    dn.spec_example(tmp_path / "root" / "other", packed=False)
    with pytest.warns(NettwinWarning, match="has no linkUsage.txt, unlike the first archive"):
        res = import_dataset("datanet", tmp_path / "root", tmp_path / "ds")
    assert res["samples"] == 5 and res["splits"]["val"] >= 1
    splits = Dataset(tmp_path / "ds").table()["split"].to_pylist()
    meta = [json.loads(m)[0]["archive"] for m in Dataset(tmp_path / "ds").table()["meta"].to_pylist()]
    by_archive = dict(zip(meta, splits, strict=True))
    assert by_archive["test/ch21-val-setting-1/3/results_3_500-700_0_0.tar.gz"] == "test"
    assert by_archive["validation/results_4_0-1_0_0.tar.gz"] == "val"
    assert {s for a, s in by_archive.items() if a.startswith("train/")} == {"train"}
    import_dataset("datanet", tmp_path / "root" / "other", tmp_path / "unpacked")
    import_dataset("datanet", dn.spec_example(tmp_path / "packed"), tmp_path / "packed_ds")
    for column in ("scenario", "delay", "link_mean_queue"):
        assert Dataset(tmp_path / "unpacked").table()[column].to_pylist() == (
            Dataset(tmp_path / "packed_ds").table()[column].to_pylist()
        )


def _example(tmp_path: Path, **changes: Any) -> tuple[Path, dn.Sample]:
    """The spec example with some of its sample's lines replaced (returned unwritten: call write)."""
    sample = dn.Sample(
        input_files="0;graph-demo.txt;route-demo.txt",
        stability="2400;0.00097;OK",
        traffic=dn.pair_line(dn.TRAFFIC, "600"),
        results=dn.pair_line(dn.RESULTS, "1.995,0,0.1346"),
        flow_results=dn.pair_line([*dn.RESULTS[:5], dn.FLOW_RESULT_5, *dn.RESULTS[6:]]),
    )
    for key, value in changes.items():
        setattr(sample, key, value)
    return tmp_path / "src", sample


def _write(root: Path, samples: list[dn.Sample], **files: Any) -> Path:
    return dn.write(
        root,
        [dn.Archive("results_3_0-1_0_0", samples, files.pop("extra_files", {}))],
        files.pop("graphs", {"graph-demo.txt": dn.GRAPH_2021}),
        files.pop("routings", {"route-demo.txt": dn.ROUTES_2021}),
        files.pop("links_bw", None),
    )


def test_per_sample_capacities_apply_to_their_sample_only(tmp_path: Path) -> None:
    root, first = _example(tmp_path, input_files="0;graph-demo.txt;route-demo.txt;bw1.txt")
    _, second = _example(tmp_path, input_files="1;graph-demo.txt;route-demo.txt")
    _write(root, [first, second], links_bw={"bw1.txt": "0;1;6000\n1;2;48000\n"})
    import_dataset("datanet", root, tmp_path / "ds")
    capacities = [
        {(x["src"], x["dst"]): x["capacity"] for x in json.loads(s)["topology"]["links"]}
        for s in Dataset(tmp_path / "ds").table()["scenario"].to_pylist()
    ]
    assert capacities[0] == {(0, 1): 6000.0, (1, 0): 12000.0, (1, 2): 48000.0, (2, 1): 24000.0}
    assert capacities[1] == {(0, 1): 12000.0, (1, 0): 12000.0, (1, 2): 24000.0, (2, 1): 24000.0}


def test_a_capacity_file_is_checked_against_each_graph_it_is_used_with(tmp_path: Path) -> None:
    # the same links_bw file with a second graph that has no link 1→2 (its routes go through node 0)
    root, first = _example(tmp_path, input_files="0;graph-demo.txt;route-demo.txt;bw.txt")
    _, second = _example(tmp_path, input_files="1;star.txt;star.txt;bw.txt")
    star = dn.GRAPH_2021.replace("source 1 target 2", "source 0 target 2")
    star = star.replace("source 2 target 1", "source 2 target 0")
    routes = "0;1\n0;2\n1;0\n1;0;2\n2;0\n2;0;1\n"
    graphs = {"graph-demo.txt": dn.GRAPH_2021, "star.txt": star}
    _write(
        root,
        [first, second],
        graphs=graphs,
        routings={"route-demo.txt": dn.ROUTES_2021, "star.txt": routes},
        links_bw={"bw.txt": "1;2;48000\n"},
    )
    with pytest.raises(DatasetError, match=r"links_bw/bw\.txt: line 1: 1→2 is not a link of the graph"):
        import_dataset("datanet", root, tmp_path / "ds")


def test_withheld_labels_import_as_unlabelled(tmp_path: Path) -> None:
    withheld = [dn.NO_RESULT if r == dn.NO_RESULT else "0.5,0.5,-1,-1,-1,-1,-1,-1,-1,-1,-1" for r in dn.RESULTS]
    root, sample = _example(tmp_path, results=dn.pair_line(withheld, "-1,-1,-1"))
    sample.flow_results = dn.pair_line([*withheld[:5], ":".join([withheld[1]] * 2), *withheld[6:]])
    _write(root, [sample])
    import_dataset("datanet", root, tmp_path / "ds")
    ds = Dataset(tmp_path / "ds")
    assert all(math.isnan(v) for v in _column(ds, "delay")) and all(math.isnan(v) for v in _column(ds, "drops"))
    assert json.loads(ds.table()["meta"][0].as_py())[0]["labelled"] is False


def test_left_out_samples_are_listed_with_their_reason(tmp_path: Path) -> None:
    root, unstable = _example(tmp_path, stability="2400;0.5;Unstable", flow_results=None)
    _, two_flows = _example(tmp_path, flow_results=None)
    _, good = _example(
        tmp_path, flow_results=None, traffic=dn.pair_line([*dn.TRAFFIC[:5], dn.NO_TRAFFIC, *dn.TRAFFIC[6:]], "600")
    )
    good.results = dn.pair_line([*dn.RESULTS[:5], dn.NO_RESULT, *dn.RESULTS[6:]], "1,0,0.1")
    dn.write(
        root,
        [dn.Archive("results_3_0-1_0_2", [unstable, two_flows, good])],
        {"graph-demo.txt": dn.GRAPH_2021},
        {"route-demo.txt": dn.ROUTES_2021},
    )
    with pytest.warns(ExcludedSamplesWarning, match="2 sample"):
        res = import_dataset("datanet", root, tmp_path / "ds")
    assert res["samples"] == 1
    excluded = Dataset(tmp_path / "ds").manifest["source"]["excluded"]
    assert excluded[0]["where"].endswith("stability.txt: line 1") and "'Unstable'" in excluded[0]["reason"]
    assert excluded[1]["where"].endswith("traffic.txt: line 2") and "2 flows" in excluded[1]["reason"]


def test_lines_past_the_last_sample_and_unknown_files_are_reported(tmp_path: Path) -> None:
    root, sample = _example(tmp_path)
    archive = dn.Archive("results_3_0-1_0_0", [sample], {"notes.txt": "hello\n"})
    dn.write(root, [archive], {"graph-demo.txt": dn.GRAPH_2021}, {"route-demo.txt": dn.ROUTES_2021})
    with pytest.warns(NettwinWarning, match=r"ignored notes\.txt"):
        import_dataset("datanet", root, tmp_path / "ds")
    tar_root = tmp_path / "more"
    extra = dn.Archive("results_3_0-1_0_0", [sample])
    dn.write(tar_root, [extra], {"graph-demo.txt": dn.GRAPH_2021}, {"route-demo.txt": dn.ROUTES_2021}, packed=False)
    with (tar_root / "results_3_0-1_0_0" / "stability.txt").open("a") as f:
        f.write("2400;0.1;OK\n")
    with pytest.warns(ExcludedSamplesWarning, match=r"stability\.txt: line 2: 1 line\(s\) past the last sample"):
        import_dataset("datanet", tar_root, tmp_path / "ds2")


ARCHIVE = "results_3_0-1_0_0.tar.gz"
BROKEN = [
    (
        "traffic",
        dn.pair_line(dn.TRAFFIC[:8], "600"),
        rf"{ARCHIVE}: traffic\.txt: line 1: has 8 pair entries; .* needs 9",
    ),
    (
        "traffic",
        dn.pair_line([dn.TRAFFIC[0], "9,1,1,0,8,0", *dn.TRAFFIC[2:]], "600"),
        r"traffic\.txt: line 1: pair 0→1: time code 9",
    ),
    (
        "traffic",
        dn.pair_line([*dn.TRAFFIC[:6], "2,450,0.3,0.6,0,1000,0,7", *dn.TRAFFIC[7:]], "600"),
        r"pair 2→0: expected the ToS as the last value after the size law; found 2",
    ),
    (
        "traffic",
        dn.pair_line([*dn.TRAFFIC[:6], "2,450,0.3,0.6,3,600,2,400,0.5,800,0.4,0", *dn.TRAFFIC[7:]], "600"),
        r"pair 2→0: GENERIC_S needs .* sum to 1",
    ),
    ("traffic", dn.pair_line(dn.TRAFFIC).replace("-1,0", "x,0", 1), r"expected a '<header>\|'"),
    ("traffic", dn.pair_line(dn.TRAFFIC, "600").replace("500", "5e", 1), r"pair 0→1: value 2: not a number: '5e'"),
    (
        "results",
        dn.pair_line([dn.RESULTS[0], "0.498,0.498,0,0.11", *dn.RESULTS[2:]], "1,0,0"),
        r"simulationResults\.txt: line 1: pair 0→1: expected 11 values",
    ),
    ("stability", "2400;0.1;OK;Disk:3", r"stability\.txt: line 1: unexpected field 'Disk:3'"),
    ("stability", "0;0.1;OK", r"sim_time: must be > 0"),
    ("input_files", "0;graph-demo.txt", r"input_files\.txt: line 1: expected sample_id;graph;routing"),
    ("input_files", "0;graph-demo.txt;nowhere.txt", r"routings/nowhere\.txt: no such file"),
    ("input_files", "0;../graph-demo.txt;route-demo.txt", r"is not a bare file name inside graphs/"),
]


@pytest.mark.parametrize(("field", "text", "message"), BROKEN)
def test_a_bad_line_is_one_error_naming_archive_file_and_line(
    tmp_path: Path, field: str, text: str, message: str
) -> None:
    root, sample = _example(tmp_path, **{field: text})
    _write(root, [sample])
    with pytest.raises(DatasetError, match=message) as err:
        import_dataset("datanet", root, tmp_path / "ds")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("graph", "routing", "message"),
    [
        (
            dn.GRAPH_2021.replace(" bandwidth 24000.0 ]", " ]", 1),
            None,
            r"graphs/graph-demo\.txt: edge 1→2: no bandwidth",
        ),
        (dn.GRAPH_2021.replace('queueSizes "16"', 'queueSizes "a"', 1), None, r"node 0: queueSizes: not a number"),
        (dn.GRAPH_2021.replace('"FIFO"', '"RR"', 1), None, r"node 0: schedulingPolicy: must be FIFO, SP, WFQ or DRR"),
        (dn.GRAPH_2021.replace("graph [", "graph", 1), None, r"graphs/graph-demo\.txt: not a readable GML graph"),
        (dn.GRAPH_2021, "0;1\n0;2\n", r"routings/route-demo\.txt: line 2: hop 0→2 is not a link of the graph"),
        (dn.GRAPH_2021, "0;1\n0;1;0;1\n", r"line 2: .* visits a node twice"),
        (dn.GRAPH_2021, "-1,0,0,\n0,-1,0,\n0,0,-1,\n", r"the ports from 0 towards 2 loop"),
        (dn.GRAPH_2021, "-1,0,0,\n0,-1,5,\n0,0,-1,\n", r"line 2: port 5 towards 2: node 1 has no such port"),
        (dn.GRAPH_2021, "-1,0,\n0,-1,\n", r"a port matrix needs one line per node \(3\), has 2"),
    ],
)
def test_a_bad_graph_or_routing_names_its_file_and_line(
    tmp_path: Path, graph: str, routing: str | None, message: str
) -> None:
    root, sample = _example(tmp_path)
    _write(root, [sample], graphs={"graph-demo.txt": graph}, routings={"route-demo.txt": routing or dn.ROUTES_2021})
    with pytest.raises(DatasetError, match=message) as err:
        import_dataset("datanet", root, tmp_path / "ds")
    assert "\n" not in str(err.value)


def test_a_tree_without_dataset_directories_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="has no dataset directory"):
        import_dataset("datanet", tmp_path / "empty", tmp_path / "ds")
    (tmp_path / "x.tar.gz").write_bytes(b"not gzip")
    with pytest.raises(DatasetError, match="give a datanet tree"):
        import_dataset("datanet", tmp_path / "x.tar.gz", tmp_path / "ds")
    root, sample = _example(tmp_path)
    _write(root, [sample])
    (root / "results_3_0-1_0_0.tar.gz").write_bytes(b"broken")
    with pytest.raises(DatasetError, match=r"results_3_0-1_0_0\.tar\.gz: not a readable \.tar\.gz archive"):
        import_dataset("datanet", root, tmp_path / "ds")


def test_cli_import_train_evaluate(tmp_path: Path, run_main: Any) -> None:
    dn.simulated(tmp_path / "tree" / "train", 8, seed=3)
    dn.simulated(tmp_path / "tree" / "test", 2, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = run_main("dataset", "import", "datanet", str(tmp_path / "tree"), "--out", str(tmp_path / "ds"))
    assert res.code == 0, res.stderr
    info = run_main("dataset", "info", str(tmp_path / "ds"))
    assert info.code == 0 and "datanet" in info.stdout
    ckpt = tmp_path / "twin.pt"
    trained = run_main(
        "train", str(tmp_path / "ds"), "--kpis", "delay,delay_std,drops", "--epochs", "2", "--quiet", "--out", str(ckpt)
    )
    assert trained.code == 0, trained.stderr
    report = tmp_path / "report"
    evaluated = run_main("evaluate", str(ckpt), str(tmp_path / "ds"), "--out", str(report))
    assert evaluated.code == 0, evaluated.stderr
    summary = json.loads((report / "report.json").read_text())
    assert summary["dataset"]["samples"] == 2
