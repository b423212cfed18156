"""Ready-made instance sequences: one topology, its candidate paths, and a time series of demand matrices.

:func:`sequence_instances` is what the CLI and the benchmarks use::

    graph  = te_graph(source)                                  # capacities: data or betweenness rule
    base   = sndlib_demands | gravity | bimodal                # (N, N), zero diagonal
    pairs  = pairs with base demand > 0 (optionally only among `endpoints` sampled nodes)
    paths  = compute_paths(graph, pairs, k, method)            # computed once, shared by every instance
    seq    = temporal(base, steps)                             # diurnal × noise × bursts
    scale  = so that ECMP over the k paths has MLU `target_mlu` on the base matrix
    -> [TEInstance(graph, paths, scale · seq[t][pairs]) for t in range(steps)]

Every instance of one sequence shares the same :class:`~nettwin.te.paths.PathSet` object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nettwin.errors import TEError
from nettwin.te.graph import TEGraph, te_graph
from nettwin.te.instance import TEInstance
from nettwin.te.paths import PathSet, compute_paths
from nettwin.te.traffic import TRAFFIC_MODELS, bimodal, gravity, sndlib_demands, temporal

__all__ = ["base_matrix", "demand_pairs", "ecmp_mlu", "sequence_instances"]


def base_matrix(source: str, graph: TEGraph, traffic: str, seed: int | None) -> np.ndarray:
    """The ``(N, N)`` base matrix of ``traffic`` (one of :data:`~nettwin.te.traffic.TRAFFIC_MODELS`)."""
    if traffic == "sndlib":
        base = sndlib_demands(source)
        if base.shape[0] != graph.n_nodes:
            raise TEError(f"the demand matrix of {source!r} has {base.shape[0]} nodes, the graph {graph.n_nodes}")
        return base
    if traffic == "gravity":
        return gravity(graph.n_nodes, seed)
    if traffic == "bimodal":
        return bimodal(graph.n_nodes, seed)
    raise TEError(f"traffic must be one of {', '.join(TRAFFIC_MODELS)}, got {traffic!r}")


def demand_pairs(base: np.ndarray, endpoints: int | None = None, seed: int | None = None) -> np.ndarray:
    """Pairs with positive base demand; with ``endpoints``, only among that many nodes sampled by ``seed``."""
    n = base.shape[0]
    mask = base > 0
    if endpoints is not None and endpoints < n:
        if endpoints < 2:
            raise TEError(f"endpoints must be ≥ 2, got {endpoints}")
        chosen = np.zeros(n, dtype=bool)
        chosen[np.random.default_rng(seed).choice(n, endpoints, replace=False)] = True
        mask &= chosen[:, None] & chosen[None, :]
    s, t = np.nonzero(mask)
    return np.column_stack([s, t]).astype(np.int64)


def ecmp_mlu(graph: TEGraph, paths: PathSet, demand: np.ndarray) -> float:
    """MLU of splitting every pair equally over its candidate paths."""
    counts = np.bincount(paths.path_pair, minlength=paths.n_pairs)
    x = 1.0 / counts[paths.path_pair]
    load = paths.incidence(graph.n_links).T @ (x * demand[paths.path_pair])
    cap = graph.capacity
    return float(np.max(np.where(cap > 0, load / np.where(cap > 0, cap, 1.0), 0.0)))


def sequence_instances(
    source: str | TEGraph,
    steps: int = 96,
    traffic: str = "sndlib",
    seed: int = 0,
    k: int = 4,
    method: str = "yen",
    endpoints: int | None = None,
    target_mlu: float = 0.8,
    progress: Callable[[int, int], None] | None = None,
    capacity: float | None = None,
    **temporal_options: Any,
) -> list[TEInstance]:
    """A time-ordered list of instances on one topology.

    Parameters
    ----------
    source : a topology key (``"sndlib/geant"``) or a ready :class:`TEGraph` (then ``traffic`` must not be
        ``"sndlib"``).
    steps : number of demand matrices (15-minute steps; 96 = one day).
    traffic : base matrix: ``"sndlib"`` (the topology's own), ``"gravity"`` or ``"bimodal"``.
    seed : seeds the base matrix, the endpoints, and the temporal sequence.
    k, method : candidate paths per pair and how they are chosen (see :func:`compute_paths`).
    endpoints : route only among this many sampled nodes (large topologies); None for all.
    target_mlu : the base matrix is scaled so that ECMP over the candidates reaches this MLU.
    progress : called with ``(pairs done, pairs)`` while candidate paths are found.
    capacity : one capacity (bit/s) for every link of a topology given by key (see :func:`te_graph`).
    temporal_options : passed to :func:`~nettwin.te.traffic.temporal` (``amplitude``, ``noise`` ...).

    Returns
    -------
    list[TEInstance]
        Named ``"<topology>/t=<step>"`` with ``meta["step"]``.

    Examples
    --------
    >>> seq = sequence_instances("sndlib/abilene", steps=3)
    >>> len(seq), seq[0].n_pairs, seq[0].paths is seq[2].paths
    (3, 132, True)
    """
    graph = source if isinstance(source, TEGraph) else te_graph(source, capacity)
    key = graph.name if isinstance(source, TEGraph) else source
    base = base_matrix(key, graph, traffic, seed)
    pairs = demand_pairs(base, endpoints, seed)
    paths = compute_paths(graph, pairs, k=k, method=method, drop_unreachable=True, progress=progress)
    pairs = paths.pairs
    scale = target_mlu / max(ecmp_mlu(graph, paths, base[pairs[:, 0], pairs[:, 1]]), 1e-300)
    seq = temporal(base, steps, seed=seed + 1, **temporal_options) * scale
    return [
        TEInstance(graph, paths, seq[t][pairs[:, 0], pairs[:, 1]], f"{graph.name}/t={t:04d}", {"step": t})
        for t in range(steps)
    ]
