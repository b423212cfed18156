"""The uniform, normal and ppbp traffic models and the uniform and discrete packet sizes in the scenario format:
what they accept, their long-run rates and moments, and one line per mistake naming the field."""

from __future__ import annotations

import copy
import math

import pytest

from nettwin.errors import ScenarioError
from nettwin.scenario import dump_scenario, parse_scenario
from nettwin.scenario.traffic import PacketSize, Traffic, truncated_pareto_mean


def with_traffic(square, traffic) -> dict:
    data = copy.deepcopy(square)
    data["flows"][0]["traffic"] = traffic
    return data


def refused(square, traffic, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(with_traffic(square, traffic))
    assert len(str(info.value).splitlines()) == 1, str(info.value)


PPBP = {
    "model": "ppbp",
    "rate": "10Mbps",
    "burst_arrivals": 20,
    "burst_min": "1kB",
    "burst_max": "1MB",
    "pareto_shape": 1.5,
}


@pytest.mark.parametrize(
    "traffic",
    [
        {"model": "uniform", "rate": "1Mbps"},
        {"model": "uniform", "rate": "1Mbps", "spread": 0},
        {"model": "uniform", "rate": "1Mbps", "spread": 0.25},
        {"model": "normal", "rate": "1Mbps", "gap_std": "2ms"},
        {"model": "normal", "rate": "1Mbps", "gap_std": 0},
        PPBP,
        {**PPBP, "burst_min": "2kB", "burst_max": "2kB", "pareto_shape": 1},
        {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 64, "max": "1500B"}},
        {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 500, "max": 500}},
        {"model": "poisson", "rate": "1Mbps", "packet_size": {"dist": "discrete", "sizes": [100], "probs": [1]}},
        {
            "model": "poisson",
            "rate": "1Mbps",
            "packet_size": {"dist": "discrete", "sizes": [64, "1.5kB", 576], "probs": [0.2, 0.3, 0.5000004]},
        },
    ],
)
def test_new_laws_are_read_and_written_back(square, traffic):
    scenario = parse_scenario(with_traffic(square, traffic))
    again = parse_scenario(dump_scenario(scenario))
    assert again.flows[0].traffic == scenario.flows[0].traffic


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        ({"model": "uniform", "rate": "1Mbps", "spread": 1.5}, r"traffic\.spread: .*less than or equal to 1"),
        ({"model": "uniform", "rate": "1Mbps", "spread": -0.1}, r"traffic\.spread: .*greater than or equal to 0"),
        ({"model": "uniform", "rate": "1Mbps", "spread": "wide"}, r"traffic\.spread: .*valid number"),
        ({"model": "poisson", "rate": "1Mbps", "spread": 0.5}, r"traffic: spread applies to uniform traffic only"),
        ({"model": "normal", "rate": "1Mbps"}, r"traffic: normal traffic needs gap_std \(standard deviation"),
        ({"model": "normal", "rate": "1Mbps", "gap_std": "-1ms"}, r"traffic\.gap_std: cannot read '-1ms'"),
        ({"model": "cbr", "rate": "1Mbps", "gap_std": "1ms"}, r"traffic: gap_std applies to normal traffic only"),
        ({**PPBP, "burst_arrivals": None}, r"traffic: ppbp traffic needs burst_arrivals \(bursts per second"),
        ({**PPBP, "burst_arrivals": 0}, r"traffic\.burst_arrivals: .*greater than 0"),
        ({**PPBP, "burst_min": 0}, r"traffic\.burst_min: .*greater than 0"),
        ({**PPBP, "burst_max": "big"}, r"traffic\.burst_max: cannot read 'big' as a size"),
        ({**PPBP, "pareto_shape": 0}, r"traffic\.pareto_shape: .*greater than 0"),
        ({**PPBP, "burst_min": "2MB"}, r"traffic: ppbp traffic needs burst_min <= burst_max, got 2e\+06 B > 1e\+06"),
        (
            {"model": "onoff", "rate": "1Mbps", "tau_on": 1, "tau_off": 1, "burst_min": 100},
            r"traffic: burst_min applies to ppbp traffic only, not onoff",
        ),
        (
            {"model": "uniform", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 100}},
            r"traffic\.packet_size: a uniform packet size needs 'max' \(bytes\)",
        ),
        (
            {"model": "uniform", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 900, "max": 100}},
            r"traffic\.packet_size: a uniform packet size needs min <= max, got min 900 B > max 100 B",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 0, "max": 100}},
            r"traffic\.packet_size\.min: .*greater than 0",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "uniform", "min": 10, "max": 70000}},
            r"traffic\.packet_size\.max: must be at most 65535 B \(the IPv4 maximum\)",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "uniform", "mean": 100, "min": 10, "max": 90}},
            r"traffic\.packet_size: a uniform packet size takes 'min' and 'max', not 'mean'",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"mean": 100, "max": 90}},
            r"traffic\.packet_size: a fixed packet size takes 'mean', not 'max'",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "discrete", "sizes": [100, 200]}},
            r"traffic\.packet_size: a discrete packet size needs 'probs: \[p1, p2, \.\.\.\]'",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "discrete", "sizes": [], "probs": []}},
            r"traffic\.packet_size: a discrete packet size needs at least one size in 'sizes'",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "discrete", "sizes": [1, 2], "probs": [1]}},
            r"traffic\.packet_size: a discrete packet size needs one entry of 'probs' per size \(2\), got 1",
        ),
        (
            {
                "model": "cbr",
                "rate": "1Mbps",
                "packet_size": {"dist": "discrete", "sizes": [1, 2], "probs": [0.5, 0.6]},
            },
            r"traffic\.packet_size: the 'probs' of a discrete packet size must sum to 1, got 1\.1$",
        ),
        (
            {
                "model": "cbr",
                "rate": "1Mbps",
                "packet_size": {"dist": "discrete", "sizes": [1, 2], "probs": [1.5, 0]},
            },
            r"traffic\.packet_size\.probs\[0\]: .*less than or equal to 1, got 1\.5$",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "discrete", "sizes": [1, 0], "probs": [1, 0]}},
            r"traffic\.packet_size\.sizes\[1\]: .*greater than 0, got 0$",
        ),
        (
            {
                "model": "cbr",
                "rate": "1Mbps",
                "packet_size": {"dist": "discrete", "sizes": [1, 2], "probs": [1, 0], "p": 0.2},
            },
            r"traffic\.packet_size: a discrete packet size takes 'sizes' and 'probs', not 'p'",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "binomial", "sizes": [1, 2, 3]}},
            r"traffic\.packet_size: a binomial packet size has 'sizes: \[small, large\]', got 3 sizes",
        ),
        (
            {"model": "cbr", "rate": "1Mbps", "packet_size": {"dist": "binomial", "sizes": [1, 2], "probs": [1, 0]}},
            r"traffic\.packet_size: a binomial packet size takes 'sizes' and 'p', not 'probs'",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_the_field(square, traffic, message):
    refused(square, {k: v for k, v in traffic.items() if v is not None}, r"flows\[0\]\." + message)


def test_probabilities_within_a_millionth_of_one_are_normalised():
    ps = PacketSize.model_validate({"dist": "discrete", "sizes": [100, 300], "probs": [0.5, 0.5000009]})
    total = 1.0000009
    assert ps.mean_bytes == pytest.approx((50 + 150.00027) / total, rel=1e-12)
    with pytest.raises(ValueError, match="must sum to 1, got 1.000002"):
        PacketSize.model_validate({"dist": "discrete", "sizes": [100, 300], "probs": [0.5, 0.500002]})


@pytest.mark.parametrize(
    ("size", "mean", "second"),
    [
        ({"mean": 500}, 500, 500**2),
        ({"dist": "exponential", "mean": 500}, 500, 2 * 500**2),
        ({"dist": "binomial", "sizes": [100, 1000], "p": 0.25}, 775, 0.25 * 1e4 + 0.75 * 1e6),
        ({"dist": "uniform", "min": 100, "max": 1000}, 550, 550**2 + 900**2 / 12),
        ({"dist": "discrete", "sizes": [100, 1000, 40], "probs": [0.5, 0.25, 0.25]}, 310, 0.5e4 + 0.25e6 + 400),
    ],
)
def test_mean_and_second_moment_of_every_size_law(size, mean, second):
    ps = PacketSize.model_validate(size)
    assert ps.mean_bytes == pytest.approx(mean, rel=1e-12)
    assert ps.second_moment == pytest.approx(second, rel=1e-12)


def test_mean_and_packet_rates_of_every_model():
    size = {"packet_size": 1000}
    assert Traffic.model_validate({"model": "uniform", "rate": "8Mbps", **size}).packet_rate == pytest.approx(1000)
    # Normal gaps below zero are sent at once, which lengthens the mean gap: E[max(0, X)] = gΦ(a) + σφ(a), a = g/σ.
    g, s = 1e-3, 5e-4
    a = g / s
    clipped = g * 0.5 * math.erfc(-a / math.sqrt(2)) + s * math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    normal = Traffic.model_validate({"model": "normal", "rate": "8Mbps", "gap_std": "0.5ms", **size})
    assert normal.mean_rate == pytest.approx(8e6 * g / clipped, rel=1e-12) and normal.mean_rate < 8e6
    assert Traffic.model_validate({"model": "normal", "rate": "8Mbps", "gap_std": 0, **size}).mean_rate == 8e6
    ppbp = Traffic.model_validate({**PPBP, **size})
    assert ppbp.mean_rate == pytest.approx(20 * 8 * truncated_pareto_mean(1e3, 1e6, 1.5), rel=1e-12)
    assert ppbp.packet_rate == pytest.approx(ppbp.mean_rate / 8000, rel=1e-12)
    one = Traffic.model_validate({**PPBP, "pareto_shape": 1})
    assert one.mean_rate == pytest.approx(20 * 8 * 1e3 * math.log(1e3) / (1 - 1e-3), rel=1e-12)
