"""The dataset spec: defaults, units, distributions, one-line errors, base files, and the spec hash."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from _datasets import TINY_BASE, tiny_spec

from nettwin.data.sampling import draw_scenario
from nettwin.data.spec import (
    CountDist,
    DatasetSpec,
    RateDist,
    RealDist,
    load_dataset_spec,
    parse_dataset_spec,
)
from nettwin.errors import DatasetError, ScenarioError


def test_defaults_and_units():
    spec = parse_dataset_spec({"base": TINY_BASE, "samples": 5, "traffic": {"rate": {"choice": ["10kbps", 2e4]}}})
    assert (spec.seed, spec.simbase_runs, spec.shard_size, spec.engine) == (0, 3, 100, None)
    assert (spec.splits.train, spec.splits.val, spec.splits.test) == (0.8, 0.1, 0.1)
    assert spec.traffic.rate.choice == [1e4, 2e4]
    assert spec.flows.mode == "fixed"
    assert spec.dataset_name == "tiny" and spec.engine_name == "builtin"


def test_scalar_is_a_constant_distribution():
    d = RealDist.model_validate(2.5)
    assert d.choice == [2.5]
    assert np.all(d.draw(np.random.default_rng(0), 5) == 2.5)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"choice": [1], "uniform": [1, 2]}, "exactly one of choice, uniform or loguniform; got choice, uniform"),
        ({"uniform": [3, 1]}, r"low must not exceed high, got \[3.0, 1.0\]"),
        ({"loguniform": [0, 1]}, r"capacity_scale.loguniform\[0\]: Input should be greater than 0"),
        ([1, 2], "a list is ambiguous here"),
        ({"choice": []}, "at least 1 item"),
    ],
)
def test_bad_distributions(data, match):
    with pytest.raises(DatasetError, match=match):
        parse_dataset_spec({"base": TINY_BASE, "samples": 1, "capacity_scale": data})


def test_draws_stay_in_their_support():
    rng = np.random.default_rng(1)
    rate = RateDist.model_validate({"loguniform": ["10kbps", "1Mbps"]}).draw(rng, 1000)
    assert rate.min() >= 1e4 and rate.max() <= 1e6
    # log-uniform: about half the draws below the geometric mean
    assert 0.4 < np.mean(rate < 1e5) < 0.6
    count = CountDist.model_validate({"uniform": [2, 4]}).draw_int(rng, 1000)
    assert set(count.tolist()) == {2, 3, 4}
    picks = RealDist.model_validate({"choice": [1, 10, 20]}).draw(rng, 1000)
    assert set(picks.tolist()) == {1.0, 10.0, 20.0}


def test_errors_are_one_line_per_problem_naming_the_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "base": TINY_BASE,
                "samples": 0,
                "bogus": 1,
                "traffic": {"tau_on": {"choice": ["fast"]}},
                "splits": {"train": 0.5, "val": 0.1, "test": 0.1},
            }
        )
    )
    with pytest.raises(DatasetError) as info:
        load_dataset_spec(path)
    lines = str(info.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    text = "\n".join(lines)
    assert "samples: Input should be greater than 0, got 0" in text
    assert "bogus: unknown key" in text
    assert "traffic.tau_on.choice[0]: cannot read 'fast' as a duration" in text
    assert "splits: train + val + test must add up to 1, got 0.7" in text
    assert len(lines) == 4


def test_base_file_relative_to_the_spec(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text(yaml.safe_dump(TINY_BASE))
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({"base": "sub/base.yaml", "samples": 3}))
    spec = load_dataset_spec(tmp_path / "spec.yaml")
    assert spec.base.name == "tiny" and len(spec.base.flows) == 3
    assert spec.given["base"] == "sub/base.yaml"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"base": "missing.yaml", "samples": 3}))
    with pytest.raises(DatasetError, match=r"bad.yaml: base: .*missing.yaml: no such file"):
        load_dataset_spec(tmp_path / "bad.yaml")


def test_base_errors_name_the_field():
    base = {**TINY_BASE, "simulation": {"duration": "-1s"}}
    with pytest.raises(DatasetError, match=r"^base.simulation.duration: cannot read '-1s'"):
        parse_dataset_spec({"base": base, "samples": 3})


def test_base_flows_optional_only_when_replaced():
    base = {k: v for k, v in TINY_BASE.items() if k != "flows"}
    random = {"random": {"count": 3, "traffic": {"model": "cbr", "rate": "10kbps"}}}
    spec = parse_dataset_spec({"base": base, "samples": 3, "flows": random})
    assert spec.flows.mode == "random" and "flows" not in spec.resolved()["base"]
    with pytest.raises(DatasetError, match="base.flows: Field required"):
        parse_dataset_spec({"base": base, "samples": 3})


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"flows": {"matrix": {"intensity": "1Mbps"}}, "traffic": {"rate": "1kbps"}}, "traffic.rate and flows.matrix"),
        ({"topology": {"perturb": 10}}, "no candidate topology is a grid"),
        (
            {"flows": {"random": {"count": 2, "traffic": {"model": "cbr", "rate": 1}}, "matrix": {"intensity": 1}}},
            "at most one of random or matrix",
        ),
        ({"simbase_runs": 17}, "simbase_runs: Input should be less than or equal to 16"),
    ],
)
def test_conflicting_keys(changes, match):
    with pytest.raises(DatasetError, match=match):
        parse_dataset_spec(tiny_spec(**changes))


def test_hash_is_stable_and_sensitive():
    a, b = parse_dataset_spec(tiny_spec()), parse_dataset_spec(tiny_spec())
    assert a.spec_hash() == b.spec_hash()
    assert a.replace(samples=11).spec_hash() != a.spec_hash()
    assert parse_dataset_spec(tiny_spec(seed=8)).spec_hash() != a.spec_hash()
    # human units and SI give the same resolved spec
    si = tiny_spec()
    si["base"] = {**si["base"], "simulation": {"engine": "builtin", "duration": 5.0}}
    assert parse_dataset_spec(si).spec_hash() == a.spec_hash()


def test_resolved_round_trip():
    for changes in ({}, {"flows": {"matrix": {"intensity": {"uniform": ["1kbps", "2kbps"]}}}, "traffic": {}}):
        spec = parse_dataset_spec(tiny_spec(**changes))
        again = DatasetSpec.from_resolved(spec.resolved())
        assert again.spec_hash() == spec.spec_hash()
        assert again.resolved() == spec.resolved()


def test_replace_keeps_the_given_mapping():
    spec = parse_dataset_spec(tiny_spec()).replace(samples=3)
    assert spec.samples == 3 and spec.given["samples"] == 3
    with pytest.raises(DatasetError, match="samples"):
        spec.replace(samples=0)


def test_split_sizes_are_exact():
    spec = parse_dataset_spec(tiny_spec(splits={"train": 0.6, "val": 0.2, "test": 0.2}))
    assert spec.splits.sizes(10) == {"train": 6, "val": 2, "test": 2}
    assert spec.splits.sizes(1) == {"train": 1, "val": 0, "test": 0}
    assert sum(spec.splits.sizes(7).values()) == 7


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity_scale": 0}, "capacity_scale: Input should be greater than 0, got 0"),
        ({"capacity_scale": True}, "capacity_scale: expected a number, got a boolean (true)"),
        (
            {"capacity_scale": 1e300},
            "capacity_scale: 1e+300 takes the fastest link to 2e+293 Tbps, above the fastest rate nettwin accepts "
            "(1000 Tbps)",
        ),
        (
            {"samples": 10**12},
            "samples: must be at most 10000000 (the most samples one dataset holds), got 1000000000000",
        ),
        (
            {"samples": 1e12},
            "samples: must be at most 10000000 (the most samples one dataset holds), got 1000000000000",
        ),
        ({"seed": True}, "seed: expected a number, got a boolean (true)"),
        (
            {"flows": {"random": {"count": 10**12, "traffic": {"model": "cbr", "rate": "1kbps"}}}},
            "flows.random.count: must be at most 1000000 (flows drawn for one sample), got 1000000000000",
        ),
        (
            {"flows": {"matrix": {"intensity": "1Mbps", "traffic": {"model": "cbr", "rate": "1kbps"}}}},
            "flows.matrix.traffic.rate: the traffic matrix sets every flow's rate; leave it out",
        ),
        (
            {"routing": {"symmetric": True}},
            "routing.symmetric: applies to drawn link_weights; give routing.link_weights",
        ),
        (
            {"traffic": {"packet_size": 1e308}},
            "traffic.packet_size: must be at most 65535 B (the IPv4 maximum), got 1e+308 B",
        ),
        (
            {"traffic": {"rate": {"uniform": ["1kbps", True]}}},
            "traffic.rate.uniform: expected a number, got a boolean (true)",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line_at_the_field(changes, message):
    spec = tiny_spec(**changes)
    if "flows" in changes:
        del spec["traffic"]
    with pytest.raises(DatasetError) as info:
        parse_dataset_spec(spec)
    assert str(info.value) == message


def test_a_directory_as_base_says_so(tmp_path):
    (tmp_path / "base").mkdir()
    with pytest.raises(DatasetError) as info:
        parse_dataset_spec({"base": "base", "samples": 3}, tmp_path, "spec.yaml")
    assert str(info.value) == f"spec.yaml: base: {tmp_path / 'base'}: is a directory, not a YAML or JSON file"


def test_the_base_is_a_template_and_each_sample_must_carry_packets():
    slow = {**TINY_BASE, "flows": [{**f, "traffic": {"model": "cbr", "rate": "1bps"}} for f in TINY_BASE["flows"]]}
    spec = parse_dataset_spec({"base": slow, "samples": 2, "traffic": {"rate": "50kbps"}})
    assert draw_scenario(spec, 0).flows[0].traffic.rate == 5e4
    still_slow = parse_dataset_spec({"base": slow, "samples": 2, "traffic": {"rate": "1bps"}})
    with pytest.raises(ScenarioError) as info:
        draw_scenario(still_slow, 0)
    assert str(info.value) == (
        "sample 0: simulation.duration: the flows are expected to send 0.0019 packets in the measured window "
        "(duration - warmup = 5.00 s); make duration at least 2667 s so that they send one"
    )


def test_a_grid_perturbation_radius_takes_distance_units_as_the_scenario_format_does():
    spec = {
        "name": "pert",
        "base": {
            "topology": {"grid": {"rows": 2, "cols": 2, "spacing": "30m"}},
            "flows": [{"src": 0, "dst": 3, "traffic": {"model": "cbr", "rate": "10kbps"}}],
            "simulation": {"duration": "5s"},
        },
        "samples": 2,
        "topology": {"perturb": {"uniform": ["1m", "0.02km"]}},
    }
    assert parse_dataset_spec(spec).topology.perturb.uniform == (1.0, 20.0)
