"""One entry point from a short description to a list of instances — used by the CLI and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nettwin.errors import TEError
from nettwin.scenario.network import Network
from nettwin.te.changes import dynamic_sequence, random_failures
from nettwin.te.datasets import sequence_instances
from nettwin.te.files import file_instances, is_topology_file, read_demands, read_topology
from nettwin.te.graph import TEGraph, one_capacity, te_graph
from nettwin.te.instance import TEInstance
from nettwin.te.network import network_graph, network_instance
from nettwin.te.paths import check_k
from nettwin.te.traffic import split_by_time

__all__ = ["make_instances", "SPLITS"]

SPLITS = ("all", "train", "test")


def make_instances(
    topology: str | Path | TEGraph | Network,
    steps: int = 96,
    traffic: str | None = None,
    seed: int = 0,
    k: int = 4,
    method: str = "yen",
    endpoints: int | None = None,
    dynamic: bool = False,
    failures: int = 0,
    split: str = "all",
    train_fraction: float = 0.75,
    demands: Sequence[str | Path] | np.ndarray | None = None,
    demand_unit: str = "bit/s",
    capacity: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[TEInstance]:
    """Instances of one topology over time.

    Parameters
    ----------
    topology : topohub key, built-in name, a topology file (a scenario's ``topology`` section, GML or GraphML with
        capacities; see :func:`~nettwin.te.files.read_topology`), a :class:`TEGraph`, or a
        :class:`~nettwin.scenario.network.Network`: its links (same indices and capacities), and its own flows as
        the one traffic matrix unless ``demands`` or ``traffic`` say otherwise (:mod:`nettwin.te.network`).
    steps : time steps (demand matrices).
    traffic : ``"sndlib"``, ``"gravity"`` or ``"bimodal"``; None picks ``"sndlib"`` for SNDlib topologies and
        ``"gravity"`` otherwise.
    seed : seeds traffic, changes and failures.
    k, method : candidate paths.
    endpoints : route only among this many sampled nodes.
    dynamic : a changing-topology sequence (:func:`~nettwin.te.changes.dynamic_sequence`) instead of a fixed
        topology.
    failures : fail this many random links in every instance (different links per instance, paths pruned).
    split : ``"all"``, or the ``"train"``/``"test"`` part of a split by time at ``train_fraction``.
    demands : the user's traffic matrices instead of generated ones: files (CSV, ``.npy``, SNDlib native; see
        :func:`~nettwin.te.files.read_demands`), read in order, or a ``(T, N, N)`` array in bit/s. One instance per
        matrix; ``steps``, ``traffic`` and ``endpoints`` do not apply.
    demand_unit : the rate unit of plain numbers in demand files.
    capacity : one capacity (bit/s) for every link, instead of the topology's own (or the betweenness rule's).
    progress : called with ``(pairs done, pairs)`` while candidate paths are found.

    Examples
    --------
    >>> test = make_instances("sndlib/abilene", steps=8, split="test")
    >>> [i.meta["step"] for i in test]
    [6, 7]
    """
    if split not in SPLITS:
        raise TEError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    check_k(k)  # before any topology is read or path computed
    own = isinstance(topology, TEGraph | Path | Network) or is_topology_file(topology)
    if own or demands is not None:
        if isinstance(topology, Network):
            if capacity is not None:
                raise TEError("capacity: a network keeps its own link capacities; change them in the network")
            if demands is None and traffic is None and not dynamic and endpoints is None:
                out = [network_instance(topology, k=k, method=method, progress=progress)]
                return _finish(out, split, train_fraction, failures, seed)
            graph = network_graph(topology)
        elif isinstance(topology, TEGraph):
            graph = topology if capacity is None else topology.with_capacity(one_capacity(capacity, topology.n_links))
        else:
            graph = read_topology(topology, capacity) if own else te_graph(str(topology), capacity)
        if dynamic:
            raise TEError("dynamic sequences are built from topohub or built-in topologies, not from your own files")
        if demands is None:
            if traffic == "sndlib":
                raise TEError("traffic 'sndlib' is the matrix topohub ships; give your own with demands (--demands)")
            out = sequence_instances(graph, steps, traffic or "gravity", seed, k, method, endpoints, progress=progress)
        else:
            if traffic is not None or endpoints is not None:
                raise TEError("traffic and endpoints apply to generated traffic, not to your own demand matrices")
            if isinstance(demands, np.ndarray):
                matrices = demands
            else:
                matrices = np.concatenate([read_demands(f, graph, demand_unit) for f in demands])
            out = file_instances(graph, matrices, k, method, progress)
        return _finish(out, split, train_fraction, failures, seed)
    if traffic is None:
        traffic = "sndlib" if str(topology).startswith("sndlib/") else "gravity"
    if dynamic:
        if endpoints is not None:
            raise TEError("endpoints cannot be combined with dynamic sequences")
        out = dynamic_sequence(topology, steps, seed=seed, traffic=traffic, k=k, method=method, capacity=capacity)
    else:
        out = sequence_instances(
            str(topology), steps, traffic, seed, k, method, endpoints, progress=progress, capacity=capacity
        )
    return _finish(out, split, train_fraction, failures, seed)


def _finish(out: list[TEInstance], split: str, train_fraction: float, failures: int, seed: int) -> list[TEInstance]:
    """The requested part of a time-ordered sequence, with random failures when asked."""
    if split != "all":
        train, test = split_by_time(out, train_fraction)
        out = train if split == "train" else test
    if failures:
        rng = np.random.default_rng(seed + 7)
        out = [random_failures(inst, failures, rng) for inst in out]
    return out
