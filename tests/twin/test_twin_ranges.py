"""What a twin records of its training inputs, and how it flags networks outside them."""

import warnings

import pytest

from nettwin.scenario import build_network, parse_scenario
from nettwin.twin import QueueingTwin, Twin
from nettwin.twin.graph import graph_from_network
from nettwin.twin.ranges import OutsideTrainingWarning, TrainingRanges


@pytest.fixture(scope="module")
def twin(builders):
    """A GLANCE trained on 1–3 Mb/s chains (all three traffic models) and the 10 Mb/s ring."""
    nets = [builders.chain(capacity=f"{c}Mbps") for c in (1, 2, 3)] + [builders.ring()]
    return Twin("glance", epochs=1, options={"path": 16, "link": 8, "node": 8}).fit(
        [(n, builders.targets(n)) for n in nets]
    )


def wireless_grid():
    return build_network(
        parse_scenario(
            {
                "topology": {"grid": {"rows": 3, "cols": 3, "spacing": 30}, "medium": "wireless"},
                "flows": [{"src": 0, "dst": 8, "traffic": {"model": "cbr", "rate": "100kbps"}}],
            }
        )
    )


def test_ranges_cover_every_input_of_the_training_networks(builders):
    nets = [builders.chain(capacity="1Mbps"), builders.chain(capacity="4Mbps")]
    ranges = TrainingRanges.fit([graph_from_network(n) for n in nets])
    assert ranges.bounds["link.capacity"] == (1e6, 4e6)
    assert ranges.bounds["path.rate"] == (1e5, 3e5)
    assert ranges.bounds["network.hops"] == (1, 3) and ranges.bounds["network.nodes"] == (4, 4)
    assert all(ranges.check(graph_from_network(n)) == [] for n in nets)
    assert TrainingRanges.from_dict(ranges.to_dict(), "f") == ranges


def test_a_twin_flags_links_a_hundred_times_faster_than_it_saw(twin, builders):
    fast = builders.chain(capacity="300Mbps")
    assert twin.outside_training(fast) == ["link capacity 300 Mbps > 10 Mbps seen"]
    with pytest.warns(OutsideTrainingWarning) as record:
        twin.predict(fast)
    assert [str(w.message) for w in record] == [
        "network 0 is outside the twin's training range: link capacity 300 Mbps > 10 Mbps seen; "
        "predictions may be unreliable"
    ]


def test_networks_inside_the_ranges_raise_no_warning(twin, builders):
    inside = [builders.chain(capacity="2500kbps"), builders.ring()]
    assert twin.outside_training(inside) == [[], []]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twin.predict(inside)


def test_one_warning_counts_every_network_outside(twin, builders):
    nets = [builders.ring(), builders.chain(capacity="1Gbps"), builders.chain(capacity="10kbps")]
    reasons = twin.outside_training(nets)
    assert reasons[0] == [] and reasons[1] and "link capacity 10 kbps < 1 Mbps seen" in reasons[2]
    with pytest.warns(OutsideTrainingWarning, match=r"^network 1 is outside .*\(1 more of the 3 networks too\)$"):
        twin.predict(nets)


def test_unseen_traffic_models_longer_paths_and_a_wireless_grid_are_outside(builders):
    cbr = builders.chain(flows=[{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}}])
    cbr_twin = Twin("gnn", epochs=1, options={"hidden": 4}).fit([(cbr, builders.targets(cbr))])
    why = cbr_twin.outside_training(builders.chain())
    assert why[0] == "traffic model poisson, onoff not seen in training (seen: cbr)"
    assert "path length 3 hops > 1 hops seen" in why
    grid = cbr_twin.outside_training(wireless_grid())
    assert any(r.startswith("link weight") for r in grid) and any(r.startswith("nodes 9 > 4") for r in grid)
    assert "medium wireless not seen in training (seen: wired)" in grid


def test_the_medium_is_a_recorded_input(builders):
    both = TrainingRanges.fit([graph_from_network(builders.chain()), graph_from_network(wireless_grid())])
    assert both.bounds["network.wireless"] == (0, 1)
    assert not any(r.startswith("medium") for r in both.check(graph_from_network(wireless_grid())))
    wireless_only = TrainingRanges.fit([graph_from_network(wireless_grid())])
    wired = graph_from_network(builders.chain())
    assert "medium wired not seen in training (seen: wireless)" in wireless_only.check(wired)


def test_twins_without_ranges_flag_nothing(builders):
    qt = QueueingTwin().fit([])
    assert qt.outside_training(builders.chain(capacity="1Gbps")) == []
