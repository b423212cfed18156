"""Declarative checks of estimator parameters, with one message format for every twin."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nettwin.errors import TwinError

__all__ = ["Interval", "OneOf", "Check", "validate_params"]


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
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or value <= self.high


@dataclass(frozen=True)
class OneOf(Check):
    """One of fixed values (or any of them, for a sequence, with ``many``)."""

    values: Sequence[Any] | Callable[[], Sequence[Any]]
    many: bool = False
    none_ok: bool = False

    def _values(self) -> Sequence[Any]:
        return self.values() if callable(self.values) else self.values

    @property
    def expected(self) -> str:  # type: ignore[override]
        what = "a list of" if self.many else "one of"
        return f"{what} {', '.join(map(repr, self._values()))}" + (" or None" if self.none_ok else "")

    def ok(self, value: Any) -> bool:
        if value is None:
            return self.none_ok
        if self.many:
            return (
                not isinstance(value, str)
                and isinstance(value, Sequence)
                and len(value) > 0
                and all(v in self._values() for v in value)
            )
        return value in self._values()


def validate_params(owner: str, params: Mapping[str, Any], checks: Mapping[str, Check]) -> None:
    """Raise :class:`TwinError` naming the first parameter that fails its check, what was expected and received."""
    for name, check in checks.items():
        value = params.get(name)
        if not check.ok(value):
            raise TwinError(f"{owner}: parameter '{name}' must be {check.expected}; got {value!r}")
