"""Crash isolation: an ns-3 fatal error costs one sample (after one retry), never the pool or the caller."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from nettwin.sim.ns3 import Ns3Engine, Ns3Options, WorkerCrashed, WorkerPool
from nettwin.sim.ns3.job import make_job

pytestmark = pytest.mark.ns3


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


def test_workers_end_with_the_process_that_started_them(tmp_path):
    # A process ends abruptly (no close, no atexit) while its ns-3 worker is deep in a long simulation, reading no
    # more jobs: the worker must not live on.
    script = tmp_path / "owner.py"
    script.write_text(
        textwrap.dedent(
            """
            import os
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
            print(worker.proc.pid, flush=True)
            os._exit(0)
            """
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
