"""Human units ↔ SI: parsing tables, round trips, bad inputs and the pydantic types."""

import math
from typing import Annotated

import numpy as np
import pytest
from pydantic import BaseModel, Field, ValidationError

from nettwin.errors import ScenarioError
from nettwin.scenario.units import (
    Count,
    Duration,
    Rate,
    Size,
    UnitError,
    format_rate,
    format_size,
    format_time,
    parse_count,
    parse_distance,
    parse_rate,
    parse_size,
    parse_time,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10Mbps", 10e6),
        ("100kbps", 100e3),
        ("1.5Gbps", 1.5e9),
        ("64kb/s", 64e3),
        ("800bps", 800.0),
        ("2Tbps", 2e12),
        ("10mbps", 10e6),
        ("10 MBit/s", 10e6),
        ("100 Kbps", 100e3),
        ("1e6", 1e6),
        ("  5kbps ", 5e3),
        (".5Mbps", 0.5e6),
        (1000, 1000.0),
        (2.5e6, 2.5e6),
        (np.float64(3e3), 3e3),
        (np.int64(7), 7.0),
        (0, 0.0),
    ],
)
def test_parse_rate(value, expected):
    assert parse_rate(value) == pytest.approx(expected, rel=1e-12)
    assert isinstance(parse_rate(value), float)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2ms", 2e-3),
        ("10us", 10e-6),
        ("10µs", 10e-6),
        ("1.5s", 1.5),
        ("100ns", 100e-9),
        ("3min", 180.0),
        ("2h", 7200.0),
        ("2 MS", 2e-3),
        ("0.25", 0.25),
        (4, 4.0),
        (0.001, 0.001),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1500B", 1500.0),
        ("1.5kB", 1500.0),
        ("1.5KB", 1500.0),
        ("300bit", 37.5),
        ("300b", 37.5),
        ("8kb", 1000.0),
        ("2MB", 2e6),
        ("1KiB", 1024.0),
        ("64 bytes", 64.0),
        (210, 210.0),
        ("210", 210.0),
    ],
)
def test_parse_size(value, expected):
    assert parse_size(value) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(32, 32), ("32", 32), (32.0, 32), ("10 packets", 10), ("0", 0), (np.int32(5), 5)],
)
def test_parse_count(value, expected):
    result = parse_count(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("value", "expected"),
    [("35m", 35.0), ("35 metres", 35.0), ("1.2km", 1200.0), ("50cm", 0.5), (20, 20.0), ("1e3M", 1000.0)],
)
def test_parse_distance(value, expected):
    assert parse_distance(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("parse", "value", "match"),
    [
        (parse_rate, "10Mbs", r"cannot read '10Mbs' as a rate: expected a number with a unit such as 10Mbps"),
        (parse_rate, "10MBps", r"'B' means bytes"),
        (parse_rate, "fast", r"cannot read 'fast' as a rate"),
        (parse_rate, "", r"as a rate"),
        (parse_rate, "-5Mbps", r"must not be negative"),
        (parse_rate, float("nan"), r"must be finite"),
        (parse_rate, "inf", r"as a rate"),
        (parse_rate, float("inf"), r"must be finite"),
        (parse_rate, True, r"a boolean is not a quantity"),
        (parse_rate, None, r"expected a number or a string, got NoneType"),
        (parse_rate, [1], r"got list"),
        (parse_time, "2 parsecs", r"cannot read '2 parsecs' as a duration: .* 2ms, 10us, 1.5s"),
        (parse_time, "5m", r"as a duration"),
        (parse_time, False, r"a boolean"),
        (parse_time, -1, r"must not be negative"),
        (parse_size, "10 apples", r"cannot read '10 apples' as a size: .* 1500B"),
        (parse_size, "1.5kBps", r"as a size"),
        (parse_size, float("-inf"), r"must be finite"),
        (parse_count, 2.5, r"must be a whole number"),
        (parse_count, "2.5", r"must be a whole number"),
        (parse_count, -1, r"must not be negative"),
        (parse_count, "3 cars", r"as a count"),
        (parse_count, True, r"a boolean"),
        (parse_distance, "35 parsecs", r"cannot read '35 parsecs' as a distance: .* 35m, 1.2km"),
        (parse_distance, "35ms", r"as a distance"),
        (parse_distance, "-3m", r"must not be negative"),
    ],
)
def test_bad_inputs_raise_unit_error(parse, value, match):
    with pytest.raises(UnitError, match=match) as info:
        parse(value)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, ScenarioError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("fmt", "value", "text"),
    [
        (format_rate, 10e6, "10 Mbps"),
        (format_rate, 125e3, "125 kbps"),
        (format_rate, 1.5e9, "1.5 Gbps"),
        (format_rate, 800, "800 bps"),
        (format_rate, 0, "0 bps"),
        (format_rate, 999_999, "1 Mbps"),
        (format_time, 2e-3, "2.00 ms"),
        (format_time, 15e-6, "15.0 us"),
        (format_time, 1.2, "1.20 s"),
        (format_time, 100e-9, "100 ns"),
        (format_time, 0.9996, "1.00 s"),
        (format_time, 0, "0.00 s"),
        (format_time, 3600, "3600 s"),
        (format_size, 1500, "1.5 kB"),
        (format_size, 37.5, "37.5 B"),
        (format_size, 2e6, "2 MB"),
    ],
)
def test_format(fmt, value, text):
    assert fmt(value) == text


@pytest.mark.parametrize("value", [1.0, 7.0, 999.0, 1234.5, 64e3, 10e6, 123456789.0, 2.5e12])
def test_rate_round_trip(value):
    assert parse_rate(format_rate(value)) == pytest.approx(value, rel=5e-4)


@pytest.mark.parametrize("value", [1e-9, 3.3e-9, 12.5e-6, 2e-3, 0.0456, 1.2, 59.9, 180.0, 7200.0])
def test_time_round_trip(value):
    assert parse_time(format_time(value)) == pytest.approx(value, rel=5e-3)


@pytest.mark.parametrize("value", [0.125, 37.5, 210.0, 1500.0, 65536.0, 3.2e9])
def test_size_round_trip(value):
    assert parse_size(format_size(value)) == pytest.approx(value, rel=5e-4)


def test_round_trip_random_values():
    rng = np.random.default_rng(0)
    for value in 10.0 ** rng.uniform(-9, 12, size=200):
        assert parse_rate(format_rate(value)) == pytest.approx(value, rel=5e-4)
        assert parse_size(format_size(value)) == pytest.approx(value, rel=5e-4)
        if value < 1000:
            assert parse_time(format_time(value)) == pytest.approx(value, rel=5e-3)


class _Link(BaseModel):
    capacity: Annotated[Rate, Field(gt=0)]
    delay: Duration = 0.0
    packet: Size = 1000.0
    buffer: Count = 32


def test_pydantic_types_store_si():
    link = _Link(capacity="10Mbps", delay="2ms", packet="1.5kB", buffer="64")
    assert (link.capacity, link.delay, link.packet, link.buffer) == (1e7, 0.002, 1500.0, 64)
    assert _Link(capacity=5e6).capacity == 5e6


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("capacity", "10Mbs", r"cannot read '10Mbs' as a rate"),
        ("delay", "2 fortnights", r"cannot read '2 fortnights' as a duration"),
        ("packet", "big", r"cannot read 'big' as a size"),
        ("buffer", 1.5, r"cannot read 1.5 as a count"),
    ],
)
def test_pydantic_reports_unit_errors(field, value, match):
    data = {"capacity": "1Mbps", field: value}
    with pytest.raises(ValidationError, match=match) as info:
        _Link(**data)
    (error,) = info.value.errors()
    assert error["loc"] == (field,)


def test_pydantic_constraints_still_apply_after_parsing():
    with pytest.raises(ValidationError, match="greater than 0"):
        _Link(capacity="0Mbps")


def test_parsed_values_are_exact_for_common_inputs():
    assert parse_rate("1Mbps") == 1e6
    assert parse_time("1ms") == 1e-3
    assert math.isclose(parse_time("10us"), 1e-5)
