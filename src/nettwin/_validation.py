"""Declarative checks of parameters, with one message format for every estimator and checkpoint.

A class declares one :class:`Check` per constructor parameter; the same declaration validates arguments given in
Python, options given on the command line and configurations read from checkpoints, so all three say the same
thing about the same mistake — which parameter, of what, what was expected, what was received.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nettwin.errors import NettwinError

__all__ = [
    "Check",
    "Interval",
    "OneOf",
    "Flag",
    "Text",
    "NumberMap",
    "validate_params",
    "check_known",
    "short_repr",
    "finite",
    "string_keyed",
    "plain_int",
    "COUNT",
    "WIDTH",
    "DEPTH",
]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 6
_REPR.maxlevel = 2


def short_repr(value: Any) -> str:
    """``repr`` cut to a readable length (a crafted value may be a million-element list)."""
    return _REPR.repr(value)


def finite(value: Any) -> bool:
    """A real number (not a bool) that is finite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def plain_int(value: Any) -> Any:
    """A whole number of any integer type (a NumPy count taken from an array) as a Python int; anything else,
    booleans included, unchanged for a :class:`Check` to judge."""
    return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value


def string_keyed(value: Any) -> bool:
    """A mapping whose every key is a string: what options, a file's sections and a module's weights must be."""
    return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)


class Check:
    expected: str

    def ok(self, value: Any) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Check):
    """A number of type ``kind`` within ``[low, high]`` (None: unbounded); ``open_low`` excludes ``low``."""

    kind: type
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    none_ok: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]
        parts = ["an int" if self.kind is int else "a number"]
        if self.low is not None and self.high is not None:
            parts.append(f"in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}]")
        elif self.low is not None:
            parts.append(f"{'>' if self.open_low else '≥'} {self.low:g}")
        elif self.high is not None:
            parts.append(f"≤ {self.high:g}")
        return " ".join(parts) + (" or None" if self.none_ok else "")

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.none_ok
        if isinstance(value, bool) or not isinstance(value, (int, float) if self.kind is float else int):
            return False
        if value != value:  # NaN compares false with every bound: it is in no bounded interval
            return self.low is None and self.high is None
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or value <= self.high


@dataclass(frozen=True)
class OneOf(Check):
    """One of fixed values, of the same type (or, with ``many``, a list of them; ``empty_ok`` allows [])."""

    values: Sequence[Any] | Callable[[], Sequence[Any]]
    many: bool = False
    none_ok: bool = False
    empty_ok: bool = False

    def _values(self) -> Sequence[Any]:
        return self.values() if callable(self.values) else self.values

    @property
    def expected(self) -> str:  # type: ignore[override]
        what = "a list of" if self.many else "one of"
        return f"{what} {', '.join(map(repr, self._values()))}" + (" or None" if self.none_ok else "")

    def _member(self, value: Any) -> bool:
        # Same type too: 1 == True, and a checkpoint must not turn a flag into a number.
        return any(type(value) is type(v) and value == v for v in self._values())

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.none_ok
        if self.many:
            return (
                isinstance(value, list | tuple)
                and (len(value) > 0 or self.empty_ok)
                and all(self._member(v) for v in value)
            )
        return self._member(value)


@dataclass(frozen=True)
class Flag(Check):
    """True or False (not 0 or 1)."""

    expected = "true or false"

    def ok(self, value: Any) -> bool:
        return isinstance(value, bool)


@dataclass(frozen=True)
class Text(Check):
    """A string."""

    expected = "a string"

    def ok(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class NumberMap(Check):
    """A mapping of names to finite numbers (> 0 with ``positive``), e.g. a KPI's statistics."""

    positive: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a mapping of names to {'numbers > 0' if self.positive else 'finite numbers'}"

    def ok(self, value: Any) -> bool:
        return string_keyed(value) and all(finite(v) and (v > 0 or not self.positive) for v in value.values())


WIDTH = Interval(int, 1, 1024)
"""A layer width: beyond 1,024 a twin or solver of this kind only grows slower, and a crafted size cannot ask for
gigabytes of weights."""

DEPTH = Interval(int, 1, 64)
"""Layers or message-passing iterations."""

COUNT = Interval(int, 1)
"""A count of things: a whole number ≥ 1."""


def validate_params(
    owner: str,
    params: Mapping[str, Any],
    checks: Mapping[str, Check],
    error: type[NettwinError],
    *,
    prefix: str | None = None,
    given_only: bool = False,
) -> None:
    """Raise ``error`` naming the first parameter that fails its check, what was expected and what was received.

    ``prefix`` names parameters as fields of a file (``'params.strategy'``) instead of ``parameter 'strategy'``;
    ``given_only`` checks only the names present in ``params`` (the others take their defaults).
    """
    for name, check in checks.items():
        if given_only and name not in params:
            continue
        value = params.get(name)
        if not check.ok(value):
            what = f"'{prefix}.{name}'" if prefix else f"parameter '{name}'"
            raise error(f"{owner}: {what} must be {check.expected}; got {short_repr(value)}")


def check_known(
    owner: str,
    given: Mapping[str, Any],
    known: Sequence[str],
    error: type[NettwinError],
    *,
    what: str = "option",
    prefix: str | None = None,
) -> None:
    """Raise ``error`` naming the first key of ``given`` not in ``known`` (as a field of a file with ``prefix``)."""
    for key in given:
        if key not in known:
            name = f"field '{prefix}.{key}'" if prefix else f"{what} {short_repr(key)}"
            raise error(f"{owner}: unknown {name}; known: {', '.join(known)}")
