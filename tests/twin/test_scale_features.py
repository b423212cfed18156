"""Scale-free columns: the same under faster links (every rate × k, every time / k) and in larger networks."""

from __future__ import annotations

import numpy as np
import pytest

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, SCALE_FREE, graph_from_network


def scaled(k: float):
    """A chain with on/off, Poisson and CBR flows, its capacities and rates × k and its times / k."""
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": ["a", "b", "c", "d"],
                    "links": [
                        {"src": "a", "dst": "b", "capacity": f"{1e6 * k}bps", "delay": 2e-3 / k, "buffer": 8},
                        {"src": "b", "dst": "c", "capacity": f"{2e6 * k}bps", "delay": 1e-3 / k, "buffer": 16},
                        {"src": "c", "dst": "d", "capacity": f"{1e6 * k}bps", "delay": 5e-3 / k, "buffer": 4},
                    ],
                },
                "flows": [
                    {"src": "a", "dst": "d", "traffic": {"model": "poisson", "rate": f"{300e3 * k}bps"}},
                    {
                        "src": "b",
                        "dst": "d",
                        "traffic": {"model": "onoff", "rate": f"{400e3 * k}bps", "tau_on": 1 / k, "tau_off": 2 / k},
                    },
                    {
                        "src": "d",
                        "dst": "a",
                        "traffic": {"model": "cbr", "rate": f"{500e3 * k}bps", "packet_size": 500},
                    },
                ],
            }
        )
    )


def ring(n: int):
    """n nodes in a ring, each sending to its clockwise neighbour."""
    nodes = [str(i) for i in range(n)]
    return build_network(
        parse_scenario(
            {
                "topology": {
                    "nodes": nodes,
                    "defaults": {"capacity": "1Mbps", "delay": "1ms"},
                    "links": [{"src": nodes[i], "dst": nodes[(i + 1) % n]} for i in range(n)],
                },
                "flows": [
                    {"src": nodes[i], "dst": nodes[(i + 1) % n], "traffic": {"model": "poisson", "rate": "600kbps"}}
                    for i in range(n)
                ],
            }
        )
    )


@pytest.mark.parametrize("k", [2.5, 1000.0])
def test_faster_links_leave_the_scale_free_columns_unchanged(k):
    slow, fast = graph_from_network(scaled(1.0)), graph_from_network(scaled(k))
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        cols = [names.index(n) for n in SCALE_FREE[kind]]
        a, b = getattr(slow, f"{kind}_x")[:, cols], getattr(fast, f"{kind}_x")[:, cols]
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, err_msg=kind)
    # ... while the reference they are relative to scales with the links
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES)):
        col = names.index("tx_time")
        np.testing.assert_allclose(getattr(fast, f"{kind}_x")[:, col] * k, getattr(slow, f"{kind}_x")[:, col])
    assert slow.path_x[:, PATH_FEATURES.index("qt_delay")].min() > np.log(2)  # the estimate is there, not zero


def test_a_larger_network_of_the_same_links_and_loads_has_the_same_columns():
    small, large = graph_from_network(ring(4)), graph_from_network(ring(12))
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        cols = [names.index(n) for n in SCALE_FREE[kind]]
        a = np.unique(getattr(small, f"{kind}_x")[:, cols].round(12), axis=0)
        b = np.unique(getattr(large, f"{kind}_x")[:, cols].round(12), axis=0)
        np.testing.assert_array_equal(a, b, err_msg=kind)


def test_scale_free_columns_are_known_columns():
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        assert set(SCALE_FREE[kind]) <= set(names)
        assert "tx_time" not in SCALE_FREE[kind] and "capacity" not in SCALE_FREE[kind]


@pytest.mark.filterwarnings("error")  # nothing it reads is outside its training ranges: no warning either
def test_a_twin_on_scale_free_inputs_with_relative_delays_predicts_delays_that_scale_with_the_links(tmp_path):
    """Links k times faster, with k times the traffic and times / k: the same inputs, so the same relative delays,
    so delays k times shorter; the checkpoint keeps that."""
    from nettwin.twin import Twin, load_twin, scale_free_options

    slow, fast = scaled(1.0), scaled(10.0)
    pairs = [(slow, {"delay": np.array([0.05, 0.03, 0.02]), "drops": np.array([3.0, 1.0, 0.0])})] * 4
    for model in ("glance", "routenet_fermi"):
        options = {**scale_free_options(model), "T": 2}
        twin = Twin(model, epochs=3, kpis=["delay", "drops"], relative_delay=True, options=options).fit(pairs)
        assert twin.normalisation_.relative == ("delay",)
        assert twin.iqr_["delay"] == pytest.approx(0.03)  # in seconds, as NMAE wants, not in log ratios
        a, b = twin.predict(slow), twin.predict(fast)
        np.testing.assert_allclose(b["delay"] * 10, a["delay"], rtol=1e-5)
        np.testing.assert_allclose(b["drops"], a["drops"], rtol=1e-5)
        twin.save(tmp_path / f"{model}.pt")
        np.testing.assert_array_equal(load_twin(tmp_path / f"{model}.pt").predict(fast)["delay"], b["delay"])


def test_relative_targets_are_log_ratios_of_queueing_to_transmission_times():
    import torch

    from nettwin.twin.graph import delay_parts
    from nettwin.twin.normalise import Normalisation

    g = graph_from_network(scaled(1.0))
    tx, propagation = delay_parts(g.path_x)
    np.testing.assert_allclose(propagation, [8e-3, 6e-3, 8e-3])  # a→d, b→d, d→a
    np.testing.assert_allclose(tx, 8000 * np.array([2.5 / 1e6, 1.5 / 1e6, 2.5 / 2e6]))  # d→a: 500-byte packets
    y = propagation + tx * np.array([2.0, 4.0, 8.0])
    norm = Normalisation.fit([g], [{"delay": y}], ["delay"], iqr={"delay": 123.0}, relative=["delay"])
    assert norm.kpi_center["delay"] == pytest.approx(np.log(4.0))
    assert norm.kpi_scale["delay"] == pytest.approx(np.log(2.0))  # the IQR of the log ratios, not the given one
    np.testing.assert_allclose(norm.kpi("delay", y, (tx, propagation)), [-1.0, 0.0, 1.0])
    back, _ = norm.absolute(
        "delay", torch.tensor(np.log([2.0, 4.0, 8.0])), None, torch.tensor(tx), torch.tensor(propagation)
    )
    np.testing.assert_allclose(back.numpy(), y)
    again = Normalisation.from_dict(norm.to_dict())
    assert again.relative == ("delay",) and again.relative_max == {"delay": pytest.approx(np.log(8.0))}
    # a prediction far beyond what training saw is bounded: at most 10 times the largest queueing learnt
    wild, _ = again.absolute(
        "delay", torch.tensor([np.log(3.0), 50.0]), None, torch.tensor(tx[:2]), torch.tensor(propagation[:2])
    )
    np.testing.assert_allclose(wild.numpy(), propagation[:2] + tx[:2] * np.array([3.0, 80.0]))


def test_delay_spreads_are_learnt_relative_to_transmission_times_without_propagation():
    import torch

    from nettwin.twin.graph import delay_parts
    from nettwin.twin.normalise import Normalisation

    g = graph_from_network(scaled(1.0))
    tx, propagation = delay_parts(g.path_x)
    spreads = {"delay_std": tx * np.array([1.0, 2.0, 4.0]), "jitter": tx * np.array([0.5, 1.0, 2.0])}
    norm = Normalisation.fit([g], [spreads], list(spreads), relative=list(spreads))
    assert norm.relative == ("delay_std", "jitter")
    np.testing.assert_allclose(norm.kpi("delay_std", spreads["delay_std"], (tx, propagation)), [-1.0, 0.0, 1.0])
    again = Normalisation.from_dict(norm.to_dict())
    for k, y in spreads.items():
        logs = (norm.kpi(k, y, (tx, propagation)) * norm.kpi_scale[k]) + norm.kpi_center[k]
        std = torch.full((3,), 0.1, dtype=torch.float64)
        back, spread = again.absolute(k, torch.tensor(logs), std, torch.tensor(tx), torch.tensor(propagation))
        np.testing.assert_allclose(back.numpy(), y)  # no propagation added back: it does not spread the delay
        np.testing.assert_allclose(spread.numpy(), 0.1 * y)


def test_a_twin_with_relative_delays_learns_the_spreads_relative_and_older_checkpoints_decode_as_before():
    import torch

    from nettwin.twin import Twin
    from nettwin.twin.normalise import Normalisation

    net = scaled(1.0)
    target = {"delay": np.array([0.05, 0.03, 0.02]), "delay_std": np.array([4e-3, 2e-3, 1e-3])}
    pairs = [(net, {**target, "jitter": target["delay_std"] / 2})] * 4
    twin = Twin("glance", epochs=2, kpis=["delay", "delay_std", "jitter"], relative_delay=True).fit(pairs)
    assert twin.normalisation_.relative == ("delay", "delay_std", "jitter")
    # statistics saved when only the delays were relative: the spreads stay in seconds
    old = {**twin.normalisation_.to_dict(), "relative": ["delay"], "relative_max": {}}
    value = torch.tensor([1e-3, 2e-3])
    back, _ = Normalisation.from_dict(old).absolute("delay_std", value, None, torch.ones(2), torch.ones(2))
    np.testing.assert_array_equal(back.numpy(), value.numpy())


@pytest.mark.parametrize(
    "relative, message",
    [
        ({"relative": ["drops"]}, "'normalisation.relative' must be a list of KPIs among delay"),
        ({"relative": "delay"}, "must be a list"),
        ({"relative_max": {"delay": "x"}}, "'normalisation.relative_max' must be a mapping of names to finite numbers"),
    ],
)
def test_relative_kpis_read_from_a_file_are_checked(relative, message):
    from nettwin.errors import TwinError
    from nettwin.twin.normalise import Normalisation

    g = graph_from_network(scaled(1.0))
    data = {**Normalisation.fit([g], [{"delay": np.ones(3)}], ["delay"]).to_dict(), **relative}
    with pytest.raises(TwinError, match=message):
        Normalisation.from_dict(data, "ckpt.pt")


def test_fermi_shares_of_the_transmission_times_sum_to_one_per_flow():
    import torch

    from nettwin.twin.batch import GraphBatch
    from nettwin.twin.models.routenet_fermi import _hop_shares
    from nettwin.twin.normalise import Normalisation

    g = graph_from_network(scaled(1.0))
    batch = GraphBatch.collate([g, g], Normalisation.fit([g], [{}], kpis=()), dtype=torch.float64)
    shares = _hop_shares(batch)
    assert torch.all(shares > 0)
    sums = torch.zeros(batch.n_paths, dtype=torch.float64).index_add_(0, batch.step_path, shares)
    torch.testing.assert_close(sums, torch.ones(batch.n_paths, dtype=torch.float64))


def test_a_twin_is_warned_only_about_the_inputs_it_reads():
    from nettwin.twin import OutsideTrainingWarning, Twin, scale_free_options

    slow, fast = scaled(1.0), scaled(10.0)
    pairs = [(slow, {"delay": np.array([0.05, 0.03, 0.02])})] * 2
    raw = Twin("routenet", epochs=1, kpis=["delay"], options={"T": 1}).fit(pairs)
    assert "link capacity 20 Mbps > 2 Mbps seen" in raw.outside_training(fast)
    with pytest.warns(OutsideTrainingWarning, match="link capacity"):
        raw.predict(fast)
    free = Twin("routenet", epochs=1, kpis=["delay"], options={"T": 1, **scale_free_options("routenet")}).fit(pairs)
    assert free.outside_training(fast) == []
    assert "nodes 12 > 4 seen" in free.outside_training(ring(12))  # the size still counts
