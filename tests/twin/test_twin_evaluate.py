import json
import warnings

import numpy as np
import pytest

from nettwin.metrics import mre, nmae, relative_gap
from nettwin.twin import QueueingTwin, Twin, TwinError
from nettwin.twin.evaluate import evaluate, report_table, write_report


def test_nmae_and_mre():
    assert nmae(np.array([1.0, 3.0, np.nan]), np.array([2.0, 2.0, 1.0]), 2.0) == 0.5
    assert mre(np.array([2.0, 1.0]), np.array([1.0, 0.0])) == 1.0
    assert np.isnan(nmae(np.array([np.nan]), np.array([1.0]), 1.0))


def test_constant_predictions_have_no_correlation_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gap = relative_gap(np.full(4, 2.0), np.array([1.0, 2.0, 3.0, 4.0]))
    assert np.isnan(gap["corr"]) and gap["mre"] == pytest.approx((1 + 0 + 1 / 3 + 1 / 2) / 4)


@pytest.fixture(scope="module")
def report(tiny_dataset):
    twin = Twin("glance", epochs=2).fit(tiny_dataset)
    return evaluate([twin], tiny_dataset)


def test_report_has_twins_simbase_levels_and_qt(report, tiny_dataset):
    names = [m["name"] for m in report["methods"]]
    assert names == ["GLANCE-MTL", "QT", "SimBase", "SimBase+", "SimBase++"]
    assert report["dataset"]["samples"] == 6 and report["dataset"]["flows"] == 24
    for m in report["methods"]:
        assert set(m["nmae"]) == set(m["mre"]) == {"delay", "jitter", "throughput", "drops"}
    assert report["iqr"]["delay"] == pytest.approx(tiny_dataset.iqr("delay"))
    assert report["simulation_seconds_per_sample"] > 0
    twin = report["methods"][0]
    assert twin["seconds_per_sample"] > 0 and twin["speedup_vs_simulation"] > 0
    assert len(report["learning_curves"]["GLANCE-MTL"]) == 2


def test_simbase_levels_agree_with_a_direct_computation(report, tiny_dataset):
    test = list(tiny_dataset.samples("test"))
    ref = np.concatenate([s.kpis(0)["throughput"] for s in test])
    plus = np.concatenate([(s.kpis(1)["throughput"] + s.kpis(2)["throughput"]) / 2 for s in test])
    level = next(m for m in report["methods"] if m["name"] == "SimBase+")
    assert level["nmae"]["throughput"] == pytest.approx(nmae(plus, ref, report["iqr"]["throughput"]))
    assert level["runs"] == [1, 2]


def test_zero_iqr_falls_back_and_says_so(report, tiny_dataset):
    for k in report["kpis"]:
        assert report["iqr"][k] > 0
        expected = "instead" if tiny_dataset.iqr(k) == 0 else "manifest"
        assert expected in report["iqr_source"][k]


def test_report_files(report, tmp_path):
    json_path, png_path = write_report(report, tmp_path / "rep")
    assert json.loads(json_path.read_text())["methods"][0]["name"] == "GLANCE-MTL"
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    columns, rows = report_table(report)
    assert columns[0] == "method" and len(rows) == 5 and rows[0][0] == "GLANCE-MTL"


def test_a_dataset_without_training_split_is_scored_with_given_iqrs(report, tiny_dataset, unseen_dataset):
    # RouteNet's generalisation protocol: an unseen topology has no training split to take IQRs from
    alone = evaluate([QueueingTwin().fit(tiny_dataset)], unseen_dataset, iqr=report["iqr"], simbase=False)
    assert [m["name"] for m in alone["methods"]] == ["QT"] and alone["iqr"] == report["iqr"]
    auto = evaluate([Twin("gnn", epochs=1).fit(tiny_dataset)], unseen_dataset, iqr=report["iqr"], simbase=False)
    assert [m["name"] for m in auto["methods"]] == ["GNN-MTL", "QT"]
    assert auto["methods"][1]["nmae"] == alone["methods"][0]["nmae"]


def test_qt_only_and_errors(tiny_dataset):
    rep = evaluate([QueueingTwin().fit(tiny_dataset)], tiny_dataset, simbase=False)
    assert [m["name"] for m in rep["methods"]] == ["QT"]
    with pytest.raises(TwinError, match="no samples"):
        evaluate([QueueingTwin().fit(tiny_dataset)], tiny_dataset, split="test", limit=0)


def test_wireless_reports_twins_and_simbase_but_no_queueing_theory(tmp_path):
    import _radio_engine  # noqa: F401  (registers the stand-in engine here too)

    from nettwin.data import Dataset, generate_dataset

    base = {
        "name": "radio",
        "topology": {"grid": {"rows": 3, "cols": 3, "spacing": 30}, "medium": "wireless"},
        "flows": [
            {"src": 0, "dst": 8, "traffic": {"model": "poisson", "rate": "50kbps", "packet_size": 210}},
            {"src": 2, "dst": 6, "path": [2, 4, 6], "traffic": {"model": "cbr", "rate": "30kbps", "packet_size": 210}},
        ],
        "simulation": {"duration": "5s"},
    }
    spec = {
        "name": "radio",
        "base": base,
        "engine": "radio-stand-in",
        "samples": 8,
        "seed": 1,
        "simbase_runs": 3,
        "splits": {"train": 0.5, "val": 0.25, "test": 0.25},
        "traffic": {"rate": {"uniform": ["20kbps", "80kbps"]}},
    }
    generate_dataset(spec, tmp_path / "ds", workers=1, imports=["_radio_engine"])
    ds = Dataset(tmp_path / "ds")
    assert next(ds.samples()).network().medium == "wireless"
    rep = evaluate([Twin("glance", epochs=2).fit(ds)], ds)
    assert [m["name"] for m in rep["methods"]] == ["GLANCE-MTL", "SimBase", "SimBase+", "SimBase++"]
    assert rep["notes"][0] == (
        "no queueing theory: it treats links as independent point-to-point queues and cannot model a shared wireless "
        "medium"
    )


def test_simbase_mean_skips_runs_where_a_flow_is_undefined():
    from nettwin.twin.evaluate import _mean_of_runs

    out = _mean_of_runs([np.array([1.0, np.nan, np.nan]), np.array([3.0, 4.0, np.nan])])
    np.testing.assert_array_equal(out[:2], [2.0, 4.0])
    assert np.isnan(out[2])


def test_report_json_writes_an_undefined_score_as_null(report, tmp_path):
    # A KPI that is zero on every flow has no relative error: the report holds NaN, the file standard JSON.
    report = {**report, "methods": [{**report["methods"][0], "mre": {**report["methods"][0]["mre"]}}]}
    kpi = report["kpis"][0]
    report["methods"][0]["mre"][kpi] = float("nan")
    json_path, _ = write_report(report, tmp_path / "rep")

    def refuse(token):
        raise AssertionError(f"not standard JSON: {token}")

    written = json.loads(json_path.read_text(), parse_constant=refuse)
    assert written["methods"][0]["mre"][kpi] is None
