"""The base of every model read from a file: unknown keys refused, numbers finite, booleans never taken as numbers."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["StrictModel", "at_most", "field_error"]


class StrictModel(BaseModel):
    """Frozen, with unknown keys, NaN and infinities refused.

    pydantic reads ``true`` as 1 where a number is expected; here a boolean in a numeric field (or in a list of
    numbers) is an error, so that ``weight: yes`` or ``seed: true`` cannot pass for a number.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        items = value if isinstance(value, list | tuple) else (value,)
        flag = next((v for v in items if isinstance(v, bool)), None)
        if flag is not None and info.field_name is not None:
            kinds = _kinds(cls.model_fields[info.field_name].annotation)
            if kinds & {int, float} and not kinds & {bool, str}:
                raise ValueError(f"expected a number, got a boolean ({str(flag).lower()})")
        return value


def _kinds(annotation: Any) -> set[type]:
    """The plain types a field annotation admits, looking through unions, containers and ``Annotated``."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return {annotation}
    if typing.get_origin(annotation) is typing.Literal:
        return set()
    out: set[type] = set()
    for arg in typing.get_args(annotation):
        if isinstance(arg, type | types.UnionType) or typing.get_origin(arg) is not None:
            out |= _kinds(arg)
    return out


def at_most(limit: float, why: str, show: Callable[[float], str] = "{:g}".format) -> AfterValidator:
    """A validator refusing values above ``limit``: ``"must be at most <limit> (<why>), got <value>"``."""

    def check(value: float) -> float:
        if value > limit:
            raise ValueError(f"must be at most {show(limit)} ({why}), got {show(value)}")
        return value

    return AfterValidator(check)


def field_error(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """An error about field ``loc`` (relative to the model being validated) that a model validator can raise, so
    that a problem found from several fields is still reported at the field to change."""
    detail = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
    return ValidationError.from_exception_data("nettwin", [detail])
