"""Human units in, SI out: rates (bit/s), durations (s), sizes (bytes), distances (m) and counts.

Scenario files may write ``10Mbps``, ``2ms`` or ``1500B`` where nettwin stores ``1e7``, ``0.002`` and
``1500.0``. Prefixes are decimal (k = 1e3, M = 1e6, G = 1e9, T = 1e12) and case-insensitive; binary prefixes
(KiB, MiB, GiB) are accepted for sizes only. A plain number is already in the SI unit. The ``format_*``
functions go the other way for reports and logs, and their output parses back to the same value within the
printed precision.

The annotated types :data:`Rate`, :data:`Duration`, :data:`Size`, :data:`Distance` and :data:`Count` plug the
parsers into pydantic models, so a field typed ``Rate`` accepts ``"10Mbps"`` and stores ``1e7``.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Annotated

import numpy as np
from pydantic import BeforeValidator

from nettwin.errors import ScenarioError
from nettwin.scenario._model import at_most
from nettwin.scenario.limits import MAX_DURATION, MAX_RATE

__all__ = [
    "UnitError",
    "parse_rate",
    "parse_time",
    "parse_size",
    "parse_count",
    "parse_distance",
    "format_rate",
    "format_time",
    "format_size",
    "Rate",
    "Duration",
    "Size",
    "Distance",
    "Count",
]


class UnitError(ScenarioError):
    """A value cannot be read as a quantity of the expected kind (a rate, a duration, a size, a count)."""


_NUMBER_WITH_UNIT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\s\d].*?)?\s*$")

_DECIMAL_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_BINARY_PREFIX = {"ki": 2.0**10, "mi": 2.0**20, "gi": 2.0**30, "ti": 2.0**40}

_RATE_BASES = ("bps", "b/s", "bit/s", "bits/s")
_RATE_UNITS = {p + b: m for p, m in _DECIMAL_PREFIX.items() for b in _RATE_BASES}

_TIME_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec", "millisecond", "milliseconds"), 1e-3),
    **dict.fromkeys(("us", "\u00b5s", "\u03bcs", "usec", "microsecond", "microseconds"), 1e-6),
    **dict.fromkeys(("ns", "nsec", "nanosecond", "nanoseconds"), 1e-9),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600.0),
}

_DISTANCE_UNITS = {
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), 1.0),
    **dict.fromkeys(("km", "kilometre", "kilometres", "kilometer", "kilometers"), 1e3),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"), 1e-2),
}

_COUNT_UNITS = ("", "p", "pkt", "pkts", "packet", "packets")

_EXAMPLES = {
    "rate": "10Mbps, 100kbps, 1.5Gbps",
    "duration": "2ms, 10us, 1.5s",
    "size": "1500B, 1.5kB, 300bit",
    "distance": "35m, 1.2km",
    "count": "32, 100",
}


def _fail(value: object, kind: str, why: str | None = None) -> UnitError:
    reason = why or f"expected a number with a unit such as {_EXAMPLES[kind]}"
    return UnitError(f"cannot read {value!r} as a {kind}: {reason}")


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


def _split(value: object, kind: str) -> tuple[float, str]:
    """Split ``value`` into a finite, non-negative number and its unit text ('' for plain numbers)."""
    if _is_bool(value):
        raise _fail(value, kind, "a boolean is not a quantity")
    if isinstance(value, numbers.Real):
        number, unit = float(value), ""
    elif isinstance(value, str):
        match = _NUMBER_WITH_UNIT.match(value)
        if match is None:
            raise _fail(value, kind)
        number, unit = float(match.group(1)), match.group(2) or ""
    else:
        raise _fail(value, kind, f"expected a number or a string, got {type(value).__name__}")
    if not math.isfinite(number):
        raise _fail(value, kind, "the value must be finite")
    if number < 0:
        raise _fail(value, kind, "the value must not be negative")
    return number, unit


def _scaled(number: float, scale: float, value: object, kind: str) -> float:
    """``number × scale``, refused when the product overflows."""
    out = number * scale
    if not math.isfinite(out):
        raise _fail(value, kind, "the value is too large")
    return out


def parse_rate(value: object) -> float:
    """Read a bit rate and return it in bit/s.

    Parameters
    ----------
    value : a number (already in bit/s) or a string such as ``"10Mbps"``, ``"64kb/s"``, ``"1.5 Gbit/s"``.

    Returns
    -------
    float
        The rate in bit/s.

    Raises
    ------
    UnitError
        If the value is not a finite, non-negative rate. Bytes per second (``"MBps"``) are refused on purpose.

    Examples
    --------
    >>> parse_rate("10Mbps"), parse_rate("64kb/s"), parse_rate(800)
    (10000000.0, 64000.0, 800.0)
    """
    number, unit = _split(value, "rate")
    if unit in {"Bps", "B/s"} or (len(unit) > 3 and unit[1:] in {"Bps", "B/s"}):
        raise _fail(value, "rate", "'B' means bytes; give bits per second, e.g. 80Mbps for 10 MB/s")
    scale = _RATE_UNITS.get(unit.lower()) if unit else 1.0
    if scale is None:
        raise _fail(value, "rate")
    return _scaled(number, scale, value, "rate")


def parse_time(value: object) -> float:
    """Read a duration and return it in seconds.

    Parameters
    ----------
    value : a number (already in seconds) or a string such as ``"2ms"``, ``"10us"``, ``"100ns"``, ``"3min"``.

    Returns
    -------
    float
        The duration in seconds.

    Raises
    ------
    UnitError
        If the value is not a finite, non-negative duration.

    Examples
    --------
    >>> parse_time("2ms"), parse_time("3min"), parse_time(1.5)
    (0.002, 180.0, 1.5)
    """
    return _in_units(value, "duration", _TIME_UNITS)


def _in_units(value: object, kind: str, units: dict[str, float]) -> float:
    """``value`` read as a ``kind`` whose unit names (lower case) map to SI factors; a plain number is SI."""
    number, unit = _split(value, kind)
    scale = units.get(unit.lower()) if unit else 1.0
    if scale is None:
        raise _fail(value, kind)
    return _scaled(number, scale, value, kind)


def parse_size(value: object) -> float:
    """Read a data size and return it in bytes.

    ``B``/``byte`` are bytes and ``b``/``bit`` are bits: that letter's case matters, the prefix's does not.

    Parameters
    ----------
    value : a number (already in bytes) or a string such as ``"1500B"``, ``"1.5kB"``, ``"300bit"``.

    Returns
    -------
    float
        The size in bytes (a bit count gives a fractional number of bytes).

    Raises
    ------
    UnitError
        If the value is not a finite, non-negative size.

    Examples
    --------
    >>> parse_size("1.5kB"), parse_size("300b"), parse_size(1500)
    (1500.0, 37.5, 1500.0)
    """
    number, unit = _split(value, "size")
    if not unit:
        return number
    match = re.fullmatch(r"([kKmMgGtT]i?)?(B|[Bb]ytes?|b|bits?)", unit)
    if match is None:
        raise _fail(value, "size")
    prefix = (match.group(1) or "").lower()
    scale = _BINARY_PREFIX[prefix] if prefix.endswith("i") else _DECIMAL_PREFIX[prefix]
    in_bits = match.group(2) in {"b", "bit", "bits"}
    return _scaled(number, scale / 8.0 if in_bits else scale, value, "size")


def parse_distance(value: object) -> float:
    """Read a distance and return it in metres.

    Parameters
    ----------
    value : a number (already in metres) or a string such as ``"35m"``, ``"1.2km"``.

    Returns
    -------
    float
        The distance in metres.

    Raises
    ------
    UnitError
        If the value is not a finite, non-negative distance.

    Examples
    --------
    >>> parse_distance("35m"), parse_distance("1.2km"), parse_distance(20)
    (35.0, 1200.0, 20.0)
    """
    return _in_units(value, "distance", _DISTANCE_UNITS)


def parse_count(value: object) -> int:
    """Read a non-negative whole number, such as a buffer size in packets.

    Parameters
    ----------
    value : an integer, an integral float (``32.0``) or a string such as ``"32"`` or ``"32 packets"``.

    Returns
    -------
    int

    Raises
    ------
    UnitError
        If the value is negative, fractional, not finite, or not a number.

    Examples
    --------
    >>> parse_count("32"), parse_count(64), parse_count("10 packets")
    (32, 64, 10)
    """
    number, unit = _split(value, "count")
    if unit.lower() not in _COUNT_UNITS:
        raise _fail(value, "count", "expected a whole number, optionally followed by 'packets'")
    if number != int(number):
        raise _fail(value, "count", "the value must be a whole number")
    return int(number)


def _engineering(value: float, units: tuple[tuple[float, str], ...], digits: int, fixed: bool) -> str:
    """Print ``value`` in the largest unit that keeps it ≥ 1, with ``digits`` significant figures."""
    if not math.isfinite(value):
        return f"{value} {units[0][1]}"
    size = abs(value)
    index = 0
    for i, (scale, _) in enumerate(units):
        if size >= scale:
            index = i
    while True:
        scale, name = units[index]
        scaled = value / scale
        rounded = float(f"{scaled:.{digits}g}")
        if abs(rounded) >= 1000 and index + 1 < len(units):
            index += 1
            continue
        break
    if not fixed:
        return f"{rounded:.{digits}g} {name}"
    if rounded == 0:
        return f"{0:.{digits - 1}f} {name}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f} {name}"


def format_rate(bps: float) -> str:
    """Print a rate given in bit/s with a decimal prefix and up to four significant figures.

    Examples
    --------
    >>> format_rate(1e7), format_rate(125e3), format_rate(1.5e9)
    ('10 Mbps', '125 kbps', '1.5 Gbps')
    """
    units = ((1.0, "bps"), (1e3, "kbps"), (1e6, "Mbps"), (1e9, "Gbps"), (1e12, "Tbps"))
    return _engineering(float(bps), units, 4, fixed=False)


def format_time(seconds: float) -> str:
    """Print a duration given in seconds with three significant figures, in ns, us, ms or s.

    Examples
    --------
    >>> format_time(0.002), format_time(15e-6), format_time(1.2)
    ('2.00 ms', '15.0 us', '1.20 s')
    """
    units = ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms"), (1.0, "s"))
    seconds = float(seconds)
    if seconds == 0:
        return "0.00 s"
    if abs(seconds) >= 1000:
        return f"{seconds:.0f} s"
    return _engineering(seconds, units, 3, fixed=True)


def format_size(size: float) -> str:
    """Print a size given in bytes with a decimal prefix and up to four significant figures.

    Examples
    --------
    >>> format_size(1500), format_size(37.5), format_size(2e6)
    ('1.5 kB', '37.5 B', '2 MB')
    """
    units = ((1.0, "B"), (1e3, "kB"), (1e6, "MB"), (1e9, "GB"), (1e12, "TB"))
    return _engineering(float(size), units, 4, fixed=False)


# UnitError is a ValueError, which pydantic reports as a validation error carrying its message.
Rate = Annotated[float, BeforeValidator(parse_rate), at_most(MAX_RATE, "the fastest rate nettwin accepts", format_rate)]
"""A rate in bit/s up to :data:`~nettwin.scenario.limits.MAX_RATE`; accepts ``"10Mbps"``-style strings."""

Duration = Annotated[
    float,
    BeforeValidator(parse_time),
    at_most(MAX_DURATION, "about 11.6 days, the longest time nettwin simulates", format_time),
]
"""A duration in seconds up to :data:`~nettwin.scenario.limits.MAX_DURATION`; accepts ``"2ms"``-style strings."""

Size = Annotated[float, BeforeValidator(parse_size)]
"""A size in bytes; accepts ``"1500B"``-style strings."""

Distance = Annotated[float, BeforeValidator(parse_distance)]
"""A distance in metres; accepts ``"35m"``-style strings."""

Count = Annotated[int, BeforeValidator(parse_count)]
"""A non-negative whole number; accepts ``"32"`` or ``"32 packets"``."""
