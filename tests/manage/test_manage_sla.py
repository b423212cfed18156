"""SLAs: the file format, its one-line errors, resolution against a network and the judgement of KPIs."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.errors import ManageError
from nettwin.manage.sla import SLA, load_sla, parse_sla, violations
from nettwin.scenario import build_network, parse_scenario


def _network():
    return build_network(
        parse_scenario(
            {
                "topology": {"nodes": ["a", "b", "c"], "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]},
                "flows": [
                    {"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "1Mbps"}},
                    {"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "1Mbps"}},
                    {"src": "b", "dst": "c", "traffic": {"model": "poisson", "rate": "1Mbps"}},
                ],
            }
        )
    )


def test_human_units_and_overrides_resolve_per_flow():
    sla = parse_sla(
        {
            "all": {"delay": "50ms", "drop_rate": "1%"},
            "flows": [{"flow": 2, "delay": "20ms"}, {"src": "a", "throughput": "500kbps"}],
        }
    )
    b = sla.bounds(_network())
    np.testing.assert_allclose(b["delay"], [0.05, 0.05, 0.02])
    np.testing.assert_allclose(b["drop_rate"], [0.01] * 3)
    np.testing.assert_allclose(b["throughput"], [5e5, 5e5, np.nan])
    assert np.isnan(b["jitter"]).all()


def test_every_bad_field_is_one_line():
    with pytest.raises(ManageError) as err:
        parse_sla({"all": {"delay": "fast", "drop_rate": "120%", "loss": 1}, "flows": [{"delay": "1ms"}]}, "s.yaml")
    lines = str(err.value).splitlines()
    assert len(lines) == 4
    assert all(line.startswith("s.yaml: ") for line in lines)
    assert any("all.delay" in line for line in lines)
    assert any("all.drop_rate" in line and "100%" in line for line in lines)
    assert any("all.loss: unknown key" in line for line in lines)
    assert any("flows[0]" in line and "name the flows" in line for line in lines)


def test_entries_naming_missing_flows_or_nodes_are_refused_by_name():
    sla = parse_sla({"flows": [{"flow": 7, "delay": "1ms"}, {"src": "z", "delay": "1ms"}, {"src": "c", "jitter": 1}]})
    with pytest.raises(ManageError) as err:
        sla.bounds(_network())
    lines = str(err.value).splitlines()
    assert lines[0] == "flows[0].flow: no flow 7 (the network has flows 0..2)"
    assert "flows[1].src" in lines[1] and "'z'" in lines[1]
    assert lines[2] == "flows[2]: no flow goes from c"
    with pytest.raises(ManageError, match=r"^sla.yaml: flows\[0\].flow: no flow 7"):
        parse_sla({"flows": [{"flow": 7, "delay": "1ms"}]}, "sla.yaml").bounds(_network())


def test_sla_file_errors_name_the_file(tmp_path):
    path = tmp_path / "sla.yaml"
    path.write_text("all: {delay: 10ms, jitter: -1ms}\n")
    with pytest.raises(ManageError, match=r"sla.yaml: all.jitter"):
        load_sla(path)
    with pytest.raises(ManageError, match="no such file"):
        load_sla(tmp_path / "missing.yaml")
    path.write_text("all: {delay: 10ms}\n")
    assert load_sla(path).all.delay == pytest.approx(0.01)


def test_violations_and_worst_margin():
    bounds = SLA.model_validate({"all": {"delay": "10ms", "throughput": "1Mbps", "drop_rate": 0}}).bounds(_network())
    kpis = {
        "delay": np.array([0.005, 0.02, np.nan]),
        "throughput": np.array([2e6, 1e6, 0.0]),
        "drop_rate": np.array([0.0, 0.1, 1.0]),
    }
    v = violations(kpis, bounds)
    assert v.missed["delay"].tolist() == [False, True, True]  # no delay at all misses the bound
    assert v.missed["throughput"].tolist() == [False, False, True]
    assert v.missed["drop_rate"].tolist() == [False, True, True]
    np.testing.assert_allclose(v.margin["delay"][:2], [0.5, -1.0])
    assert v.margin["drop_rate"].tolist() == [0.0, -1.0, -1.0]
    assert v.any.tolist() == [False, True, True]
    assert v.count == 5
    assert v.worst_margin == -np.inf
    assert v.to_dict() == {
        "missed": {"delay": 2, "drop_rate": 2, "throughput": 1},
        "flows_missing": 2,
        "worst_margin": None,
    }


def test_unbounded_kpis_are_not_judged():
    v = violations({"delay": np.array([1.0])}, {"delay": np.array([np.nan]), "jitter": np.array([np.nan])})
    assert v.missed == {} and v.worst_margin is None and v.count == 0
