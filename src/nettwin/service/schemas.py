"""Request and response bodies. Scenarios are the library's own :class:`~nettwin.scenario.spec.Scenario`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nettwin.scenario.limits import MAX_RUNS
from nettwin.scenario.spec import Scenario, Seed

__all__ = [
    "ENGINES",
    "KeyRequest",
    "KeyInfo",
    "NewKey",
    "ScenarioInfo",
    "ScenarioRecord",
    "SimulateRequest",
    "SimulateParams",
    "JobInfo",
    "SimulateOutput",
    "AuditInfo",
    "Health",
]


def _utc(value: datetime) -> datetime:
    # SQLite gives back the stored UTC times without their zone.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Time = Annotated[datetime, AfterValidator(_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Engine = Literal["builtin", "analytic"]
ENGINES: tuple[str, ...] = get_args(Engine)
"""Engines jobs may use: those that need nothing outside nettwin."""


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str


class KeyRequest(_In):
    """A new key for the caller's tenant."""

    role: Literal["viewer", "member", "admin"] = "member"
    name: str = Field("", max_length=200, description="What the key is for; shown in listings.")


class KeyInfo(_Out):
    id: str
    tenant: str
    role: str
    name: str
    created_at: Time
    revoked_at: Time | None


class NewKey(KeyInfo):
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")


class ScenarioInfo(_Out):
    id: str = Field(description="SHA-256 of the scenario's canonical JSON: the same scenario has the same id.")
    name: str
    created_at: Time


class ScenarioRecord(ScenarioInfo):
    scenario: Scenario


class SimulateParams(_In):
    """How to simulate: engine and seed default to the scenario's ``simulation`` settings."""

    engine: Engine | None = None
    seed: Seed | None = None
    runs: int = Field(1, ge=1, le=MAX_RUNS, description="Independent runs: run 0 and SimBase runs 1, 2, ...")


class SimulateRequest(SimulateParams):
    kind: Literal["simulate"] = "simulate"
    scenario_id: str = Field(max_length=64)


class JobInfo(_Out):
    id: str
    kind: str
    scenario_id: str
    params: dict[str, Any]
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: float = Field(description="Fraction done, 0 to 1.")
    attempts: int = Field(description="Times a worker started it (a server stopped while it ran starts it again).")
    error: str | None
    result_hash: str | None = Field(description="SHA-256 of the result without its timings: same inputs, same hash.")
    created_at: Time
    started_at: Time | None
    finished_at: Time | None


class SimulateOutput(BaseModel):
    """What ``nettwin simulate --format json`` prints: each run is a SimResult as ``SimResult.to_dict`` gives it."""

    scenario: str
    runs: list[dict[str, Any]]


class AuditInfo(_Out):
    id: int
    key_id: str
    method: str
    path: str
    status: int
    at: Time
