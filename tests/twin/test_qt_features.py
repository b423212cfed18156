"""Queueing-theory estimates as twin input features: values against closed forms, cost, old checkpoints; drops
learnt as a correction of queueing theory's estimate (``qt_drops``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from nettwin.scenario import build_network, parse_scenario
from nettwin.sim.analytic import QueueingModel, estimates, mm1b_blocking, mm1b_sojourn_mean
from nettwin.twin import Twin, load_twin
from nettwin.twin.graph import LINK_FEATURES, PATH_FEATURES, expected_packets, graph_from_network
from nettwin.twin.likelihood import qt_logit
from nettwin.twin.ranges import OutsideTrainingWarning

DATA = Path(__file__).parent / "data"


def tandem(rate: str = "600kbps", buffer: int = 6, propagation: str = "1ms"):
    """a→b→c at 1 and 2 Mbps, one Poisson flow of exponential 1000-byte packets over both."""
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["a", "b", "c"],
                    "defaults": {"buffer": buffer, "delay": propagation},
                    "links": [
                        {"src": "a", "dst": "b", "capacity": "1Mbps", "bidirectional": False},
                        {"src": "b", "dst": "c", "capacity": "2Mbps", "bidirectional": False},
                    ],
                },
                "flows": [
                    {
                        "src": "a",
                        "dst": "c",
                        "traffic": {
                            "model": "poisson",
                            "rate": rate,
                            "packet_size": {"dist": "exponential", "mean": 1000},
                        },
                    }
                ],
            }
        )
    )


def test_link_and_path_estimates_are_the_mm1b_closed_forms_of_a_tandem():
    g = graph_from_network(tandem())
    link, path = LINK_FEATURES.index, PATH_FEATURES.index
    lam = 600e3 / 8000  # packets/s
    mu1, mu2 = 1e6 / 8000, 2e6 / 8000
    p1 = float(mm1b_blocking(lam, mu1, 6))
    lam2 = lam * (1 - p1)
    p2 = float(mm1b_blocking(lam2, mu2, 6))
    w1, w2 = float(mm1b_sojourn_mean(lam, mu1, 6)), float(mm1b_sojourn_mean(lam2, mu2, 6))
    t1, t2 = 1 / mu1, 1 / mu2
    x = g.link_x
    np.testing.assert_allclose(x[:, link("tx_time")], [t1, t2])
    np.testing.assert_allclose(x[:, link("qt_blocking")], [p1, p2], rtol=1e-8)
    np.testing.assert_allclose(x[:, link("qt_utilisation")], [lam * (1 - p1) / mu1, lam2 * (1 - p2) / mu2], rtol=1e-8)
    np.testing.assert_allclose(x[:, link("qt_delay")], np.log1p([w1 / t1, w2 / t2]), rtol=1e-8)
    np.testing.assert_allclose(x[:, link("qt_exact")], 1.0)
    np.testing.assert_allclose(x[:, link("prop_ratio")], np.log1p(1e-3 / np.array([t1, t2])))
    p = g.path_x[0]
    np.testing.assert_allclose(p[path("tx_time")], t1 + t2)
    np.testing.assert_allclose(p[path("qt_delay")], np.log1p((w1 + w2) / (t1 + t2)), rtol=1e-8)
    np.testing.assert_allclose(p[path("qt_loss")], 1 - (1 - p1) * (1 - p2), rtol=1e-8)
    np.testing.assert_allclose(p[path("rate_ratio")], 0.6)
    np.testing.assert_allclose(p[path("prop_ratio")], np.log1p(2e-3 / (t1 + t2)))


def test_one_mm1_link_with_a_large_buffer_gives_the_mm1_sojourn():
    g = graph_from_network(tandem(rate="500kbps", buffer=2000))
    rho = 0.5
    # M/M/1: sojourn 1 / (mu − lambda), i.e. 1 / (1 − rho) transmission times
    assert g.link_x[0, LINK_FEATURES.index("qt_delay")] == pytest.approx(np.log1p(1 / (1 - rho)), rel=1e-9)
    assert g.link_x[0, LINK_FEATURES.index("qt_blocking")] == pytest.approx(0.0, abs=1e-12)


def test_flow_estimates_are_the_analytic_engines(builders):
    net = builders.ring()
    est = estimates(net)
    result = QueueingModel().simulate(net)
    propagation = np.array([net.delay[list(f.path)].sum() for f in net.flows])
    np.testing.assert_allclose(est.queueing + propagation, result.flows["delay"], rtol=1e-12)
    np.testing.assert_allclose(est.loss, result.flows["drop_rate"], rtol=1e-12)
    np.testing.assert_allclose(est.utilisation, result.links["utilisation"], rtol=1e-9, atol=1e-15)


def test_without_an_estimate_the_columns_are_zero_and_flagged():
    radio = {
        "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 30}, "medium": "wireless"},
        "flows": [{"src": 0, "dst": 3, "traffic": {"model": "poisson", "rate": "50kbps", "packet_size": 210}}],
    }
    g = graph_from_network(build_network(parse_scenario(radio)))  # the model cannot describe a shared medium
    for name in ("qt_utilisation", "qt_blocking", "qt_delay", "qt_exact"):
        assert not g.link_x[:, LINK_FEATURES.index(name)].any()
    for name in ("qt_delay", "qt_loss", "qt_exact"):
        assert not g.path_x[:, PATH_FEATURES.index(name)].any()


def test_the_estimates_cost_little_next_to_a_training_step(builders):
    net = builders.ring()
    start = time.process_time()
    for _ in range(20):
        graph_from_network(net)
    per_graph = (time.process_time() - start) / 20
    assert per_graph < 0.5  # a last guard; docs/twins.md gives the measured cost


@pytest.mark.parametrize("model", ["glance", "routenet", "routenet_fermi", "gnn"])
def test_every_model_trains_on_the_estimates(model, pairs):
    columns = {
        "glance": {"path": 16, "path_features": ["qt_delay", "qt_loss"], "link_features": ["qt_delay", "qt_blocking"]},
        "routenet": {"path_features": ["qt_delay", "qt_loss"], "link_features": ["qt_utilisation"]},
        "routenet_fermi": {"T": 2, "path_features": ["qt_delay"], "queue_features": ["qt_delay", "qt_blocking"]},
        "gnn": {"path_features": ["qt_delay", "qt_loss"], "link_features": ["qt_utilisation"]},
    }[model]
    twin = Twin(model, epochs=2, kpis=["delay", "drops"], options=columns).fit(pairs)
    out = twin.predict(pairs[0][0])
    assert np.all(np.isfinite(out["delay"])) and out["delay"].shape == (pairs[0][0].n_flows,)


@pytest.mark.parametrize("model", ["glance", "routenet_fermi"])
def test_a_checkpoint_written_before_these_columns_loads_and_predicts_as_it_did(model, builders):
    """Saved by the previous version (11 path, 5 link, 2 node columns): it reads its columns by name and predicts
    what it predicted then."""
    twin = load_twin(DATA / f"{model}_before_scale_free.pt")
    expected = json.loads((DATA / f"{model}_before_scale_free.json").read_text())
    out = twin.predict(builders.ring())
    for k, v in expected.items():
        np.testing.assert_allclose(out[k], v, rtol=1e-6, atol=1e-12)


def zero_drops_correction(twin: Twin) -> None:
    """Set the last layer of every drops head to zero, so the correction the head adds is exactly 0."""
    for model in twin.models_.values():
        heads = model.heads
        layers = heads.out["drops"] if heads.residual else heads.body["drops"]
        last = [m for m in layers.modules() if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            last.weight.zero_()
            last.bias.zero_()


@pytest.mark.parametrize("model", ["glance", "routenet", "routenet_fermi", "gnn"])
@pytest.mark.parametrize("probabilistic", [False, True])
def test_a_zero_correction_predicts_queueing_theorys_drops(model, probabilistic, pairs):
    twin = Twin(model, epochs=1, kpis=["delay", "drops"], probabilistic=probabilistic, options={"qt_drops": True})
    twin.fit(pairs)
    zero_drops_correction(twin)
    net = tandem(rate="900kbps", buffer=4)
    loss = estimates(net).loss
    assert loss.min() > 0.01  # a lossy tandem: the estimate is not the floor of the logit
    with pytest.warns(OutsideTrainingWarning):  # a tandem, smaller than the training networks
        out = twin.predict(net)
    # exact up to the float32 the networks compute in
    np.testing.assert_allclose(out["drops"], expected_packets(net) * loss, rtol=1e-6)
    # queueing theory rounds its packet counts; the twin keeps the expectation
    np.testing.assert_allclose(out["drops"], QueueingModel().simulate(net).flows["drops"], atol=1.0)
    assert all("path.qt_loss" in m.inputs() for m in twin.models_.values())


def test_the_correction_moves_the_logit_around_queueing_theorys():
    loss = torch.tensor([0.0, 1e-4, 0.3, 1.0], dtype=torch.float64)
    p = torch.sigmoid(qt_logit(loss))
    np.testing.assert_allclose(p[1:3], loss[1:3], rtol=1e-12)
    assert 0 < p[0] < 1e-8 and 1 - 1e-8 < p[3] < 1  # lossless and saturated flows stay finite logits
    assert torch.all(torch.sigmoid(qt_logit(loss) + 1.0) > p)


def test_without_the_option_drops_keep_their_head_and_the_checkpoint_records_it(pairs, tmp_path):
    plain = Twin("glance", epochs=1, kpis=["drops"]).fit(pairs)
    model = next(iter(plain.models_.values()))
    assert model.head("drops") == "point" and not model.qt_drops
    residual = Twin("glance", epochs=1, kpis=["drops"], options={"qt_drops": True}).fit(pairs)
    residual.save(tmp_path / "r.pt")
    loaded = load_twin(tmp_path / "r.pt")
    assert next(iter(loaded.models_.values())).head("drops") == "binomial"
    net = pairs[0][0]
    np.testing.assert_allclose(loaded.predict(net)["drops"], residual.predict(net)["drops"], rtol=1e-12)
