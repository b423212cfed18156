"""Properties every learnable model must have: shapes, reprs, batching and flow-order invariance."""

import inspect

import numpy as np
import pytest
import torch

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin import GLANCE, GNN, RouteNet, RouteNetFermi
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import graph_from_network
from nettwin.twin.normalise import Normalisation

MODELS = [GLANCE, RouteNet, RouteNetFermi, GNN]
KPIS = ["delay", "jitter", "throughput", "drops"]


def _batch(*nets):
    graphs = [graph_from_network(n) for n in nets]
    return GraphBatch.collate(graphs, Normalisation.fit(graphs, [{}] * len(graphs), ()))


@pytest.mark.parametrize(
    ("cls", "text"),
    [
        (GLANCE, "GLANCE(path=32, link=16, node=16, T=3)"),
        (RouteNet, "RouteNet(path=32, link=32, T=8)"),
        (RouteNetFermi, "RouteNetFermi(path=32, link=32, queue=32, T=8)"),
        (GNN, "GNN(hidden=96, layers=3)"),
    ],
)
def test_repr_shows_hyper_parameters(cls, text):
    assert repr(cls()) == text


@pytest.mark.parametrize("cls", MODELS)
def test_one_output_per_kpi_and_flow(cls, chain, ring):
    torch.manual_seed(0)
    out = cls(KPIS)(_batch(chain, ring))
    assert list(out) == KPIS
    assert all(v.shape == (7,) and torch.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("cls", MODELS)
def test_probabilistic_heads_give_mean_and_log_std_and_a_drop_logit(cls, chain):
    torch.manual_seed(0)
    model = cls(["delay", "drops"], probabilistic=True)
    out = model(_batch(chain))
    assert out["delay"].shape == (3, 2) and out["drops"].shape == (3,)
    assert (model.head("delay"), model.head("drops")) == ("normal", "binomial")


@pytest.mark.parametrize("cls", MODELS)
def test_a_batch_predicts_what_each_network_predicts_alone(cls, chain, ring):
    torch.manual_seed(0)
    model = cls(KPIS).eval()
    graphs = [graph_from_network(chain), graph_from_network(ring)]
    norm = Normalisation.fit(graphs, [{}, {}], ())
    with torch.no_grad():
        together = model(GraphBatch.collate(graphs, norm))
        alone = [model(GraphBatch.collate([g], norm)) for g in graphs]
    for k in KPIS:
        torch.testing.assert_close(together[k], torch.cat([a[k] for a in alone]), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", MODELS)
def test_reordering_flows_reorders_predictions(cls, chain_factory):
    torch.manual_seed(0)
    model = cls(KPIS).eval()
    net = chain_factory()
    flows = [
        {"src": "a", "dst": "d", "traffic": {"model": "cbr", "rate": "100kbps"}},
        {"src": "b", "dst": "c", "traffic": {"model": "onoff", "rate": "200kbps", "tau_on": 1, "tau_off": 2}},
        {"src": "d", "dst": "b", "traffic": {"model": "poisson", "rate": "300kbps", "packet_size": 500}},
    ]
    perm = [2, 0, 1]
    shuffled = chain_factory([flows[i] for i in perm])
    graphs = [graph_from_network(net), graph_from_network(shuffled)]
    norm = Normalisation.fit(graphs[:1], [{}], ())
    with torch.no_grad():
        a = model(GraphBatch.collate(graphs[:1], norm))
        b = model(GraphBatch.collate(graphs[1:], norm))
    for k in KPIS:
        torch.testing.assert_close(a[k][perm], b[k], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", MODELS)
def test_gradients_reach_every_parameter(cls, chain, ring):
    torch.manual_seed(0)
    model = cls(KPIS)
    out = model(_batch(chain, ring))
    sum(v.sum() for v in out.values()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_glance_shares_weights_across_layers():
    small, deep = GLANCE(T=1), GLANCE(T=5)
    assert sum(p.numel() for p in small.parameters()) == sum(p.numel() for p in deep.parameters())


def test_glance_nodes_matter_routenet_ignores_them(chain):
    """Changing only the topology's node degrees (an extra, unused link) moves GLANCE, not RouteNet."""
    torch.manual_seed(0)
    glance, routenet = GLANCE(KPIS).eval(), RouteNet(KPIS).eval()

    def net(extra: bool):
        links = [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}, {"src": "c", "dst": "d"}]
        if extra:
            links.append({"src": "b", "dst": "e"})
        return build_network(
            parse_scenario(
                {
                    "topology": {"nodes": ["a", "b", "c", "d", "e"] if extra else ["a", "b", "c", "d"], "links": links},
                    "flows": [{"src": "a", "dst": "d", "traffic": {"model": "cbr", "rate": "100kbps"}}],
                }
            )
        )

    graphs = [graph_from_network(net(False)), graph_from_network(net(True))]
    norm = Normalisation.fit(graphs[:1], [{}], ())
    with torch.no_grad():
        g = [glance(GraphBatch.collate([x], norm))["delay"] for x in graphs]
        r = [routenet(GraphBatch.collate([x], norm))["delay"] for x in graphs]
    assert not torch.allclose(g[0], g[1])
    torch.testing.assert_close(r[0], r[1])


def test_fermi_delay_is_a_sum_over_hops(chain):
    """RouteNet-Fermi's additive head: with the bias removed, a path's delay is the sum of its hops' shares."""
    torch.manual_seed(0)
    model = RouteNetFermi(["delay"]).eval()
    b = _batch(chain)
    with torch.no_grad():
        enc = model.encode(b)
        shares = torch.nn.functional.softplus(model.hop_heads("delay", enc.hops)[:, 0])
        total = model(b)["delay"] - model.hop_bias["delay"]
    expected = torch.zeros(b.n_paths).index_add_(0, b.step_path, shares)
    torch.testing.assert_close(total, expected)
    assert np.all(total.numpy() > 0)


def test_unknown_feature_is_named():
    from nettwin.twin import TwinError

    with pytest.raises(TwinError, match="GLANCE: unknown path feature 'colour'"):
        GLANCE(path_features=["colour"])


def test_glance_without_node_updates_sees_only_flows_sharing_its_links():
    """Node updates carry traffic between links no flow shares; the ablation removes exactly that."""
    hops = ("ab", "bc", "cd")

    def graph(rate_b: str):
        return graph_from_network(
            build_network(
                parse_scenario(
                    {
                        "topology": {"nodes": list("abcd"), "links": [{"src": u, "dst": v} for u, v in hops]},
                        "flows": [
                            {"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}},
                            {"src": "c", "dst": "d", "traffic": {"model": "cbr", "rate": rate_b}},
                        ],
                    }
                )
            )
        )

    graphs = [graph("100kbps"), graph("900kbps")]
    norm = Normalisation.fit(graphs, [{}, {}], ())
    for node_updates, moves in ((True, True), (False, False)):
        torch.manual_seed(0)
        model = GLANCE(KPIS, node_updates=node_updates).eval()
        with torch.no_grad():
            a = [model(GraphBatch.collate([g], norm))["delay"][0] for g in graphs]
        assert bool(not torch.isclose(a[0], a[1])) == moves
    assert "node_updates=False" in repr(GLANCE(node_updates=False))


@pytest.mark.parametrize(
    ("cls", "changed"),
    [
        (GLANCE, {"T": 2, "node": 8, "node_updates": False}),
        (RouteNet, {"link": 16, "link_features": ["capacity"]}),
        (RouteNetFermi, {"queue": 8, "additive": []}),
        (GNN, {"hidden": 12, "layers": 2, "probabilistic": True}),
    ],
)
def test_config_rebuilds_the_model_with_every_constructor_argument(cls, changed):
    model = cls(KPIS, **changed)
    config = model.config()
    assert set(config) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert all(config[k] == v for k, v in changed.items())
    again = cls(**config)
    assert again.config() == config and repr(again) == repr(model)
    assert [p.shape for p in again.parameters()] == [p.shape for p in model.parameters()]
