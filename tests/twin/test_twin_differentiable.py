"""The differentiable prediction path: a learned twin's per-flow KPIs as a torch function of rates, on/off periods
and capacities, equal to ``predict`` on the networks those parameters describe, with exact gradients."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from nettwin.errors import NotFittedError, TwinError
from nettwin.scenario import build_network, parse_scenario
from nettwin.scenario.network import Network
from nettwin.sim.analytic.model import QueueingModel, estimates
from nettwin.twin import QueueingTwin, Twin, graph_from_network, scale_free_options
from nettwin.twin.differentiable import DifferentiableTwin
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES

MODELS = ["glance", "routenet", "routenet_fermi", "gnn"]
QT_TWINS = ["glance_qt", "fermi_qt"]
"""Twins reading queueing theory's estimates (scale-free inputs; GLANCE's drops corrects the estimate's)."""

# Every feature column the twins may read that depends on the parameters (the rest are the network's).
SCALE_INPUTS = {
    "path_features": ["rate", "mean_rate", "tau_on", "tau_off", "tx_time", "rate_ratio", "peak_ratio", "on_ratio"]
    + ["off_ratio"],
    "link_features": ["capacity", "load", "tx_time", "log_capacity", "prop_ratio"],
}


def _diamond() -> Network:
    """s -> {a, b} -> t: flow 0 (on/off) split 70/30 over the two paths, flow 1 (poisson) from a to t alone."""
    return build_network(
        parse_scenario(
            {
                "name": "diamond",
                "topology": {
                    "nodes": ["s", "a", "b", "t"],
                    "defaults": {"capacity": "1Mbps", "buffer": 8},
                    "links": [
                        {"src": "s", "dst": "a", "capacity": "1.5Mbps"},
                        {"src": "a", "dst": "t"},
                        {"src": "s", "dst": "b", "capacity": "800kbps"},
                        {"src": "b", "dst": "t", "capacity": "1.2Mbps"},
                    ],
                },
                "flows": [
                    {
                        "src": "s",
                        "dst": "t",
                        "traffic": {"model": "onoff", "rate": "300kbps", "tau_on": 1, "tau_off": 2},
                        "paths": [{"path": ["s", "a", "t"], "share": 0.7}, {"path": ["s", "b", "t"], "share": 0.3}],
                    },
                    {"src": "a", "dst": "t", "traffic": {"model": "poisson", "rate": "100kbps", "packet_size": 500}},
                ],
                "simulation": {"duration": "10s", "warmup": "1s"},
            }
        )
    )


def _laws() -> Network:
    """A chain carrying one flow of every traffic law."""
    traffic = [
        {"model": "cbr", "rate": "100kbps"},
        {"model": "poisson", "rate": "200kbps", "packet_size": 400},
        {"model": "onoff", "rate": "300kbps", "tau_on": 0.5, "tau_off": 1},
        {"model": "uniform", "rate": "80kbps", "spread": 0.5},
        {"model": "normal", "rate": "120kbps", "gap_std": 0.08},
        {
            "model": "ppbp",
            "rate": "150kbps",
            "burst_arrivals": 5,
            "burst_min": 1000,
            "burst_max": 4000,
            "pareto_shape": 1.5,
        },
    ]
    ends = [("a", "d"), ("b", "c"), ("d", "b"), ("a", "c"), ("c", "a"), ("b", "d")]
    return build_network(
        parse_scenario(
            {
                "name": "laws",
                "topology": {
                    "nodes": ["a", "b", "c", "d"],
                    "defaults": {"capacity": "2Mbps"},
                    "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}],
                },
                "flows": [{"src": s, "dst": d, "traffic": t} for (s, d), t in zip(ends, traffic, strict=True)],
            }
        )
    )


def _classes(second: str = "wfq") -> Network:
    """a→b by strict priority (two queues), b→c by ``second`` (WFQ 3:1 or strict priority); flows of classes 0 and 1
    over both links, and one of class 1 on b→c alone."""
    scheduler = {"policy": second, "queues": [{"weight": 3}, {"weight": 1}] if second == "wfq" else [{}, {}]}
    return build_network(
        parse_scenario(
            {
                "name": f"sp-{second}",
                "topology": {
                    "nodes": ["a", "b", "c"],
                    "defaults": {"capacity": "1Mbps", "buffer": 10},
                    "links": [
                        {
                            "src": "a",
                            "dst": "b",
                            "bidirectional": False,
                            "scheduler": {"policy": "sp", "queues": [{}, {}]},
                        },
                        {"src": "b", "dst": "c", "capacity": "1.3Mbps", "bidirectional": False, "scheduler": scheduler},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "c", "tos": 0, "traffic": {"model": "poisson", "rate": "400kbps"}},
                    {"src": "a", "dst": "c", "tos": 1, "traffic": {"model": "cbr", "rate": "300kbps"}},
                    {"src": "b", "dst": "c", "tos": 1, "traffic": {"model": "poisson", "rate": "200kbps"}},
                ],
            }
        )
    )


def _variant(net: Network, rate: np.ndarray, capacity: np.ndarray, tau_on: float, tau_off: float) -> Network:
    """``net`` with these flow rates, link capacities and (on/off flows) periods: what a setting describes."""
    flows = []
    for f, r in zip(net.flows, rate, strict=True):
        update = {"rate": float(r)}
        if f.traffic.model == "onoff":
            update.update(tau_on=tau_on, tau_off=tau_off)
        flows.append(dataclasses.replace(f, traffic=f.traffic.model_copy(update=update)))
    return dataclasses.replace(net, flows=tuple(flows), capacity=np.asarray(capacity, float))


NETWORKS = {"diamond": _diamond, "laws": _laws, "sp-wfq": _classes, "sp-sp": lambda: _classes("sp")}


@pytest.fixture(scope="module")
def train(builders):
    nets = [builders.ring(), builders.chain(capacity="2Mbps"), *(make() for make in NETWORKS.values())]
    return [(n, builders.targets(n)) for n in nets]


@pytest.fixture(scope="module")
def twins(train):
    """One twin of each model, briefly trained, reading every parameter-dependent column."""
    out = {}
    for i, model in enumerate(MODELS):
        options = dict(SCALE_INPUTS)
        if model in ("glance", "gnn"):
            options["node_features"] = ["out_degree", "in_load", "out_load"]
        # the probabilistic heads and relative delays take the other decoding paths
        out[model] = Twin(
            model, epochs=2, device="cpu", options=options, probabilistic=i % 2 == 0, relative_delay=i < 2
        ).fit(train)
    glance = {**scale_free_options("glance"), "qt_drops": True}
    out["glance_qt"] = Twin("glance", epochs=2, device="cpu", options=glance, relative_delay=True).fit(train)
    fermi = scale_free_options("routenet_fermi")
    out["fermi_qt"] = Twin("routenet_fermi", epochs=2, device="cpu", options=fermi, relative_delay=True).fit(train)
    return out


def _tight_queueing_theory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graphs whose queueing-theory columns solve the fixed point to 1e-14, as the torch path nearly does (1e-12).

    The NumPy model stops at 1e-10, which where a strict-priority class saturates leaves its sojourn 1e-6 (relative)
    short of the fixed point (the torch path's 1e-12 leaves it 2e-9 short)."""
    import nettwin.twin.graph as graph

    model = QueueingModel(tol=1e-14, max_iter=100_000)
    monkeypatch.setattr(graph, "estimates", lambda network: estimates(network, model))


def _settings(net: Network, b: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``b`` settings of rates and capacities around the network's own, the last with three times the traffic
    (overloaded links, drops)."""
    rng = np.random.default_rng(seed)
    rates = np.array([f.traffic.rate for f in net.flows]) * rng.uniform(0.5, 2.0, (b, net.n_flows))
    rates[-1] *= 3.0
    return rates, net.capacity * rng.uniform(0.5, 2.0, (b, net.n_links))


_QT = {"qt_delay", "qt_loss", "qt_utilisation", "qt_blocking"}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_features_are_the_graphs_of_the_networks_the_parameters_describe(name, twins, monkeypatch):
    _tight_queueing_theory(monkeypatch)
    net = NETWORKS[name]()
    f = DifferentiableTwin(twins["glance_qt"], net)  # reads queueing theory's estimates: they are recomputed
    rates, caps = _settings(net, 3)
    t = torch.tensor
    node, link, path, packets = f.features(
        t(rates), t(np.full(rates.shape, 0.7)), t(np.full(rates.shape, 1.3)), t(caps)
    )
    for b in range(3):
        g = graph_from_network(_variant(net, rates[b], caps[b], 0.7, 1.3))
        blocks = ((node, g.node_x, NODE_FEATURES), (link, g.link_x, LINK_FEATURES), (path, g.path_x, PATH_FEATURES))
        for got, want, names in blocks:
            exact = [i for i, c in enumerate(names) if c not in _QT]
            np.testing.assert_allclose(got[b][:, exact].numpy(), want[:, exact], rtol=1e-12, atol=1e-300)
            qt = [i for i, c in enumerate(names) if c in _QT]
            np.testing.assert_allclose(got[b][:, qt].numpy(), want[:, qt], rtol=1e-8, atol=1e-15)
        np.testing.assert_allclose(packets[b].numpy(), g.path_packets, rtol=1e-12)
    assert np.any(path[2][:, PATH_FEATURES.index("qt_loss")].numpy() > 1e-5)  # overloaded: the drops term counts


def test_the_networks_own_parameters_are_its_flows_and_links(twins):
    net = _laws()
    p = DifferentiableTwin(twins["glance"], net).parameters()
    np.testing.assert_array_equal(p["rate"].numpy(), [f.traffic.rate for f in net.flows])
    np.testing.assert_array_equal(p["tau_on"].numpy(), [0, 0, 0.5, 0, 0, 0])
    np.testing.assert_array_equal(p["tau_off"].numpy(), [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(p["capacity"].numpy(), net.capacity)


@pytest.mark.filterwarnings("ignore::nettwin.twin.OutsideTrainingWarning")  # the settings go beyond training
@pytest.mark.parametrize("model", MODELS + QT_TWINS)
@pytest.mark.parametrize("name", list(NETWORKS))
def test_prediction_equals_predict(model, name, twins, monkeypatch):
    twin, net = twins[model], NETWORKS[name]()
    f = DifferentiableTwin(twin, net)
    own = f()
    expected = twin.predict(net)
    assert set(own) == set(expected)
    for k, v in expected.items():
        np.testing.assert_allclose(own[k].numpy(), v, rtol=1e-6, atol=1e-12 * max(1.0, np.abs(v).max()))
    _tight_queueing_theory(monkeypatch)  # the settings saturate links
    rates, caps = _settings(net, 3, seed=1)
    tau_on, tau_off = torch.full((3, net.n_flows), 0.7), torch.full((3, net.n_flows), 1.3)
    batched = f(rate=torch.tensor(rates), capacity=torch.tensor(caps), tau_on=tau_on, tau_off=tau_off)
    for b in range(3):
        expected = twin.predict(_variant(net, rates[b], caps[b], 0.7, 1.3))
        for k, v in expected.items():
            assert batched[k].shape == (3, net.n_flows)
            # Equal within 1e-5 of the KPI's scale (its IQR, what NMAE divides by): features equal to 1e-9 may round
            # to neighbouring float32 inputs, which a starved flow's queueing-theory columns, far outside the
            # training statistics, amplify to 1e-4 of its own small throughput.
            scale = twin.iqr_[k.removesuffix("_std")]
            np.testing.assert_allclose(batched[k][b].numpy(), v, rtol=1e-5, atol=1e-5 * scale)


GRADIENT_CASES = [
    *((model, "diamond", 1.0) for model in MODELS),
    ("glance", "laws", 1.0),  # the normal law's clipped-gap mean rate
    # queueing theory's fixed point, differentiated implicitly: strict priority, WFQ taken as FIFO, overload
    ("glance_qt", "diamond", 3.0),
    ("glance_qt", "sp-sp", 2.0),
    ("fermi_qt", "sp-wfq", 1.0),
]


@pytest.mark.parametrize(("model", "name", "load"), GRADIENT_CASES)
def test_gradients_match_finite_differences(model, name, load, twins):
    net = NETWORKS[name]()
    f = DifferentiableTwin(twins[model], net, dtype=torch.float64)
    own = f.parameters()
    own["rate"] = own["rate"] * load
    # distinct capacities: the bottleneck of a path and the median capacity have no derivative where two are equal
    own["capacity"] = own["capacity"] * (1.0 + 0.03 * torch.arange(net.n_links))
    ref = {k: v.detach() for k, v in f(rate=own["rate"], capacity=own["capacity"]).items()}

    def relative(rate, capacity, tau_on, tau_off):  # parameters as multiples of the network's own, KPIs of theirs
        out = f(
            rate=own["rate"] * rate,
            capacity=own["capacity"] * capacity,
            tau_on=own["tau_on"] * tau_on,
            tau_off=own["tau_off"] * tau_off,
        )
        return torch.cat([out[k] / ref[k].abs().clamp_min(1e-12) for k in sorted(out)])

    sizes = (net.n_flows, net.n_links, net.n_flows, net.n_flows)
    ones = [torch.ones(n, dtype=torch.float64, requires_grad=True) for n in sizes]
    assert torch.autograd.gradcheck(relative, ones, eps=1e-6, atol=1e-6, rtol=1e-4)
    weights = [p for m in twins[model].models_.values() for p in m.parameters()]
    before = [None if p.grad is None else p.grad.clone() for p in weights]
    rate = own["rate"].clone().requires_grad_(True)
    f(rate=rate)["delay"].sum().backward()
    assert rate.grad is not None and torch.all(torch.isfinite(rate.grad)) and rate.grad.abs().sum() > 0
    # the twin's own weights are left alone: the function runs on a frozen copy of them
    assert all((a is None and p.grad is None) or torch.equal(a, p.grad) for a, p in zip(before, weights, strict=True))


@pytest.fixture(scope="module")
def queueing_twin():
    """GLANCE trained (briefly, on load ratios) on the diamond at 16 loads with queueing theory's delays as targets:
    a twin whose delay grows with the traffic."""
    base = _diamond()
    rate = np.array([f.traffic.rate for f in base.flows])
    nets = [_variant(base, rate * k, base.capacity, 1.0, 2.0) for k in np.linspace(0.3, 3.0, 16)]
    data = [(n, {"delay": QueueingModel().simulate(n).flows["delay"]}) for n in nets]
    options = {"path_features": ["rate_ratio", "peak_ratio", "on_ratio", "off_ratio"], "link_features": ["load"]}
    options["node_features"] = ["out_load", "in_load"]
    return Twin("glance", kpis=["delay"], epochs=60, lr=3e-3, device="cpu", relative_delay=True, options=options).fit(
        data
    )


def test_gradient_descent_on_rates_brings_the_delay_to_a_target(queueing_twin):
    """The purpose: find traffic whose predicted KPIs meet a target profile, here a mean delay (the one the twin
    predicts at half the traffic), from four starting points at once, rates projected to bounds."""
    net = _diamond()
    f = DifferentiableTwin(queueing_twin, net)
    own = f.parameters()
    low, high = 0.1 * own["rate"], 3.0 * own["rate"]
    target = f(rate=0.5 * own["rate"])["delay"].mean()
    scale = torch.tensor([[1.0], [1.5], [2.0], [1.2]], dtype=torch.float64)
    rate = own["rate"] * scale
    losses = []
    for _ in range(8):
        rate.requires_grad_(True)
        delay = f(rate=rate)["delay"].mean(dim=1)
        losses.append(((delay - target) / target).detach() ** 2)
        (grad,) = torch.autograd.grad(delay.sum(), rate)
        with torch.no_grad():  # half a Newton step towards delay = target along the gradient, then the bounds
            rate = rate - 0.5 * ((delay - target) / (grad * grad).sum(1))[:, None] * grad
            rate = torch.maximum(torch.minimum(rate, high), low)
    losses = torch.stack(losses)
    assert torch.all(losses[1:] <= losses[:-1]), losses
    assert torch.all(losses[-1] <= 0.05 * losses[0]), losses


def test_refusals_and_shared_parameters(twins, train):
    net = _diamond()
    with pytest.raises(TwinError, match="learned Twin"):
        DifferentiableTwin(QueueingTwin().fit(train), net)
    with pytest.raises(NotFittedError):
        DifferentiableTwin(Twin("glance"), net)
    f = DifferentiableTwin(twins["gnn"], net)
    with pytest.raises(TwinError, match=r"'capacity' must be \(8,\) or \(B, 8\).* got \(2, 3\)"):
        f(capacity=torch.ones(2, 3))
    with pytest.raises(TwinError, match=r"batch sizes differ: \[2, 3\]"):
        f(rate=torch.ones(2, 2), capacity=torch.ones(3, 8))
    own = f.parameters()
    shared = f(rate=own["rate"][None], capacity=own["capacity"] * torch.ones(3, 1))  # (1, F) with (3, L)
    assert shared["delay"].shape == (3, 2)
    torch.testing.assert_close(shared["delay"], f()["delay"].expand(3, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.filterwarnings("ignore::nettwin.twin.OutsideTrainingWarning")
def test_on_cuda_matches_the_cpu(train):
    """A batch of 64 settings on the GPU (queueing theory's fixed point included), with gradients; the same weights
    on the CPU agree."""
    options = scale_free_options("routenet_fermi")
    twin = Twin("routenet_fermi", epochs=2, device="cuda", options=options, relative_delay=True).fit(train)
    net = _diamond()
    f = DifferentiableTwin(twin, net)
    rates, caps = _settings(net, 64)
    rate = torch.tensor(rates, device="cuda", requires_grad=True)
    out = f(rate=rate, capacity=torch.tensor(caps, device="cuda"))
    assert out["delay"].device.type == "cuda" and out["delay"].shape == (64, 2)
    out["delay"].sum().backward()
    assert torch.all(torch.isfinite(rate.grad))
    twin.models_ = {k: m.cpu() for k, m in twin.models_.items()}
    on_cpu = DifferentiableTwin(twin, net)(rate=torch.tensor(rates), capacity=torch.tensor(caps))
    for k, v in on_cpu.items():
        torch.testing.assert_close(out[k].detach().cpu(), v, rtol=1e-4, atol=1e-5 * twin.iqr_[k])
