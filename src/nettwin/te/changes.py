"""Topology changes: link failures, capacity changes, and sequences of changing snapshots.

**Failures** (:func:`fail_links`) set the capacity of both directions of the failed physical links to 0 and
fix the candidate paths in one of two ways:

* ``repath="prune"`` — drop the paths that cross a failed link; a pair left without any path gets fresh
  k-shortest paths on the surviving graph (its demand is dropped, and counted in ``meta["dropped_demand"]``,
  only if the failure disconnected it);
* ``repath="recompute"`` — compute all candidate paths again on the surviving graph.

The result keeps ``nominal`` (the instance before the failure) and ``origin`` (each path's index in it, -1 for
new paths), which the local-rescaling baseline uses.

**Changing topologies** (:func:`dynamic_sequence`) follow the spirit of the DynGeant set of the Geminet paper:
a time series of snapshots, each one random event away from the previous one — a link goes down or comes back,
a link's capacity halves or doubles (within ¼× … 2× of nominal), a node goes down (with its links and its
demands) or comes back, or a new link joins two nodes two hops apart (40 Gbit/s). Events keep the active part
connected. Each snapshot carries the demand matrix of its time step and its own recomputed candidate paths, so
the link set, pair set and path set all change along the sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from nettwin.errors import TEError
from nettwin.te.datasets import base_matrix, demand_pairs, ecmp_mlu
from nettwin.te.graph import TEGraph, te_graph
from nettwin.te.instance import TEInstance
from nettwin.te.paths import PathSet, compute_paths
from nettwin.te.traffic import temporal

__all__ = ["fail_links", "random_failures", "scale_capacity", "dynamic_sequence", "REPATH_MODES", "EVENTS"]

REPATH_MODES = ("prune", "recompute")
EVENTS = ("link_down", "link_up", "capacity", "node_down", "node_up", "link_new")


def fail_links(
    instance: TEInstance, links: Sequence[int], repath: str = "prune", k: int = 4, method: str = "yen"
) -> TEInstance:
    """``instance`` with the physical links ``links`` failed (capacity 0 in both directions).

    Parameters
    ----------
    instance : the instance before the failure.
    links : physical link ids (``graph.physical`` values).
    repath : ``"prune"`` or ``"recompute"`` (module docstring).
    k, method : for paths computed afresh.

    Returns
    -------
    TEInstance
        With ``meta["failed_links"]`` and ``meta["dropped_demand"]`` (bit/s of disconnected pairs).

    Raises
    ------
    TEError
        If a link id does not exist or ``repath`` is unknown.

    Examples
    --------
    >>> g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", 10.0), ("a", "c", 10.0)])
    >>> inst = TEInstance(g, compute_paths(g, np.array([[0, 2]])), np.array([5.0]))
    >>> failed = fail_links(inst, [2])
    >>> failed.graph.capacity.tolist(), [failed.paths.path(q) for q in range(failed.n_paths)]
    ([10.0, 10.0, 10.0, 10.0, 0.0, 0.0], [[0, 2]])
    """
    if repath not in REPATH_MODES:
        raise TEError(f"repath must be one of {', '.join(REPATH_MODES)}, got {repath!r}")
    graph = instance.graph
    links = np.asarray(list(links), dtype=np.int64)
    unknown = np.setdiff1d(links, graph.physical)
    if unknown.size:
        raise TEError(f"graph '{graph.name}' has no physical link {int(unknown[0])}")
    dead = np.isin(graph.physical, links) | graph.failed
    new_graph = graph.with_capacity(np.where(dead, 0.0, graph.capacity))
    paths = instance.paths
    if repath == "recompute":
        fresh = compute_paths(new_graph, paths.pairs, k=k, method=method, drop_unreachable=True)
        origin = np.full(fresh.n_paths, -1, dtype=np.int64)
        new_paths = fresh
        keep_pairs = _pair_rows(paths.pairs, fresh.pairs)
    else:
        alive, orphans = paths.without_links(dead)
        lists: list[list[list[int]]] = [[] for _ in range(paths.n_pairs)]
        origins: list[list[int]] = [[] for _ in range(paths.n_pairs)]
        for q in np.nonzero(alive)[0]:
            lists[paths.path_pair[q]].append(paths.path(q))
            origins[paths.path_pair[q]].append(int(q))
        if orphans.size:
            fresh = compute_paths(new_graph, paths.pairs[orphans], k=k, method=method, drop_unreachable=True)
            for p_local, p in enumerate(_pair_rows(paths.pairs[orphans], fresh.pairs)):
                sel = np.nonzero(fresh.path_pair == p_local)[0]
                lists[orphans[p]] = [fresh.path(q) for q in sel]
                origins[orphans[p]] = [-1] * len(sel)
        keep_pairs = np.array([p for p in range(paths.n_pairs) if lists[p]], dtype=np.int64)
        new_paths = PathSet.from_lists(paths.pairs[keep_pairs], [lists[p] for p in keep_pairs])
        origin = np.array([o for p in keep_pairs for o in origins[p]], dtype=np.int64)
    lost = np.setdiff1d(np.arange(paths.n_pairs), keep_pairs)
    meta = {
        **instance.meta,
        "failed_links": sorted(set(instance.meta.get("failed_links", [])) | {int(x) for x in links}),
        "dropped_demand": float(instance.demand[lost].sum()),
    }
    return TEInstance(
        new_graph,
        new_paths,
        instance.demand[keep_pairs],
        f"{instance.name}/fail{links.tolist()}",
        meta,
        nominal=instance,
        origin=origin,
    )


def _pair_rows(all_pairs: np.ndarray, some: np.ndarray) -> np.ndarray:
    """Row index in ``all_pairs`` of every row of ``some``."""
    index = {(int(s), int(t)): i for i, (s, t) in enumerate(all_pairs)}
    return np.array([index[(int(s), int(t))] for s, t in some], dtype=np.int64)


def random_failures(
    instance: TEInstance,
    n_links: int = 1,
    seed: int | np.random.Generator | None = None,
    keep_connected: bool = True,
    repath: str = "prune",
) -> TEInstance:
    """Fail ``n_links`` physical links drawn at random (not disconnecting the graph when ``keep_connected``)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    graph = instance.graph
    working = np.unique(graph.physical[~graph.failed])
    order = rng.permutation(working)
    chosen: list[int] = []
    g = nx.Graph()
    g.add_edges_from(
        (int(u), int(v), {"link": int(lk)})
        for (u, v), lk in zip(graph.links[~graph.failed], graph.physical[~graph.failed], strict=True)
    )
    for lk in order:
        if len(chosen) == n_links:
            break
        ends = graph.links[graph.physical == lk][0]
        if keep_connected:
            h = g.copy()
            h.remove_edge(int(ends[0]), int(ends[1]))
            if not nx.is_connected(h):
                continue
            g = h
        chosen.append(int(lk))
    if len(chosen) < n_links:
        raise TEError(f"cannot fail {n_links} links of '{graph.name}' without disconnecting it")
    return fail_links(instance, chosen, repath=repath)


def scale_capacity(instance: TEInstance, links: Sequence[int], factor: float) -> TEInstance:
    """``instance`` with the capacity of physical links ``links`` multiplied by ``factor`` (> 0)."""
    if not factor > 0:
        raise TEError(f"capacity factor must be > 0, got {factor!r}; use fail_links to take a link down")
    mask = np.isin(instance.graph.physical, np.asarray(list(links)))
    graph = instance.graph.with_capacity(np.where(mask, instance.graph.capacity * factor, instance.graph.capacity))
    return TEInstance(graph, instance.paths, instance.demand, instance.name, dict(instance.meta))


def dynamic_sequence(
    source: str,
    steps: int = 200,
    seed: int = 0,
    traffic: str = "sndlib",
    k: int = 4,
    method: str = "yen",
    change_rate: float = 0.7,
    target_mlu: float = 0.8,
    capacity: float | None = None,
) -> list[TEInstance]:
    """A time series of changing-topology snapshots (module docstring), e.g. a DynGeant-like set from geant.

    ``capacity`` (bit/s) is the nominal capacity of every link (see :func:`~nettwin.te.graph.te_graph`).

    Returns
    -------
    list[TEInstance]
        Time-ordered; ``meta`` holds ``step``, ``event`` and the active link/node counts.

    Examples
    --------
    >>> seq = dynamic_sequence("sndlib/abilene", steps=4, seed=0)
    >>> [s.meta["step"] for s in seq]
    [0, 1, 2, 3]
    """
    rng = np.random.default_rng(seed)
    full = te_graph(source, capacity)
    n = full.n_nodes
    fwd = full.links[0::2]
    nominal_cap = full.capacity[0::2].copy()
    base = base_matrix(source, full, traffic, seed)
    pairs0 = demand_pairs(base)
    paths0 = compute_paths(full, pairs0, k=k, method=method, drop_unreachable=True)
    scale = target_mlu / ecmp_mlu(full, paths0, base[paths0.pairs[:, 0], paths0.pairs[:, 1]])
    seq = temporal(base, steps, seed=seed + 1) * scale

    links = {(int(u), int(v)): float(c) for (u, v), c in zip(fwd, nominal_cap, strict=True)}
    nominal = dict(links)
    active_links = set(links)
    down_nodes: set[int] = set()
    cache: dict[tuple, PathSet] = {}
    out = []
    for t in range(steps):
        event = "none"
        if t > 0 and rng.random() < change_rate:
            event = _apply_event(rng, links, nominal, active_links, down_nodes, n)
        edges = sorted(lk for lk in active_links if lk[0] not in down_nodes and lk[1] not in down_nodes)
        e2 = np.empty((2 * len(edges), 2), dtype=np.int64)
        e2[0::2], e2[1::2] = np.array(edges), np.array(edges)[:, ::-1]
        caps = np.repeat([links[lk] for lk in edges], 2)
        graph = TEGraph.from_arrays(full.name, full.nodes, e2, caps, physical=np.repeat(np.arange(len(edges)), 2))
        up = np.ones(n, dtype=bool)
        up[list(down_nodes)] = False
        mask = up[pairs0[:, 0]] & up[pairs0[:, 1]]
        key = tuple(edges)
        if key not in cache:
            cache[key] = compute_paths(graph, pairs0[mask], k=k, method=method, drop_unreachable=True)
        paths = cache[key]
        demand = seq[t][paths.pairs[:, 0], paths.pairs[:, 1]]
        meta = {"step": t, "event": event, "links": len(edges), "nodes": int(up.sum())}
        out.append(TEInstance(graph, paths, demand, f"dyn-{full.name}/t={t:04d}", meta))
    return out


def _connected(edges: set[tuple[int, int]], down: set[int], n: int) -> bool:
    g = nx.Graph()
    g.add_nodes_from(i for i in range(n) if i not in down)
    g.add_edges_from(e for e in edges if e[0] not in down and e[1] not in down)
    return g.number_of_nodes() > 0 and nx.is_connected(g)


def _apply_event(
    rng: np.random.Generator,
    links: dict[tuple[int, int], float],
    nominal: dict[tuple[int, int], float],
    active: set[tuple[int, int]],
    down_nodes: set[int],
    n: int,
) -> str:
    """Apply one random feasible event in place and return its name."""
    for _ in range(20):
        event = EVENTS[rng.choice(len(EVENTS), p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1])]
        if event == "link_down":
            cand = sorted(active)
            lk = cand[rng.integers(len(cand))]
            if _connected(active - {lk}, down_nodes, n):
                active.discard(lk)
                return event
        elif event == "link_up":
            cand = sorted(set(links) - active)
            if cand:
                active.add(cand[rng.integers(len(cand))])
                return event
        elif event == "capacity":
            cand = sorted(active)
            lk = cand[rng.integers(len(cand))]
            factor = 0.5 if rng.random() < 0.5 else 2.0
            links[lk] = float(np.clip(links[lk] * factor, nominal[lk] / 4, nominal[lk] * 2))
            return event
        elif event == "node_down" and len(down_nodes) < n // 5:
            node = int(rng.integers(n))
            if node not in down_nodes and _connected(active, down_nodes | {node}, n):
                down_nodes.add(node)
                return event
        elif event == "node_up" and down_nodes:
            down_nodes.discard(sorted(down_nodes)[rng.integers(len(down_nodes))])
            return event
        elif event == "link_new":
            g = nx.Graph(list(active))
            u = int(rng.integers(n))
            if u in g:
                two = [v for v in nx.single_source_shortest_path_length(g, u, cutoff=2).items() if v[1] == 2]
                if two:
                    v = int(two[rng.integers(len(two))][0])
                    lk = (min(u, v), max(u, v))
                    links[lk] = nominal[lk] = 40e9
                    active.add(lk)
                    return event
    return "none"
