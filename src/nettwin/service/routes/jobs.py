"""``/jobs``: simulate jobs, queued in the database and run by worker processes; status, events, result, cancel."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from nettwin.scenario.io import parse_scenario
from nettwin.service.auth import Member, Principal, Viewer
from nettwin.service.db import Database
from nettwin.service.errors import ApiError
from nettwin.service.models import FINAL_STATES, Job, StoredScenario, utcnow
from nettwin.service.routes.common import Db, Limit, Offset, not_found, tenant_page
from nettwin.service.schemas import ENGINES, JobInfo, SimulateOutput, SimulateParams, SimulateRequest

router = APIRouter(prefix="/jobs", tags=["jobs"])

FINAL_EVENTS = {"succeeded": "done", "failed": "failed", "cancelled": "cancelled"}
"""The last event of a job's stream, by the state it ended in."""

EVENTS_POLL_SECONDS = 0.25
"""How often an event stream reads its job: the runner records progress in the database, once per finished run."""

KEEPALIVE_SECONDS = 15.0
"""A stream with nothing to say sends a comment this often, so that proxies do not close it as idle."""


def _info(job: Job) -> JobInfo:
    fields = {name: getattr(job, name) for name in JobInfo.model_fields if name != "params"}
    return JobInfo.model_validate({**fields, "params": json.loads(job.params)})


def _own_job(session: Session, principal: Principal, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.tenant != principal.tenant:
        raise not_found("job", job_id)
    return job


@router.post("", response_model=JobInfo, status_code=202)
def submit(job: SimulateRequest, principal: Member, db: Db, request: Request) -> JobInfo:
    """Queue a job: it is stored before this answers, so it runs even if the server stops meanwhile."""
    with db.session() as session:
        stored = session.get(StoredScenario, (principal.tenant, job.scenario_id))
        if stored is None:
            raise not_found("scenario", job.scenario_id)
        engine = job.engine or parse_scenario(json.loads(stored.body)).simulation.engine
        if engine not in ENGINES:
            raise ApiError(422, f"engine: '{engine}' does not run on this service; choose {' or '.join(ENGINES)}")
        row = Job(
            id=secrets.token_hex(16),
            tenant=principal.tenant,
            kind=job.kind,
            scenario_id=job.scenario_id,
            params=SimulateParams(engine=engine, seed=job.seed, runs=job.runs).model_dump_json(),
            status="queued",
            progress=0.0,
            attempts=0,
            created_by=principal.key_id,
            created_at=utcnow(),
        )
        # Written first, then counted within the same transaction: two submissions at once cannot both slip under
        # the limit (the refused one is rolled back).
        session.add(row)
        session.flush()
        limit = request.app.state.settings.tenant_jobs
        if _unfinished(session, principal.tenant) > limit:
            raise ApiError(
                429,
                f"tenant '{principal.tenant}' already has {limit} jobs queued or running, the most it may have at "
                "once; wait for one to end, or cancel one",
            )
    request.app.state.runner.wake()
    return _info(row)


def _unfinished(session: Session, tenant: str) -> int:
    """How many of ``tenant``'s jobs are queued or running."""
    return session.scalar(
        select(func.count()).select_from(Job).where(Job.tenant == tenant, Job.status.not_in(FINAL_STATES))
    )


@router.get("", response_model=list[JobInfo])
def list_jobs(principal: Viewer, db: Db, limit: Limit = 100, offset: Offset = 0) -> list[JobInfo]:
    """The tenant's jobs, newest first."""
    with db.session() as session:
        rows = tenant_page(session, Job, principal.tenant, limit, offset, Job.created_at.desc(), Job.id)
        return [_info(row) for row in rows]


@router.get("/{job_id}", response_model=JobInfo)
def get_job(job_id: str, principal: Viewer, db: Db) -> JobInfo:
    """A job's status and progress."""
    with db.session() as session:
        return _info(_own_job(session, principal, job_id))


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events, until the job ends."}},
)
def job_events(job_id: str, principal: Viewer, db: Db) -> StreamingResponse:
    """A job's status and progress as server-sent events: ``progress`` whenever they change, then one ``done``,
    ``failed`` or ``cancelled`` when it ends, and the stream closes. Each event's data is the job, as
    ``GET /jobs/{id}`` gives it."""
    with db.session() as session:
        job = _info(_own_job(session, principal, job_id))
    return StreamingResponse(_events(db, job), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _events(db: Database, job: JobInfo) -> AsyncIterator[str]:
    # Each look at the job is a short session of its own: no connection is held while the stream waits.
    last: tuple[str, float] | None = None
    quiet = 0.0
    while job.status not in FINAL_EVENTS:
        if (job.status, job.progress) != last:
            last, quiet = (job.status, job.progress), 0.0
            yield _event("progress", job)
        elif quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(EVENTS_POLL_SECONDS)
        quiet += EVENTS_POLL_SECONDS
        job = await run_in_threadpool(_read, db, job.id)
    yield _event(FINAL_EVENTS[job.status], job)


def _read(db: Database, job_id: str) -> JobInfo:
    with db.session() as session:
        return _info(session.get_one(Job, job_id))


def _event(name: str, job: JobInfo) -> str:
    return f"event: {name}\ndata: {job.model_dump_json()}\n\n"


@router.get("/{job_id}/result", response_class=Response, responses={200: {"model": SimulateOutput}})
def get_result(job_id: str, principal: Viewer, db: Db) -> Response:
    """A succeeded job's result: the runs as ``nettwin simulate --format json`` gives them (409 before)."""
    with db.session() as session:
        job = _own_job(session, principal, job_id)
    if job.status != "succeeded" or job.result is None:
        why = f" ({job.error})" if job.error else ""
        raise ApiError(409, f"job '{job_id}' is {job.status}{why}; it has no result")
    return Response(job.result, media_type="application/json")


@router.post("/{job_id}/cancel", response_model=JobInfo)
def cancel(job_id: str, principal: Member, db: Db, request: Request) -> JobInfo:
    """Cancel a queued or running job; a running job's worker is stopped. A finished job cannot be (409)."""
    with db.session() as session:
        _own_job(session, principal, job_id)
        # Conditional, so that a job finishing meanwhile keeps its outcome.
        cancelled = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.not_in(FINAL_STATES))
            .values(status="cancelled", finished_at=utcnow())
        ).rowcount
    request.app.state.runner.cancel(job_id)
    with db.session() as session:
        job = session.get_one(Job, job_id)
        if cancelled == 0:
            raise ApiError(409, f"job '{job_id}' is already {job.status}")
        return _info(job)
