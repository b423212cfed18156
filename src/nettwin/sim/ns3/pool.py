"""Long-lived ns-3 worker processes: each imports ns-3 once and then runs job after job.

Importing ns-3 costs 6–10 s and about 650 MB, and an ns-3 fatal error (``NS_FATAL_ERROR``, a failed assertion)
aborts the whole interpreter. Workers therefore live in subprocesses that outlast single runs; the pool restarts
one that dies and retries the job it was running once, then reports that job as failed with the end of the
worker's error output. Other jobs, and the caller's process, never notice. A worker ends with the process that
started it, however that process ends (see :mod:`nettwin._lifeline`).
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

from nettwin._lifeline import lifeline
from nettwin.errors import EngineError
from nettwin.sim.ns3.worker import _HEADER, LIFELINE_VARIABLE, write_frame

__all__ = ["WorkerPool", "WorkerCrashed", "shared_pool"]

START_TIMEOUT = 300.0
"""Seconds a new worker may take to import ns-3 and compile nettwin's helpers."""


class WorkerCrashed(EngineError):
    """A worker process died (ns-3 aborted) while running a job."""


class _Worker:
    """One subprocess running :func:`nettwin.sim.ns3.worker.main`."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        env = dict(os.environ)
        env.setdefault("PYTHONWARNINGS", "ignore")
        env["CPPYY_CRASH_QUIET"] = "1"  # an abort should end the worker at once, not after a debugger backtrace
        read_end, self._lifeline = lifeline()
        env[LIFELINE_VARIABLE] = str(read_end)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nettwin.sim.ns3.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                env=env,
                pass_fds=(read_end,),
            )
        except BaseException:
            os.close(self._lifeline)
            self.log.close()
            raise
        finally:
            os.close(read_end)
        self.jobs = 0
        self.busy = False  # a job was sent and its reply not read
        kind, info = self._read(START_TIMEOUT)
        if kind != "ready":
            self.close()
            raise EngineError(f"the ns-3 worker could not start: {info}")
        self.import_seconds = info["import_seconds"]

    def run(self, job: dict[str, Any], timeout: float | None) -> tuple[str, Any]:
        try:
            write_frame(self.proc.stdin, job)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            raise self._crashed() from None
        self.jobs += 1
        self.busy = True
        reply = self._read(timeout)
        self.busy = False
        return reply

    def _read(self, timeout: float | None) -> tuple[str, Any]:
        head = self._read_exactly(_HEADER.size, timeout)
        (size,) = _HEADER.unpack(head)
        return pickle.loads(self._read_exactly(size, None))

    def _read_exactly(self, n: int, timeout: float | None) -> bytes:
        fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks, got = [], 0
        while got < n:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                self.close()
                raise EngineError(f"the ns-3 run took longer than {timeout:g} s and was stopped")
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise self._crashed()
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> WorkerCrashed:
        code = self.proc.wait()
        self.log.seek(0)
        lines = [s.strip() for s in self.log.read().decode(errors="replace").splitlines()]
        lines = [s for s in lines if s and "materialize symbols" not in s]
        fatal = [s for s in lines if s.startswith(("msg=", "NS_FATAL", "assert failed"))]
        why = " | ".join(fatal[-2:] or lines[-3:]) or "no error output"
        self.close()
        return WorkerCrashed(f"ns-3 aborted (worker exit code {code}): {why}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the worker: at end of input when it is idle, at once when it is running a job."""
        if self.busy and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        if self._lifeline >= 0:
            os.close(self._lifeline)
            self._lifeline = -1
        self.log.close()


class WorkerPool:
    """A fixed number of ns-3 worker processes, started on first use.

    Parameters
    ----------
    size : number of worker processes (parallel runs).
    max_jobs : a worker is replaced after this many jobs, which bounds memory a long campaign could accumulate.
    timeout : seconds one job may run before its worker is stopped and the job fails; None waits forever.
    """

    def __init__(self, size: int = 1, *, max_jobs: int = 500, timeout: float | None = None) -> None:
        if size < 1:
            raise EngineError(f"an ns-3 worker pool needs at least 1 worker, got {size}")
        self.size = size
        self.max_jobs = max_jobs
        self.timeout = timeout
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(size):
            self._idle.put(None)  # a free slot; its worker starts when first needed
        self._lock = threading.Lock()
        self._all: list[_Worker] = []
        self.crashes = 0

    def __repr__(self) -> str:
        return f"WorkerPool(size={self.size})"

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job on a free worker: retried once on a fresh worker if ns-3 aborts.

        Raises
        ------
        EngineError
            If the job fails (twice, for aborts), with the error ns-3 or the worker reported.
        """
        worker = self._idle.get()
        try:
            for attempt in (1, 2):
                if worker is None or not worker.alive() or worker.jobs >= self.max_jobs:
                    self._retire(worker)
                    worker = self._start()
                try:
                    kind, payload = worker.run(job, self.timeout)
                except WorkerCrashed as err:
                    self.crashes += 1
                    self._retire(worker)
                    worker = None
                    if attempt == 2:
                        raise WorkerCrashed(f"{err} (failed twice, not retried again)") from None
                    continue
                except EngineError:
                    self._retire(worker)
                    worker = None
                    raise
                if kind == "ok":
                    return payload
                raise EngineError(f"ns-3 run failed: {payload}")
            raise AssertionError("unreachable")
        finally:
            self._idle.put(worker)

    def map(self, jobs: Sequence[dict[str, Any]]) -> list[dict[str, Any] | EngineError]:
        """Run ``jobs`` on all workers in parallel; each entry is the job's output or the error it ended with."""
        results: list[dict[str, Any] | EngineError] = [EngineError("not run")] * len(jobs)
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(jobs)):
            todo.put(i)

        def serve() -> None:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = self.run(jobs[i])
                except EngineError as err:
                    results[i] = err

        threads = [threading.Thread(target=serve, daemon=True) for _ in range(min(self.size, len(jobs)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def _start(self) -> _Worker:
        worker = _Worker()
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _Worker | None) -> None:
        if worker is None:
            return
        worker.close()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def close(self) -> None:
        """Stop every worker process."""
        with self._lock:
            workers, self._all = self._all, []
        for w in workers:
            w.close()


_SHARED: dict[tuple[int, float | None], WorkerPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(size: int = 1, timeout: float | None = None) -> WorkerPool:
    """The process-wide pool of ``size`` workers, started lazily and stopped at interpreter exit.

    Engines come and go (``get_engine`` builds a new one per call); sharing the pool keeps the expensive ns-3
    import to once per worker for the life of the process.
    """
    key = (size, timeout)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = WorkerPool(size, timeout=timeout)
        return _SHARED[key]


@atexit.register
def _close_shared() -> None:
    for pool in list(_SHARED.values()):
        pool.close()
    _SHARED.clear()
