"""The probabilistic heads: binomial NLL by hand, decoding, and a binomial drops head that recovers known p."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin import Twin, TwinError
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import expected_packets, graph_from_network
from nettwin.twin.likelihood import binomial_nll, decode, head_kind, head_outputs
from nettwin.twin.models import RouteNetFermi
from nettwin.twin.normalise import Normalisation
from nettwin.twin.training import batch_loss


def test_probabilistic_twins_give_drops_a_binomial_head_and_the_rest_a_normal():
    assert [head_kind(k, True) for k in ("delay", "jitter", "throughput", "drops")] == [
        "normal",
        "normal",
        "normal",
        "binomial",
    ]
    assert {head_kind(k, False) for k in ("delay", "drops")} == {"point"}
    assert [head_outputs(k) for k in ("point", "normal", "binomial")] == [1, 2, 1]


def test_binomial_nll_is_the_hand_computed_one():
    logit = torch.tensor([0.0, -2.0, 1.5])
    k = torch.tensor([1.0, 3.0, 0.0])
    n = torch.tensor([2.0, 10.0, 4.0])
    expected = []
    for x, kk, nn in zip(logit.tolist(), k.tolist(), n.tolist(), strict=True):
        p = 1.0 / (1.0 + math.exp(-x))
        expected.append(-(kk * math.log(p) + (nn - kk) * math.log(1.0 - p)))
    torch.testing.assert_close(binomial_nll(logit, k, n), torch.tensor(expected))


def test_binomial_nll_is_finite_for_extreme_logits_and_clamps_counts_to_n():
    nll = binomial_nll(torch.tensor([-80.0, 80.0]), torch.tensor([5.0, 0.0]), torch.tensor([5.0, 5.0]))
    assert torch.all(torch.isfinite(nll)) and torch.all(nll > 300)
    # More drops than packets counts as all dropped: the same as k = n.
    torch.testing.assert_close(
        binomial_nll(torch.tensor([0.3]), torch.tensor([12.0]), torch.tensor([10.0])),
        binomial_nll(torch.tensor([0.3]), torch.tensor([10.0]), torch.tensor([10.0])),
    )


def test_binomial_loss_of_a_batch_averages_the_per_packet_nll_over_flows(chain):
    g = graph_from_network(chain)
    targets = {"drops": np.array([2.0, 0.0, 7.0]), "tx_packets": np.array([20.0, 50.0, 10.0])}
    norm = Normalisation.fit([g], [targets], ["drops"])
    batch = GraphBatch.collate([g], norm, [targets], ["drops"])
    logit = torch.tensor([-1.0, -4.0, 0.5])
    loss = batch_loss({"drops": logit}, batch, ["drops"], "mae", {"drops": "binomial"}, norm)
    by_hand = 0.0
    for x, k, n in zip([-1.0, -4.0, 0.5], [2, 0, 7], [20, 50, 10], strict=True):
        p = 1.0 / (1.0 + math.exp(-x))
        by_hand += -(k * math.log(p) + (n - k) * math.log(1.0 - p)) / n / 3
    assert float(loss) == pytest.approx(by_hand, rel=1e-5)


def test_batch_packets_are_the_observed_tx_packets_when_given_else_the_expected_ones(chain):
    g = graph_from_network(chain)
    norm = Normalisation.fit([g], [{"drops": np.zeros(3)}], ["drops"])
    plain = GraphBatch.collate([g], norm)
    observed = GraphBatch.collate(
        [g], norm, [{"drops": np.zeros(3), "tx_packets": np.array([1.0, 2.0, 3.0])}], ["drops"]
    )
    np.testing.assert_allclose(plain.packets.numpy(), expected_packets(chain), rtol=1e-6)
    np.testing.assert_allclose(observed.packets.numpy(), [1.0, 2.0, 3.0])


def test_expected_packets_are_the_packet_rate_over_the_measured_window():
    net = build_network(
        parse_scenario(
            {
                "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
                "flows": [
                    {"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "80kbps", "packet_size": 1000}},
                    {
                        "src": "b",
                        "dst": "a",
                        "traffic": {"model": "onoff", "rate": "40kbps", "packet_size": 500, "tau_on": 1, "tau_off": 3},
                    },
                ],
                "simulation": {"duration": "25s", "warmup": "5s"},
            }
        )
    )
    # 80 kbit/s / 8000 bit = 10 pkt/s × 20 s; on/off: 40 kbit/s × 1/4 / 4000 bit = 2.5 pkt/s × 20 s.
    np.testing.assert_allclose(expected_packets(net), [200.0, 50.0])


def test_decode_gives_n_p_within_0_and_n_and_the_binomial_std():
    n = torch.tensor([0.0, 10.0, 1000.0, 1000.0])
    logit = torch.tensor([0.0, -3.0, 60.0, -60.0])
    mean, std = decode("binomial", logit, n, center=5.0, scale=2.0)
    p = torch.sigmoid(logit)
    torch.testing.assert_close(mean, n * p)
    torch.testing.assert_close(std, torch.sqrt(n * p * (1 - p)))
    assert torch.all(mean >= 0) and torch.all(mean <= n)


def test_a_binomial_head_cannot_be_additive():
    with pytest.raises(TwinError, match="binomial head and cannot be summed"):
        RouteNetFermi(["delay", "drops"], additive=("drops",), probabilistic=True)


P_TRUE = np.array([0.05, 0.3, 0.6])


@pytest.fixture(scope="module")
def drops_twin(builders):
    """A GLANCE twin with a binomial drops head, trained on one chain whose flows lose known fractions."""
    torch.set_num_threads(1)
    net = builders.chain()
    n = expected_packets(net)
    targets = {"drops": np.round(P_TRUE * n), "tx_packets": n}
    twin = Twin(
        "glance",
        kpis=["drops"],
        probabilistic=True,
        epochs=300,
        batch_size=1,
        lr=1e-2,
        patience=300,
        lr_decay=1.0,
        options={"path": 16, "link": 8, "node": 8, "T": 1, "readout": 16},
    )
    return twin.fit([(net, targets)]), net, n


def test_the_binomial_head_recovers_known_drop_probabilities(drops_twin):
    twin, net, n = drops_twin
    pred = twin.predict(net)
    np.testing.assert_allclose(pred["drops"] / n, P_TRUE, atol=0.02)


def test_binomial_predictions_lie_in_0_n_with_a_positive_binomial_std(drops_twin, ring):
    twin, net, n = drops_twin
    for network in (net, ring):
        pred = twin.predict(network)
        packets = expected_packets(network)
        assert pred["drops"].shape == pred["drops_std"].shape == (network.n_flows,)
        assert np.all(pred["drops"] >= 0) and np.all(pred["drops"] <= packets)
        assert np.all(pred["drops_std"] > 0)
        p = pred["drops"] / packets
        np.testing.assert_allclose(pred["drops_std"], np.sqrt(packets * p * (1 - p)), rtol=1e-6)
