"""The job runner: takes queued jobs from the database, runs each in its own worker process, stores the outcome.

The queue is the ``jobs`` table, so an accepted job survives any stop of the server. Jobs a server left
``running`` when it stopped without warning (killed, crashed, power lost) are queued again when the next one starts,
up to :data:`MAX_ATTEMPTS` starts in all; a job that was running at that many stops is marked failed with the
reason, since it may be what brings the server down. A server that stops normally ends its workers and queues
their jobs again without counting the start.

Worker processes end with the server however it ends (:mod:`nettwin._lifeline`): no orphan keeps simulating.
This runner assumes it is the only one on its database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from nettwin.service.db import Database
from nettwin.service.hashing import result_hash
from nettwin.service.models import Job, StoredScenario, utcnow
from nettwin.service.worker import run_simulate

__all__ = ["JobRunner", "MAX_ATTEMPTS", "STOPPED_REASON"]

log = logging.getLogger("nettwin.service")

MAX_ATTEMPTS = 2
"""Starts of a job, the first included, before a server stopping while it runs marks it failed."""

STOPPED_REASON = "the server stopped while this job ran, {n} times; it is not started again"

_POLL_SECONDS = 0.5
"""How often an idle runner thread looks for jobs it was not told about (a submission wakes it at once)."""


class JobRunner:
    """``workers`` threads, each running one job at a time in a worker process."""

    def __init__(self, db: Database, workers: int, on_finished: Callable[[str, float], None] | None = None) -> None:
        """``on_finished(status, seconds)`` is told of each job that ends here (succeeded, failed or cancelled)
        and how long its worker ran."""
        self._db = db
        self._on_finished = on_finished
        self._workers = workers
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[str, Any] = {}
        self._lock = threading.Lock()
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self._context = multiprocessing.get_context(method)

    def start(self) -> None:
        """Recover the jobs a stopped server left, start the worker machinery and the runner threads."""
        self.recover()
        if self._context.get_start_method() == "forkserver":
            self._context.set_forkserver_preload(["nettwin.service.worker"])
            # Started with Ctrl-C blocked, the forkserver never sees the one a terminal sends to the whole process
            # group; the server stops it. The resource tracker comes first: starting it unblocks SIGINT here.
            multiprocessing.resource_tracker.ensure_running()
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                multiprocessing.forkserver.ensure_running()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for i in range(self._workers):
            thread = threading.Thread(target=self._loop, name=f"nettwin-runner-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """End the running workers; their jobs are queued again for the next start."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            processes = list(self._running.values())
        for process in processes:
            _kill(process)
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def wake(self) -> None:
        """A job was queued: let an idle thread take it now."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """End the worker of a job whose status was just set to cancelled, if it runs here."""
        with self._lock:
            process = self._running.get(job_id)
        if process is not None:
            _kill(process)

    def recover(self) -> None:
        """Queue again, or mark failed, the jobs a server stopped without warning left running."""
        with self._db.session() as session:
            for job in session.scalars(select(Job).where(Job.status == "running")):
                if job.attempts >= MAX_ATTEMPTS:
                    job.status, job.finished_at = "failed", utcnow()
                    job.error = STOPPED_REASON.format(n=job.attempts)
                else:
                    job.status, job.progress, job.started_at = "queued", 0.0, None
                log.warning("job %s was running when the server stopped: %s", job.id, job.status)

    # ------------------------------------------------------------------------------------------ threads

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = self._claim()
                if job_id is None:
                    self._wake.wait(_POLL_SECONDS)
                    self._wake.clear()
                else:
                    self._run(job_id)
            except SQLAlchemyError:
                # The job stays in the table, queued or running, and is taken up again (at the latest on restart).
                log.exception("job runner: database error; retrying")
                self._stopping.wait(_POLL_SECONDS)

    def _claim(self) -> str | None:
        """Mark the oldest queued job running and return its id (the update checks that nobody took it first)."""
        with self._db.session() as session:
            candidates = session.scalars(
                select(Job.id).where(Job.status == "queued").order_by(Job.created_at, Job.id).limit(8)
            ).all()
            for job_id in candidates:
                taken = session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(status="running", attempts=Job.attempts + 1, progress=0.0, started_at=utcnow())
                )
                if taken.rowcount == 1:
                    return job_id
        return None

    def _run(self, job_id: str) -> None:
        with self._db.session() as session:
            job = session.get_one(Job, job_id)
            scenario = session.get_one(StoredScenario, (job.tenant, job.scenario_id))
            body, params = scenario.body, json.loads(job.params)
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_simulate, args=(sender, body, params), name=f"nettwin-job-{job_id}", daemon=True
        )
        with self._lock:
            self._running[job_id] = process
        start = time.monotonic()
        try:
            process.start()
            sender.close()
            if self._stopping.is_set() or self._status(job_id) != "running":
                _kill(process)  # cancelled, or the server stopping, while the worker started
            outcome = self._follow(job_id, process, receiver)
        finally:
            receiver.close()
            process.join()
            with self._lock:
                del self._running[job_id]
        self._conclude(job_id, outcome, process.exitcode)
        if self._on_finished is not None:
            status = self._status(job_id)
            if status in ("succeeded", "failed", "cancelled"):
                self._on_finished(status, time.monotonic() - start)

    def _follow(self, job_id: str, process: Any, receiver: Any) -> tuple[str, Any] | None:
        """Record the worker's progress until it sends its outcome or ends without one (None)."""
        while True:
            ready = wait([receiver, process.sentinel])
            if receiver not in ready and receiver.poll():
                continue  # the worker ended, but its last messages are still to be read
            if receiver not in ready:
                return None
            try:
                kind, value = receiver.recv()
            except EOFError:
                return None
            if kind != "progress":
                return kind, value
            self._set(job_id, progress=value)

    def _conclude(self, job_id: str, outcome: tuple[str, Any] | None, exitcode: int | None) -> None:
        if outcome is not None and outcome[0] == "done":
            text = outcome[1]
            self._set(
                job_id,
                status="succeeded",
                progress=1.0,
                result=text,
                result_hash=result_hash(json.loads(text)),
                finished_at=utcnow(),
            )
        elif outcome is not None:
            self._set(job_id, status="failed", error=outcome[1], finished_at=utcnow())
        elif self._stopping.is_set():
            # Not the job's fault: it runs again, from the start, on the next start of the server.
            self._set(job_id, status="queued", progress=0.0, started_at=None, attempts=Job.attempts - 1)
        else:
            # A cancelled job is no longer running, so this changes nothing for it.
            reason = f"the worker process ended without a result (exit status {exitcode})"
            self._set(job_id, status="failed", error=reason, finished_at=utcnow())

    def _set(self, job_id: str, **values: Any) -> None:
        """Update a job that is still running (one cancelled meanwhile keeps its state)."""
        with self._db.session() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(**values))

    def _status(self, job_id: str) -> str | None:
        with self._db.session() as session:
            return session.scalar(select(Job.status).where(Job.id == job_id))


def _kill(process: Any) -> None:
    if process.pid is not None:
        with contextlib.suppress(OSError, ValueError):
            process.kill()
