"""Verification figures on hand-made values, and one real re-simulation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nettwin.errors import ManageError
from nettwin.manage.verify import Verification, qos_failures, verify
from nettwin.scenario import build_network, parse_scenario


def test_perfect_match_has_r2_one_and_no_error():
    target = np.array([1.0, 2.0, 4.0])
    v = Verification(kpis=("delay",), runs={"delay": np.stack([target, target])}, target={"delay": target})
    m = v.metrics()["delay"]
    assert m["r2"] == 1.0 and m["eps"] == 0.0 and m["eps_bm"] == 0.0 and m["qos_failure"] == 0.0


def test_eps_eps_bm_and_qos_failures_by_hand():
    runs = np.array([[1.0, 2.0], [1.2, 2.0], [1.4, 2.0]])  # mean 1.2 and 2.0
    target = np.array([1.0, 2.5])
    v = Verification(
        kpis=("delay",), runs={"delay": runs}, target={"delay": target}, predicted={"delay": np.array([1.2, 2.2])}
    )
    m = v.metrics()["delay"]
    assert m["eps"] == pytest.approx((0.2 / 1.0 + 0.5 / 2.5) / 2)
    # run 0 against the mean of runs 1 and 2 (1.3 and 2.0)
    assert m["eps_bm"] == pytest.approx((0.3 / 1.3 + 0.0) / 2)
    assert m["r2"] == pytest.approx(1 - (0.2**2 + 0.5**2) / (2 * 0.75**2))
    assert m["qos_failure"] == 0.5  # flow 0 is slower than its target
    assert m["twin_mre"] == pytest.approx(0.2 / 2.0 / 2)
    np.testing.assert_allclose(v.spread("delay"), [np.std([1.0, 1.2, 1.4]), 0.0])


def test_sla_bounds_take_precedence_and_missing_values_fail():
    values = {"throughput": np.array([5.0, 1.0, np.nan]), "delay": np.array([1.0, 2.0, 3.0])}
    bounds = {"throughput": np.array([2.0, 2.0, 2.0]), "delay": np.full(3, np.nan)}
    target = {"delay": np.array([1.0, 1.0, 1.0])}
    assert qos_failures(values, target, bounds) == {"throughput": pytest.approx(2 / 3), "delay": pytest.approx(2 / 3)}


def test_verify_simulates_and_writes_standard_json():
    net = build_network(
        parse_scenario(
            {
                "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
                "flows": [
                    {"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps"}},
                    {"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}},
                ],
                "simulation": {"duration": "5s", "seed": 3},
            }
        )
    )
    target = {"delay": np.array([0.01, 0.01]), "throughput": np.array([3e5, 1e5])}
    out = verify(net, runs=2, target=target).to_dict()
    json.dumps(out, allow_nan=False)
    assert out["runs"] == 2 and set(out["metrics"]) == {"delay", "throughput"}
    assert out["metrics"]["throughput"]["eps"] < 0.1
    assert len(out["flows"]["delay"]["simulated_mean"]) == 2
    with pytest.raises(ManageError, match="target.delay: 1 values for 2 flows"):
        verify(net, target={"delay": np.array([1.0])})
