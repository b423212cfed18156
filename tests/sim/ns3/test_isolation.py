"""Crash isolation: an ns-3 fatal error costs one sample (after one retry), never the pool or the caller."""

from __future__ import annotations

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
