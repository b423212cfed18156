"""Twins on flows split over several paths: one path entry per path carrying its share of the traffic, predictions
aggregated per flow by share (the rule of nettwin.sim.kpi.aggregate_routes), trained against per-flow targets
through that aggregation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nettwin.data import Dataset, generate_dataset
from nettwin.scenario import build_network, parse_scenario
from nettwin.sim.analytic import QueueingModel
from nettwin.sim.kpi import aggregate_routes
from nettwin.twin import Twin
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import PATH_FEATURES, delay_parts, graph_from_network
from nettwin.twin.normalise import Normalisation
from nettwin.twin.qt import QueueingTwin
from nettwin.twin.training import batch_loss

KPIS = ["delay", "jitter", "throughput", "drops"]


def _split_network(rate: str = "300kbps", shares: tuple[float, float] = (0.7, 0.3)):
    """s -> {a, b} -> t; flow 0 from s to t split over the two paths by ``shares``; flow 1 from a to t alone."""
    return build_network(
        parse_scenario(
            {
                "name": "diamond",
                "topology": {
                    "nodes": ["s", "a", "b", "t"],
                    "defaults": {"capacity": "1Mbps", "buffer": 8},
                    "links": [
                        {"src": "s", "dst": "a"},
                        {"src": "a", "dst": "t"},
                        {"src": "s", "dst": "b"},
                        {"src": "b", "dst": "t"},
                    ],
                },
                "flows": [
                    {
                        "src": "s",
                        "dst": "t",
                        "traffic": {"model": "poisson", "rate": rate, "packet_size": 500},
                        "paths": [
                            {"path": ["s", "a", "t"], "share": shares[0]},
                            {"path": ["s", "b", "t"], "share": shares[1]},
                        ],
                    },
                    {"src": "a", "dst": "t", "traffic": {"model": "cbr", "rate": "100kbps"}},
                ],
                "simulation": {"duration": "10s"},
            }
        )
    )


def _targets(network):
    """Queueing theory's KPIs of the network's flows, as training targets."""
    r = QueueingModel().simulate(network)
    return {k: np.asarray(r.flows[k], float) for k in (*KPIS, "tx_packets")}


def test_a_split_flow_is_one_path_entry_per_path_carrying_its_share():
    net = _split_network()
    g = graph_from_network(net)
    assert (g.n_paths, g.n_flows, g.splits) == (3, 2, True)
    assert g.route_flow.tolist() == [0, 0, 1] and g.route_share == pytest.approx([0.7, 0.3, 1.0])
    rate = g.path_x[:, PATH_FEATURES.index("mean_rate")]
    assert rate == pytest.approx([0.7 * 300e3, 0.3 * 300e3, 100e3])
    assert g.path_packets.sum() == pytest.approx(np.sum([f.traffic.packet_rate * 10 for f in net.flows]))
    load = g.link_x[:, 4]  # load: offered over capacity, each path its share
    assert load * net.capacity == pytest.approx(net.offered_load)
    tx, prop = g.flow_parts()
    path_tx, path_prop = delay_parts(g.path_x)
    assert tx[0] == pytest.approx(0.7 * path_tx[0] + 0.3 * path_tx[1]) and tx[1] == pytest.approx(path_tx[2])
    assert prop[0] == pytest.approx(0.7 * path_prop[0] + 0.3 * path_prop[1])
    plain = graph_from_network(net.subflows())  # the same paths as flows of their own
    assert not plain.splits and plain.n_flows == plain.n_paths == 3


def test_a_batch_maps_paths_to_flows_and_holds_per_flow_targets():
    split = _split_network()
    g = graph_from_network(split)
    targets = _targets(split)
    norm = Normalisation.fit([g, g], [targets, targets], KPIS)
    b = GraphBatch.collate([g, g], norm, [targets, targets], KPIS)
    assert (b.n_paths, b.n_flows, b.splits, b.flow_counts) == (6, 4, True, (2, 2))
    assert b.path_flow.tolist() == [0, 0, 1, 2, 2, 3]
    assert b.y["delay"].shape == (4,)
    tx = torch.as_tensor(targets["tx_packets"], dtype=torch.float32)
    assert torch.equal(b.flow_packets, torch.cat([tx, tx]))  # the observed packets, per flow
    n = targets["tx_packets"]
    assert b.packets[:3].tolist() == pytest.approx([0.7 * n[0], 0.3 * n[0], n[1]])
    assert [t.shape[0] for t in b.split_flows(b.flow_packets)] == [2, 2]


@pytest.mark.parametrize("relative", [False, True])
def test_the_loss_compares_aggregated_path_predictions_with_flow_targets(relative):
    net = _split_network(rate="1800kbps", shares=(0.6, 0.4))  # loaded enough that every path drops packets
    g = graph_from_network(net)
    # what each path would measure as a flow of its own, and the flows' KPIs that makes
    paths = QueueingModel().simulate(net.subflows()).flows
    per_path = {k: torch.tensor(paths[k], dtype=torch.float64) for k in KPIS}
    flow_of, share = torch.tensor(g.route_flow), torch.tensor(g.route_share)
    flows = aggregate_routes(per_path, flow_of, share, 2)
    targets = {k: flows[k].numpy() for k in KPIS}
    norm = Normalisation.fit([g], [targets], KPIS, relative=["delay", "jitter"] if relative else [])
    b = GraphBatch.collate([g], norm, [targets], KPIS, dtype=torch.float64)
    # the outputs of a model that predicts every path exactly, in its heads' units
    parts = (b.tx_time, b.propagation)
    out = {k: norm.kpi(k, per_path[k], parts) for k in ("delay", "jitter", "throughput")}
    out["drops"] = torch.logit(per_path["drops"] / b.packets)
    heads = dict.fromkeys(("delay", "jitter", "throughput"), "point") | {"drops": "binomial"}
    exact = batch_loss(out, b, KPIS, "mae", heads, norm)
    off = {k: (v.detach() + 0.5).requires_grad_(True) for k, v in out.items()}
    missed = batch_loss(off, b, KPIS, "mae", heads, norm)
    assert float(missed.detach()) > float(exact) + 0.05
    # exact but for the drops head's likelihood, which is not zero at the truth
    point = batch_loss(out, b, ["delay", "jitter", "throughput"], "mae", heads, norm)
    assert float(point) == pytest.approx(0.0, abs=1e-9)
    missed.backward()
    assert np.all(paths["drops"] > 0)
    for k, v in off.items():  # every path's output is trained, the split flow's two included
        assert v.grad is not None and torch.all(v.grad[:2] != 0), k


def test_a_twin_trains_on_split_flows_and_predicts_per_flow_and_per_path():
    nets = [
        _split_network(rate=f"{r}kbps", shares=(s, 1 - s)) for r, s in ((200, 0.5), (300, 0.7), (400, 0.6), (250, 0.8))
    ]
    data = [(n, _targets(n)) for n in nets]
    twin = Twin("routenet_fermi", kpis=KPIS, epochs=3, seed=0, relative_delay=True).fit(data, data)
    assert np.all(np.isfinite([r["train_loss"] for r in twin.history_]))
    pred = twin.predict(nets[1])
    assert {k: v.shape for k, v in pred.items()} == dict.fromkeys(KPIS, (2,))
    paths = twin.predict(nets[1], per_path=True)
    assert paths["flow"].tolist() == [0, 0, 1] and paths["share"] == pytest.approx([0.7, 0.3, 1.0])
    assert {k: paths[k].shape for k in KPIS} == dict.fromkeys(KPIS, (3,))
    # the flows' predictions are the paths' aggregated, with the loss each path's drops give it
    packets = graph_from_network(nets[1]).path_packets
    received = paths["share"] * (1 - np.clip(paths["drops"] / packets, 0, 1))
    again = aggregate_routes({k: paths[k] for k in KPIS}, paths["flow"], paths["share"], 2, received)
    for k in KPIS:
        assert pred[k] == pytest.approx(again[k], rel=1e-9), k
    # a batch of several networks gives each its own flows
    both = twin.predict([nets[0], nets[1]])
    assert both[1]["delay"] == pytest.approx(pred["delay"], rel=1e-5)


def test_a_probabilistic_twin_aggregates_its_deviations_per_flow():
    nets = [_split_network(rate=f"{r}kbps") for r in (200, 300, 400)]
    data = [(n, _targets(n)) for n in nets]
    twin = Twin("glance", kpis=["delay", "drops"], epochs=2, probabilistic=True, seed=1).fit(data, data)
    pred = twin.predict(nets[0])
    assert pred["delay_std"].shape == pred["drops_std"].shape == (2,)
    assert np.all(pred["delay_std"] > 0) and np.all(np.isfinite(pred["drops_std"]))
    paths = twin.predict(nets[0], per_path=True)
    # independent errors: the summed drops' deviation is the root of the sum of the paths' variances
    assert pred["drops_std"][0] == pytest.approx(np.hypot(*paths["drops_std"][:2]), rel=1e-9)


def test_queueing_theory_twin_reports_flows_and_on_request_paths():
    net = _split_network()
    qt = QueueingTwin(kpis=KPIS).fit([])
    flows, paths = qt.predict(net), qt.predict(net, per_path=True)
    assert flows["delay"] == pytest.approx(QueueingModel().simulate(net).flows["delay"])
    assert paths["flow"].tolist() == [0, 0, 1] and paths["delay"].shape == (3,)
    assert flows["drops"][0] == pytest.approx(paths["drops"][:2].sum())


def test_a_twin_trains_on_a_dataset_of_ecmp_samples(tmp_path):
    base = {
        "topology": {"grid": {"rows": 2, "cols": 3}, "defaults": {"capacity": "1Mbps", "buffer": 16}},
        "flows": [
            {"src": "r0c0", "dst": "r1c2", "traffic": {"model": "poisson", "rate": "300kbps", "packet_size": 500}},
            {"src": "r1c0", "dst": "r0c1", "traffic": {"model": "poisson", "rate": "200kbps", "packet_size": 500}},
        ],
        "routing": {"policy": "ecmp"},
        "simulation": {"engine": "analytic", "duration": "5s"},
    }
    spec = {"base": base, "samples": 6, "seed": 1, "simbase_runs": 0, "capacity_scale": {"uniform": [0.6, 1.5]}}
    generate_dataset(spec, tmp_path / "ds", workers=1)
    ds = Dataset(tmp_path / "ds")
    twin = Twin("glance", kpis=["delay", "throughput"], epochs=2, seed=0).fit(ds)
    sample = next(ds.samples("train"))
    network = sample.network()
    assert network.multipath and len(network.route_flow) > network.n_flows
    assert twin.predict(sample)["delay"].shape == (2,)
    assert twin.score(ds.samples("val"))["delay"] >= 0


def test_a_flow_predicted_to_lose_everything_on_every_path_still_has_a_finite_loss():
    net = _split_network()
    g = graph_from_network(net)
    targets = _targets(net)
    norm = Normalisation.fit([g], [targets], KPIS)
    b = GraphBatch.collate([g], norm, [targets], KPIS, dtype=torch.float64)
    out = {k: torch.zeros(3, dtype=torch.float64, requires_grad=True) for k in KPIS}
    # drops far above the packets sent on both paths of the split flow: no packet would be received
    out["drops"] = ((b.packets * 10 - norm.kpi_center["drops"]) / norm.kpi_scale["drops"]).requires_grad_(True)
    loss = batch_loss(out, b, KPIS, "mae", dict.fromkeys(KPIS, "point"), norm)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(v.grad).all() for v in out.values())
