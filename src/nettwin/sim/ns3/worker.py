"""The worker process side: import ns-3 once, then simulate job after job sent by the engine.

Started as ``python -m nettwin.sim.ns3.worker`` by :class:`~nettwin.sim.ns3.pool.WorkerPool`. Jobs (see
:mod:`~nettwin.sim.ns3.job`) arrive on stdin and replies leave on the original stdout as length-prefixed
pickles; file descriptor 1 is pointed at stderr at start-up, so whatever ns-3 or cppyy print cannot corrupt the
replies. A Python exception in a job is answered as an error and the worker goes on; an ns-3 fatal error aborts
the process, which the pool notices.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import time
from typing import Any, BinaryIO

import numpy as np

from nettwin._lifeline import end_with

__all__ = ["run_job", "read_frame", "write_frame", "main"]

_HEADER = struct.Struct("<Q")

LIFELINE_VARIABLE = "NETTWIN_NS3_LIFELINE"
"""Environment variable naming the worker's end of its lifeline pipe (a file descriptor)."""


def write_frame(stream: BinaryIO, obj: Any) -> None:
    """Write one length-prefixed pickle and flush."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one length-prefixed pickle; ``None`` at end of stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _load() -> tuple[Any, Any]:
    from ns import ns

    from nettwin.sim.ns3._cpp import define

    return ns, define()


def _array(vec: Any, dtype: Any) -> np.ndarray:
    return np.fromiter(vec, dtype=dtype, count=int(vec.size()))


def run_job(job: dict[str, Any], ns: Any = None, nt: Any = None) -> dict[str, Any]:
    """Simulate one job in this process and return its counters as NumPy arrays plus run facts."""
    if ns is None or nt is None:
        ns, nt = _load()
    from nettwin.sim.ns3.wired import build_wired
    from nettwin.sim.ns3.wireless import build_wireless

    wireless = job["medium"] == "wireless"
    offset = float(job["options"]["olsr_warmup"]) if wireless else 0.0
    n_flows, n_links = len(job["flows"]), len(job["links"]["src"])
    hist = job["hist"]
    t0 = time.perf_counter()
    ns.RngSeedManager.SetSeed(int(job["seed"]))
    ns.RngSeedManager.SetRun(int(job["run"]) + 1)
    recorder = nt.Recorder(
        n_flows,
        n_links,
        offset + job["warmup"],
        offset + job["duration"],
        hist["min"],
        hist["ratio"],
        hist["bins"],
        job["header_bytes"],
    )
    try:
        if job.get("fault") == "abort":  # fault injection: the crash-isolation tests use it
            nt.Fatal(f"fault injected into the run of '{job['name']}'")
        build = build_wireless if wireless else build_wired
        stop = build(job, ns, nt, recorder)
        t1 = time.perf_counter()
        ns.Simulator.Stop(ns.Seconds(stop))
        ns.Simulator.Run()
        recorder.Finish()
        t2 = time.perf_counter()
        pairs = _array(recorder.HistNonzero(), np.int64).reshape(-1, 2)
        delay_hist = np.zeros(n_flows * hist["bins"], np.int64)
        delay_hist[pairs[:, 0]] = pairs[:, 1]
        out: dict[str, Any] = {
            "tx_packets": _array(recorder.tx, np.int64),
            "rx_packets": _array(recorder.rx, np.int64),
            "rx_bytes": _array(recorder.rxBytes, np.float64),
            "delay_sum": _array(recorder.delaySum, np.float64),
            "delay_sq_sum": _array(recorder.delaySq, np.float64),
            "jitter_sum": _array(recorder.jitterSum, np.float64),
            "delay_hist": delay_hist.reshape(n_flows, hist["bins"]),
            "busy_time": _array(recorder.busy, np.float64),
            "wait_time": _array(recorder.wait, np.float64),
            "link_drops": _array(recorder.linkDrops, np.int64),
            "link_tx": _array(recorder.linkTx, np.int64),
            "packets": int(recorder.packets),
            "packet_hops": int(recorder.hops),
            "events": int(ns.Simulator.GetEventCount()),
            "sim_end": float(ns.Simulator.Now().GetSeconds()),
            "build_seconds": t1 - t0,
            "run_seconds": t2 - t1,
        }
        if bool(recorder.tracePaths):
            out["paths"] = [[int(x) for x in recorder.MainPath(f)] for f in range(n_flows)]
            out["main_path_packets"] = [int(recorder.MainPathPackets(f)) for f in range(n_flows)]
            out["path_changes"] = _array(recorder.pathChanges, np.int64)
    finally:
        ns.Simulator.Destroy()
        ns.Ipv4AddressGenerator.Reset()
    del recorder
    return out


def main() -> None:
    """Serve jobs until stdin closes.

    The worker ends with the process that started it, through the lifeline pipe named by :data:`LIFELINE_VARIABLE`
    (:mod:`nettwin._lifeline`), from before ns-3 is imported: importing takes seconds, and deep in a simulation the
    worker reads no more jobs, so it would not otherwise notice that process ending (a dataset worker stopped for
    taking too long, a killed generator) and would run on as an orphan. It ignores Ctrl-C, which a terminal sends to
    the whole process group: the process that started it handles the interrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lifeline = os.environ.get(LIFELINE_VARIABLE)
    if lifeline is not None:
        end_with(int(lifeline))
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    jobs = sys.stdin.buffer
    t0 = time.perf_counter()
    try:
        ns, nt = _load()
    except Exception as err:  # noqa: BLE001 - reported to the engine, which raises EngineError
        write_frame(replies, ("error", f"cannot load ns-3: {type(err).__name__}: {err}"))
        return
    write_frame(replies, ("ready", {"import_seconds": time.perf_counter() - t0, "pid": os.getpid()}))
    while True:
        job = read_frame(jobs)
        if job is None:
            return
        try:
            reply = ("ok", run_job(job, ns, nt))
        except Exception as err:  # noqa: BLE001 - one failed job must not end the worker
            reply = ("error", f"{type(err).__name__}: {err}")
        write_frame(replies, reply)


if __name__ == "__main__":
    main()
