"""Executors: run sample tasks in parallel and stream their rows back as they finish.

:class:`LocalExecutor` uses a pool of worker processes on this machine; :class:`RayExecutor` uses Ray tasks on
a local Ray instance or a cluster. Both keep a bounded number of tasks in flight, and both turn every failure
into a ``failed`` row for the sample concerned, so the rows of all other samples are kept:

* an exception inside a sample's simulation is caught in the worker (:func:`nettwin.data.worker.run_sample`);
* a worker process that dies (``os._exit``, a segfault, the OOM killer) breaks the local pool: the pool is
  rebuilt, and the samples that were in flight are retried one at a time, so that the one that kills its
  worker again is identified and recorded as failed while the others complete. Ray retries a task whose worker
  died once, then the sample is recorded as failed;
* with a sample timeout, a sample that runs longer ends its worker process (see
  :func:`nettwin.data.worker.run_sample`), which the executors handle as above; the row says it timed out.

Local worker processes end with the process that drives them, however it ends (see :mod:`nettwin._lifeline`), and
ignore Ctrl-C: the driver handles the interrupt and stops them.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from nettwin._lifeline import end_with
from nettwin.data.spec import DatasetSpec
from nettwin.data.worker import Task, error_text, failed_row, run_sample, spec_from_json
from nettwin.errors import DatasetError
from nettwin.scenario.units import format_time

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "make_executor", "WORKER_DIED", "MAX_WORKERS"]

WORKER_DIED = "the worker process died while simulating this sample (twice)"


class Executor(Protocol):
    """Runs sample tasks and yields one row per task, in completion order."""

    def run(self, spec: DatasetSpec, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]: ...


def make_executor(
    kind: str | Executor,
    workers: int = 2,
    *,
    address: str | None = None,
    imports: Sequence[str] = (),
    timeout: float | None = None,
) -> Executor:
    """An executor by name (``local`` or ``ray``), or ``kind`` itself if it is already one."""
    if not isinstance(kind, str):
        return kind
    _check_workers(workers)
    if kind == "local":
        return LocalExecutor(workers, imports=imports, timeout=timeout)
    if kind == "ray":
        return RayExecutor(workers, address=address, imports=imports, timeout=timeout)
    raise DatasetError(f"unknown executor '{kind}'; choose local or ray")


MAX_WORKERS = 4096
"""Most workers: more processes than any one machine has cores, and more Ray tasks in flight than a driver keeps
fed; beyond it a number is a typo (and overflows the C integers beneath the process pool)."""


def _check_workers(workers: int) -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise DatasetError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is not None and not timeout > 0:
        raise DatasetError(f"the sample timeout must be a positive number of seconds, got {timeout}")
    return timeout


def _lost(timeout: float | None, elapsed: float, died: str) -> str:
    """Why a sample's worker ended: its timeout when it ran that long, else ``died``."""
    if timeout is not None and elapsed >= timeout:
        return f"took longer than the sample timeout ({format_time(timeout)}), twice; its worker was stopped"
    return died


# ---------------------------------------------------------------------------------------- worker side

_worker_spec: DatasetSpec | None = None
_worker_timeout: float | None = None


def _init_worker(spec_json: str, imports: tuple[str, ...], sys_path: list[str], timeout: float | None) -> None:
    global _worker_spec, _worker_timeout
    # The pool's queues do not end a worker whose driver was killed (workers hold both ends of them), and the
    # forkserver and resource tracker live as long as any worker does: end with the driver, through the pipe
    # whose write end only the driver holds.
    end_with(multiprocessing.parent_process().sentinel)  # type: ignore[union-attr]
    for entry in reversed(sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    for module in imports:
        importlib.import_module(module)
    _worker_spec = spec_from_json(spec_json)
    _worker_timeout = timeout


def _work(task: Task) -> dict[str, Any]:
    assert _worker_spec is not None, "worker used before its initializer ran"
    return run_sample(_worker_spec, task, _worker_timeout)


def _ping() -> bool:
    return True


def _check_starts(pool: ProcessPoolExecutor) -> None:
    """Fail fast, once, if worker processes cannot even start (rather than failing every sample)."""
    try:
        _submit(pool, _ping).result()
    except BrokenProcessPool as err:
        raise DatasetError(
            "worker processes die on start-up; a script that generates datasets must call generate_dataset under "
            "'if __name__ == \"__main__\":' (worker processes import the main module), and modules given in "
            "'imports' must import cleanly"
        ) from err


@contextlib.contextmanager
def _interrupts_blocked() -> Iterator[None]:
    """Block SIGINT in this thread for the block; processes started meanwhile inherit the block (as the
    multiprocessing resource tracker does); a Ctrl-C that comes meanwhile is delivered after it."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _submit(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """``pool.submit``, with Ctrl-C held back until it returns.

    A submit may start a worker process; interrupted half-way, the pool would not know the worker, which could
    neither be stopped nor find the pool's semaphores once the driver has removed them (a traceback).
    """
    if threading.current_thread() is not threading.main_thread():
        return pool.submit(fn, *args)  # signals reach the main thread only
    held: list[bool] = []
    previous = signal.signal(signal.SIGINT, lambda *_: held.append(True))
    try:
        return pool.submit(fn, *args)
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's worker processes, so that neither its shutdown nor the interpreter's exit waits for the samples
    they are simulating (ProcessPoolExecutor offers no public way before Python 3.14)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.kill()


def _ray_work(spec_json: str, imports: tuple[str, ...], task: Task, timeout: float | None) -> dict[str, Any]:
    for module in imports:
        importlib.import_module(module)
    return run_sample(spec_from_json(spec_json), task, timeout)


# ---------------------------------------------------------------------------------------- local


class LocalExecutor:
    """A pool of ``workers`` processes on this machine (forkserver start method where available, else spawn).

    Worker processes live for the whole run, so each compiles the engine once. ``imports`` names modules every
    worker imports first (e.g. one that registers a third-party engine). ``timeout``: seconds one sample may take
    before its worker is stopped and the sample recorded as failed (after one retry alone); None waits.
    """

    def __init__(self, workers: int = 2, *, imports: Sequence[str] = (), timeout: float | None = None) -> None:
        _check_workers(workers)
        self.workers = workers
        self.imports = tuple(imports)
        self.timeout = _check_timeout(timeout)

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"

    def _pool(self, spec: DatasetSpec) -> ProcessPoolExecutor:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["nettwin.data.worker"])
            # Started with Ctrl-C blocked, the forkserver and every worker it forks never see it (a terminal sends
            # it to the whole process group), so none prints a traceback; the driver stops them. The resource
            # tracker comes first: starting it unblocks SIGINT in the calling thread.
            multiprocessing.resource_tracker.ensure_running()
            with _interrupts_blocked():
                multiprocessing.forkserver.ensure_running()
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(spec.model_dump_json(), self.imports, list(sys.path), self.timeout),
        )

    def run(self, spec: DatasetSpec, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        """Yield one row per task as tasks finish."""
        queue: deque[Task] = deque(tasks)
        suspects: deque[Task] = deque()  # in flight when a worker died: retried alone
        limit = self.workers + 1
        while queue or suspects:
            pool = self._pool(spec)
            broken = clean = False
            try:
                _check_starts(pool)
                while suspects and not broken:
                    task = suspects.popleft()
                    start = time.monotonic()
                    try:
                        row = _submit(pool, _work, task).result()
                    except BrokenProcessPool:
                        reason = _lost(self.timeout, time.monotonic() - start, WORKER_DIED)
                        row, broken = failed_row(spec, task, reason), True
                    yield row
                inflight: dict[Future[dict[str, Any]], Task] = {}
                while (queue or inflight) and not broken:
                    while queue and len(inflight) < limit and not broken:
                        task = queue.popleft()
                        try:
                            inflight[_submit(pool, _work, task)] = task
                        except BrokenProcessPool:
                            queue.appendleft(task)
                            broken = True
                    if broken:
                        break
                    done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=lambda f: inflight[f].sample_id):
                        task = inflight.pop(future)
                        try:
                            row = future.result()
                        except BrokenProcessPool:
                            suspects.append(task)
                            broken = True
                            continue
                        except Exception as err:  # the row could not come back (e.g. pickling failed)
                            row = failed_row(spec, task, error_text(err))
                        yield row
                if broken:
                    # Tasks still in flight lost their results with the pool; finished ones are kept.
                    for future, task in sorted(inflight.items(), key=lambda kv: kv[1].sample_id):
                        if future.done() and not future.cancelled() and future.exception() is None:
                            yield future.result()
                        else:
                            suspects.append(task)
                clean = not broken
            finally:
                # Wait for workers only after a normal end; when interrupted or broken, stop them at once.
                if not clean:
                    _stop_workers(pool)
                pool.shutdown(wait=clean, cancel_futures=True)


# ---------------------------------------------------------------------------------------- ray


class RayExecutor:
    """Ray tasks, one per sample.

    Connects to ``address`` (or ``RAY_ADDRESS``) when given, otherwise starts a local Ray instance with
    ``workers`` CPUs and stops it afterwards; an already initialised Ray is used as it is. ``workers`` also
    bounds the tasks in flight (twice that many are queued). ``timeout`` as for :class:`LocalExecutor`.
    """

    def __init__(
        self,
        workers: int = 2,
        *,
        address: str | None = None,
        imports: Sequence[str] = (),
        timeout: float | None = None,
    ) -> None:
        _check_workers(workers)
        self.workers = workers
        self.address = address
        self.imports = tuple(imports)
        self.timeout = _check_timeout(timeout)

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.workers}, address={self.address!r})"

    def run(self, spec: DatasetSpec, tasks: Sequence[Task]) -> Iterator[dict[str, Any]]:
        """Yield one row per task as tasks finish."""
        try:
            import ray
        except ImportError as err:
            raise DatasetError("the ray executor needs Ray: pip install 'nettwin[ray]'") from err
        started = False
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS")
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False)
            started = True
        try:
            remote = ray.remote(num_cpus=1, max_retries=1)(_ray_work)
            spec_ref = ray.put(spec.model_dump_json())
            queue: deque[Task] = deque(tasks)
            inflight: dict[Any, tuple[Task, float]] = {}
            while queue or inflight:
                while queue and len(inflight) < 2 * self.workers:
                    task = queue.popleft()
                    inflight[remote.remote(spec_ref, self.imports, task, self.timeout)] = (task, time.monotonic())
                ready, _ = ray.wait(list(inflight), num_returns=1)
                for ref in ready:
                    task, submitted = inflight.pop(ref)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayError as err:
                        died = f"ray task failed: {error_text(err).splitlines()[0][:300]}"
                        # Queued tasks wait for a CPU, so only a task that failed after twice the timeout
                        # (two attempts) surely ran into it.
                        yield failed_row(spec, task, _lost(self.timeout, (time.monotonic() - submitted) / 2, died))
        finally:
            if started:
                ray.shutdown()
