"""Crash isolation: an ns-3 fatal error costs one sample (after one retry), never the pool or the caller; and a
worker ends with the process that started it, however that process ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _processes import alive, command_line, descendants, wait_until

from nettwin.sim.ns3 import Ns3Engine, Ns3Options, WorkerCrashed, WorkerPool
from nettwin.sim.ns3.job import make_job


@pytest.mark.ns3
def test_an_aborting_sample_is_retried_once_then_failed_and_the_pool_survives(single_link_factory):
    net = single_link_factory({"model": "cbr", "rate": "100kbps", "packet_size": "500B"}, duration="2s")
    good = make_job(net, 1, 0, Ns3Options())
    bad = dict(good, fault="abort")  # the worker calls NS_FATAL_ERROR: ns-3 aborts the process
    pool = WorkerPool(1)
    try:
        first, crashed, after = pool.map([good, bad, good])
        assert isinstance(crashed, WorkerCrashed)
        assert "fault injected" in str(crashed) and "failed twice" in str(crashed)
        assert pool.crashes == 2  # the first attempt and its one retry
        assert isinstance(first, dict) and isinstance(after, dict)
        assert list(after["rx_packets"]) == list(first["rx_packets"])
        # The pool keeps serving the engine after the crashes.
        result = Ns3Engine(pool=pool).simulate(net)
        assert result.flows["rx_packets"][0] == first["rx_packets"][0]
    finally:
        pool.close()


@pytest.mark.ns3
def test_workers_end_with_the_process_that_started_them(tmp_path):
    # A process is killed (no close, no atexit) while its ns-3 worker is deep in a long simulation, reading no more
    # jobs: the worker must not live on.
    owner = _owner(
        tmp_path,
        """
        from nettwin.scenario import build_network, parse_scenario
        from nettwin.sim.ns3 import Ns3Options, WorkerPool
        from nettwin.sim.ns3.job import make_job
        from nettwin.sim.ns3.worker import write_frame
        net = build_network(parse_scenario({
            "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "10Mbps"}]},
            "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "5Mbps"}}],
            "simulation": {"duration": "100000s"}}))
        worker = WorkerPool(1)._start()
        write_frame(worker.proc.stdin, make_job(net, 1, 0, Ns3Options()))  # hours of work
        ready.write_text(str(worker.proc.pid))
        time.sleep(1e6)
        """,
    )
    wait_until(lambda: _ready_file(tmp_path).exists() or owner.poll() is not None, "the worker to start")
    assert owner.poll() is None, owner.communicate()[1]
    pid = int(_ready_file(tmp_path).read_text())
    assert alive(pid)
    _kill(owner)
    wait_until(lambda: not alive(pid), f"worker {pid} to end with the killed process that started it")


def test_a_worker_ends_with_its_starter_even_while_importing_ns3(tmp_path):
    # Importing ns-3 takes seconds, more on a busy machine; a process killed meanwhile must not leave the worker
    # behind. Here the import never ends (a stand-in ns package that blocks), so only the lifeline can end it.
    fake = tmp_path / "fake" / "ns"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("import time\ntime.sleep(1e6)\n")
    owner = _owner(
        tmp_path,
        """
        from nettwin.sim.ns3 import WorkerPool
        WorkerPool(1)._start()
        """,
        PYTHONPATH=os.pathsep.join([str(tmp_path / "fake"), os.environ.get("PYTHONPATH", "")]),
    )
    wait_until(lambda: _workers(owner.pid) or owner.poll() is not None, "the worker to start importing ns-3")
    [pid] = _workers(owner.pid)
    _kill(owner)
    wait_until(lambda: not alive(pid), f"worker {pid} to end with the killed process that started it")


@pytest.mark.ns3
def test_a_worker_outlives_the_thread_that_started_it(single_link_factory):
    # Runs start workers from short-lived threads; the end-with-parent guard must watch the process, not the thread.
    net = single_link_factory({"model": "cbr", "rate": "100kbps", "packet_size": "500B"}, duration="1s")
    pool = WorkerPool(1)
    try:
        engine = Ns3Engine(pool=pool)
        engine.simulate(net)
        [worker] = pool._all
        time.sleep(1)
        engine.simulate(net)
        assert pool._all == [worker] and worker.alive() and worker.jobs == 2
    finally:
        pool.close()


def _ready_file(tmp_path: Path) -> Path:
    return tmp_path / "worker.pid"


def _owner(tmp_path: Path, body: str, **env: str) -> subprocess.Popen:
    """A Python process running ``body`` (``ready`` is the path it may write to, ``time`` is imported)."""
    script = tmp_path / "owner.py"
    prelude = f"import time\nfrom pathlib import Path\nready = Path({str(_ready_file(tmp_path))!r})\n"
    script.write_text(prelude + textwrap.dedent(body))
    # Its own session: the test kills this process alone, as kill -9 <pid> would, not its process group.
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **env},
    )


def _workers(pid: int) -> list[int]:
    """ns-3 worker processes among the descendants of ``pid``."""
    return [child for child in descendants(pid) if "nettwin.sim.ns3.worker" in command_line(child)]


def _kill(owner: subprocess.Popen) -> None:
    owner.kill()
    owner.wait()
