"""Dataset variations for scale benchmarks: random topologies per sample, per-link capacity, buffer and scheduler,
traffic laws and classes per flow; and the samples of specs without them, unchanged bit for bit."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from nettwin.data import Dataset, generate_dataset
from nettwin.data.sampling import draw_law, draw_scenario, scenario_json
from nettwin.data.spec import parse_dataset_spec
from nettwin.errors import DatasetError
from nettwin.scenario import build_network
from nettwin.scenario.traffic import Traffic

# Two specs using every variation that existed before these, and the SHA-256 of their samples' stored scenarios as
# those variations drew them: new variations draw from a generator of their own, so these never change.
EARLIER_SPECS = [
    (
        {
            "samples": 6,
            "seed": 7,
            "base": {
                "topology": {"builtin": "nsfnet", "defaults": {"capacity": "1Mbps"}},
                "simulation": {"duration": "5s"},
            },
            "topology": {
                "choices": [{"builtin": "nsfnet"}, {"grid": {"rows": 3, "cols": 3}}],
                "perturb": {"uniform": [1, 20]},
            },
            "capacity_scale": {"uniform": [0.5, 2]},
            "flows": {
                "random": {
                    "count": {"uniform": [3, 8]},
                    "traffic": {"model": "onoff", "rate": "50kbps", "tau_on": "1s", "tau_off": "1s"},
                }
            },
            "traffic": {
                "rate": {"loguniform": ["10kbps", "100kbps"]},
                "tau_on": {"choice": ["1s", "2s"]},
                "tau_off": {"uniform": ["0s", "2s"]},
                "packet_size": {"choice": ["500B", "1000B"]},
            },
            "routing": {"link_weights": {"uniform": [1, 5]}, "symmetric": True},
        },
        "8b4eea073c8b067ebeef444fbbc6a69fdd0787253410c32b9c8b6eb594b33132",
    ),
    (
        {
            "samples": 4,
            "seed": 3,
            "base": {"topology": {"builtin": "geant2"}, "simulation": {"duration": "5s"}},
            "flows": {"matrix": {"model": "gravity", "intensity": {"uniform": ["100kbps", "600kbps"]}}},
            "routing": {"link_weights": {"choice": [1, 2, 3]}},
        },
        "9ac5a671f1416c0da917c58d32cfd7cba6ec69e4400965151cbe2bed3c0c333d",
    ),
]

SCHEDULERS = [
    {"policy": "fifo"},
    {"policy": "sp", "queues": [{}, {}, {}]},
    {"policy": "wfq", "queues": [{"weight": 1}, {"weight": 2}, {"weight": 4}]},
    {"policy": "drr", "queues": [{"weight": 1}, {"weight": 1}, {"weight": 2}]},
]
LAWS = ["poisson", "onoff", "cbr", "uniform", "normal", "ppbp"]


def scale_spec(**changes) -> dict:
    spec = {
        "samples": 8,
        "seed": 5,
        "base": {
            "topology": {"random": {"model": "waxman", "nodes": 20}},
            "simulation": {"duration": "2s"},
        },
        "topology": {
            "choices": [
                {"random": {"model": "waxman", "nodes": 20}},
                {"random": {"model": "barabasi_albert", "nodes": 30}},
                {"random": {"model": "geometric", "nodes": 25}},
            ],
            "reseed": True,
        },
        "flows": {"random": {"count": 40, "traffic": {"model": "poisson", "rate": "100kbps"}}},
        "traffic": {
            "rate": {"loguniform": ["50kbps", "500kbps"]},
            "model": {"choice": LAWS},
            "tos": {"choice": [0, 1, 2]},
        },
        "links": {
            "capacity": {"loguniform": ["1Mbps", "40Mbps"]},
            "delay": {"uniform": ["1ms", "3ms"]},
            "buffer": {"choice": [4, 16, 64]},
            "scheduler": {"choice": SCHEDULERS},
        },
        "routing": {"link_weights": {"uniform": [1, 3]}},
    }
    spec.update(changes)
    return spec


def _digest(spec: dict) -> str:
    parsed = parse_dataset_spec(spec)
    h = hashlib.sha256()
    for i in range(parsed.samples):
        h.update(scenario_json(draw_scenario(parsed, i)).encode())
    return h.hexdigest()


@pytest.mark.parametrize(("spec", "digest"), EARLIER_SPECS)
def test_specs_without_the_new_variations_give_the_samples_they_always_gave(spec, digest):
    assert _digest(spec) == digest


def test_a_new_variation_leaves_the_earlier_draws_alone():
    spec, _ = EARLIER_SPECS[0]
    plain = parse_dataset_spec(spec)
    varied = parse_dataset_spec(
        {**spec, "links": {"buffer": {"choice": [4, 64]}}, "traffic": {**spec["traffic"], "tos": {"choice": [0, 1]}}}
    )
    for i in range(plain.samples):
        a, b = draw_scenario(plain, i), draw_scenario(varied, i)
        assert [(f.src, f.dst, f.traffic) for f in a.flows] == [(f.src, f.dst, f.traffic) for f in b.flows]
        assert a.topology.capacity_scale == b.topology.capacity_scale
        assert b.topology.overrides[: len(a.topology.overrides)] == a.topology.overrides


def test_every_sample_is_pure_and_builds():
    spec = parse_dataset_spec(scale_spec())
    first = [scenario_json(draw_scenario(spec, i)) for i in range(spec.samples)]
    assert [scenario_json(draw_scenario(spec, i)) for i in reversed(range(spec.samples))] == first[::-1]
    for i in range(spec.samples):
        build_network(draw_scenario(spec, i))  # classes fit every scheduled port, links exist


def test_reseed_gives_each_sample_its_own_random_graph():
    spec = parse_dataset_spec(scale_spec())
    graphs = [draw_scenario(spec, i).topology.random for i in range(spec.samples)]
    assert {g.model for g in graphs} == {"waxman", "barabasi_albert", "geometric"}
    assert len({g.seed for g in graphs}) == spec.samples
    fixed = parse_dataset_spec(scale_spec(topology={"choices": scale_spec()["topology"]["choices"]}))
    assert {draw_scenario(fixed, i).topology.random.seed for i in range(fixed.samples)} == {0}


def test_link_values_are_drawn_per_link_within_their_distributions():
    spec = parse_dataset_spec(scale_spec())
    for i in range(4):
        net = build_network(draw_scenario(spec, i))
        assert net.capacity.min() >= 1e6 and net.capacity.max() <= 40e6
        assert net.capacity.max() / net.capacity.min() >= 25  # spans the range within one sample
        assert net.delay.min() >= 1e-3 and net.delay.max() <= 3e-3 and len(np.unique(net.delay)) > net.n_links / 2
        fifo = net.policy == 0
        assert set(net.buffer[fifo].tolist()) <= {4, 16, 64} and len(set(net.buffer[fifo].tolist())) == 3
        assert set(net.policy.tolist()) == {0, 1, 2, 3}
        assert set(np.diff(net.queue_ptr)[~fifo].tolist()) == {3}


def test_symmetric_links_get_the_same_values_both_ways():
    spec = parse_dataset_spec(scale_spec(links={**scale_spec()["links"], "symmetric": True}))
    net = build_network(draw_scenario(spec, 0))
    index = {(u, v): j for j, (u, v) in enumerate(zip(net.link_src.tolist(), net.link_dst.tolist(), strict=True))}
    for (u, v), j in index.items():
        k = index[(v, u)]
        assert (net.capacity[j], net.delay[j], net.policy[j]) == (net.capacity[k], net.delay[k], net.policy[k])


def test_laws_and_classes_are_drawn_per_flow_keeping_the_mean_rate():
    spec = parse_dataset_spec(scale_spec(samples=3))
    plain = parse_dataset_spec(scale_spec(samples=3, traffic={"rate": {"loguniform": ["50kbps", "500kbps"]}}))
    for i in range(3):
        flows, before = draw_scenario(spec, i).flows, draw_scenario(plain, i).flows
        assert {f.traffic.model for f in flows} == set(LAWS) or i < 2  # 40 flows: every law is drawn in most samples
        assert {f.tos for f in flows} == {0, 1, 2}
        for f, g in zip(flows, before, strict=True):
            assert (f.src, f.dst) == (g.src, g.dst)
            assert f.traffic.mean_rate == pytest.approx(g.traffic.mean_rate, rel=2e-4)
    assert set().union(*({f.traffic.model for f in draw_scenario(spec, i).flows} for i in range(3))) == set(LAWS)


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("shape", [0.0, 0.5, 0.999])
def test_a_drawn_law_keeps_the_mean_rate_and_packet_sizes(law, shape):
    given = {
        "model": "onoff",
        "rate": 4e5,
        "tau_on": 1.0,
        "tau_off": 3.0,
        "packet_size": {"dist": "exponential", "mean": 500},
    }
    out = Traffic.model_validate(draw_law(given, law, shape))
    assert out.model == law
    assert out.mean_rate == pytest.approx(1e5, rel=2e-4)
    assert out.packet_size == Traffic.model_validate(given).packet_size


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"traffic": {"model": {"choice": ["poisson", "pareto"]}}},
            r"^traffic\.model\.choice\[1\]: Input should be 'cbr'",
        ),
        ({"traffic": {"model": ["poisson"]}}, r"^traffic\.model: .*a list is ambiguous"),
        (
            {"traffic": {"model": {"uniform": ["cbr", "ppbp"]}}},
            r"^traffic\.model: .*drawn from a list here; .*law's name",
        ),
        ({"traffic": {"model": "onoff", "tau_on": "1s"}}, r"^traffic\.tau_on: traffic\.model draws each flow's law"),
        (
            {"traffic": {"tos": {"choice": [0, 3]}}},
            r"^links\.scheduler\.choice\[1\]\.queues: traffic\.tos draws classes up to 3",
        ),
        ({"traffic": {"tos": 64}}, r"^traffic\.tos: must be at most 63"),
        ({"links": {"capacity": 0}}, r"^links\.capacity: .*greater than 0"),
        ({"links": {"buffer": {"uniform": [-1, 4]}}}, r"^links\.buffer\.uniform\[0\]: .*greater than or equal to 0"),
        (
            {"links": {"scheduler": {"policy": "wfq", "queues": [{}]}}},
            r"^links\.scheduler\.choice\[0\]\.queues\[0\]\.weight: wfq shares",
        ),
        ({"links": {"symmetric": True}}, r"^links\.symmetric: applies to drawn link values"),
        (
            {"topology": {"reseed": True}, "base": {"topology": {"builtin": "nsfnet"}}},
            r"^topology\.reseed: .*no candidate topology is random",
        ),
    ],
)
def test_bad_variations_are_one_line_naming_the_field(change, message):
    spec = scale_spec(**change)
    if "links" not in change:
        spec["links"] = {"scheduler": {"choice": SCHEDULERS}} if "tos" in change.get("traffic", {}) else {}
    if "topology" in change:
        spec["links"] = {}
    with pytest.raises(DatasetError, match=message) as err:
        parse_dataset_spec(spec)
    assert "\n" not in str(err.value)


def test_per_link_capacity_times_the_scale_must_stay_a_rate_nettwin_accepts():
    spec = scale_spec(links={"capacity": {"uniform": ["1Tbps", "900Tbps"]}}, capacity_scale={"uniform": [1, 2]})
    with pytest.raises(DatasetError, match="capacity_scale: 2 takes the fastest link to"):
        parse_dataset_spec(spec)


def test_wireless_links_refuse_a_drawn_capacity():
    base = {
        "topology": {"grid": {"rows": 2, "cols": 2, "spacing": 10}, "medium": "wireless"},
        "simulation": {"duration": "2s"},
    }
    spec = scale_spec(base=base, topology={}, links={"capacity": "2Mbps"})
    with pytest.raises(DatasetError, match=r"^links\.capacity: wireless links all send at topology\.wireless\.rate"):
        parse_dataset_spec(spec)


def test_a_stored_sample_resolves_on_a_topology_that_names_its_nodes_by_other_numbers(tmp_path):
    # The stored paths are node indices; nodes named 10, 20, 30, 40 must not read index 1 as a name.
    base = {
        "topology": {
            "nodes": [10, 20, 30, 40],
            "links": [{"src": 10, "dst": 20}, {"src": 20, "dst": 30}, {"src": 30, "dst": 40}],
        },
        "flows": [{"src": 10, "dst": 40, "traffic": {"model": "cbr", "rate": "100kbps"}}],
        "simulation": {"duration": "1s"},
    }
    generate_dataset({"samples": 2, "simbase_runs": 0, "base": base}, tmp_path / "ds", workers=1)
    for sample in Dataset(tmp_path / "ds").samples():
        net = sample.network()
        assert net.path_nodes(0) == (0, 1, 2, 3)
