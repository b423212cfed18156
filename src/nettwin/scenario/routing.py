"""Deterministic shortest-path routing over a directed link list."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from nettwin.errors import ScenarioError, Unreachable

__all__ = ["shortest_paths", "ecmp_paths"]

_REL_TOL = 1e-9


def shortest_paths(
    n_nodes: int,
    link_src: np.ndarray,
    link_dst: np.ndarray,
    link_cost: np.ndarray,
    pairs: list[tuple[int, int]],
    node_names: tuple[str, ...] | None = None,
) -> list[tuple[int, ...]]:
    """Shortest path of every ``(src, dst)`` pair, as tuples of link indices.

    Among equal-cost paths the one with the fewest links, then the one whose node sequence is lexicographically
    smallest, is chosen, so routing does not depend on input order or platform. Zero-cost links are allowed.

    Parameters
    ----------
    n_nodes : number of nodes.
    link_src, link_dst : (L,) int arrays, the directed links.
    link_cost : (L,) non-negative float array.
    pairs : the ``(src, dst)`` node pairs to route.
    node_names : used in error messages.

    Returns
    -------
    list of tuple of int
        Link indices from source to destination, one tuple per pair.

    Raises
    ------
    Unreachable
        If a destination cannot be reached from its source.

    Examples
    --------
    >>> import numpy as np
    >>> src, dst = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3])
    >>> shortest_paths(4, src, dst, np.ones(4), [(0, 3)])
    [(0, 1)]
    """
    out_links, dist_to = _distances(n_nodes, link_src, link_dst, link_cost, pairs)
    names = node_names or tuple(str(i) for i in range(n_nodes))

    paths = []
    hops_to: dict[int, np.ndarray] = {}
    for s, d in pairs:
        dist = dist_to[d]
        if not np.isfinite(dist[s]):
            raise Unreachable(f"flow {names[s]}→{names[d]}: destination unreachable from source")
        if d not in hops_to:
            hops_to[d] = _tight_hops(n_nodes, link_src, link_dst, link_cost, dist, d)
        hops = hops_to[d]
        path, node = [], s
        while node != d:
            # Links are sorted by next node, so the first tight link one hop nearer leads to the smallest next node.
            # Requiring one hop nearer keeps the walk finite where zero-cost links form a cycle.
            for link in out_links[node]:
                nxt = int(link_dst[link])
                if hops[nxt] == hops[node] - 1 and _tight(link_cost[link], dist[nxt], dist[node]):
                    path.append(link)
                    node = nxt
                    break
        paths.append(tuple(path))
    return paths


def ecmp_paths(
    n_nodes: int,
    link_src: np.ndarray,
    link_dst: np.ndarray,
    link_cost: np.ndarray,
    pairs: list[tuple[int, int]],
    max_paths: int,
    node_names: tuple[str, ...] | None = None,
) -> list[tuple[tuple[tuple[int, ...], ...], tuple[float, ...]]]:
    """Every shortest path of every ``(src, dst)`` pair with its ECMP share.

    Each node divides a flow equally among its next hops on shortest paths, so a path's share is the product of
    ``1 / next hops`` along it. A next hop is on a shortest path when its link is tight and it is nearer the
    destination by cost, or as near and fewer links away (zero-cost links cannot make a loop). Paths are listed
    in the order of their node sequences; parallel links count once (the cheapest, as :func:`shortest_paths`).

    Raises
    ------
    Unreachable
        If a destination cannot be reached from its source.
    ScenarioError
        If a pair has more than ``max_paths`` shortest paths.

    Examples
    --------
    >>> import numpy as np
    >>> src, dst = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3])
    >>> ecmp_paths(4, src, dst, np.ones(4), [(0, 3)], max_paths=8)
    [(((0, 1), (2, 3)), (0.5, 0.5))]
    """
    out_links, dist_to = _distances(n_nodes, link_src, link_dst, link_cost, pairs)
    names = node_names or tuple(str(i) for i in range(n_nodes))
    # Every node's outgoing links in one array, node by node (so sorted by node), each node's by next node.
    order = np.fromiter((link for links in out_links for link in links), dtype=np.int64)
    here_node, next_node, cost = link_src[order], link_dst[order], link_cost[order]
    found = []
    next_hops: dict[int, tuple[list[int], list[int]]] = {}
    for s, d in pairs:
        dist = dist_to[d]
        if not np.isfinite(dist[s]):
            raise Unreachable(f"flow {names[s]}→{names[d]}: destination unreachable from source")
        if d not in next_hops:
            hops = _tight_hops(n_nodes, link_src, link_dst, link_cost, dist, d)
            here, there = dist[here_node], dist[next_node]
            with np.errstate(invalid="ignore"):  # nodes that cannot reach d: inf - inf, never tight
                tight = np.abs(cost + there - here) <= _REL_TOL * np.maximum(1.0, here)
            ok = tight & ((there < here) | (hops[next_node] < hops[here_node]))
            bounds = np.searchsorted(here_node[ok], np.arange(n_nodes + 1))
            next_hops[d] = order[ok].tolist(), bounds.tolist()
        kept, bounds = next_hops[d]  # node u's next hops: kept[bounds[u] : bounds[u + 1]]
        paths: list[tuple[int, ...]] = []
        shares: list[float] = []
        stack: list[tuple[int, tuple[int, ...], float]] = [(s, (), 1.0)]
        while stack:
            node, path, share = stack.pop()
            if node == d:
                paths.append(path)
                shares.append(share)
                if len(paths) > max_paths:
                    raise ScenarioError(
                        f"routing.max_paths: flow {names[s]}→{names[d]} has more than {max_paths} equal-cost paths; "
                        "raise routing.max_paths or route by shortest_path"
                    )
                continue
            options = kept[bounds[node] : bounds[node + 1]]
            stack.extend((int(link_dst[link]), (*path, link), share / len(options)) for link in reversed(options))
        found.append((tuple(paths), tuple(shares)))
    return found


def _distances(
    n_nodes: int, link_src: np.ndarray, link_dst: np.ndarray, link_cost: np.ndarray, pairs: list[tuple[int, int]]
) -> tuple[list[list[int]], dict[int, np.ndarray]]:
    """Each node's outgoing links (the cheapest of parallel ones, sorted by next node) and the cost-distance of
    every node to each destination of ``pairs``."""
    # Parallel links: keep the cheapest (lowest index on ties) for each node pair.
    best: dict[tuple[int, int], int] = {}
    for i, (u, v) in enumerate(zip(link_src.tolist(), link_dst.tolist(), strict=True)):
        j = best.get((u, v))
        if j is None or link_cost[i] < link_cost[j]:
            best[(u, v)] = i
    keys = sorted(best)
    out_links: list[list[int]] = [[] for _ in range(n_nodes)]
    for u, v in keys:
        out_links[u].append(best[(u, v)])
    idx = [best[k] for k in keys]
    rows = np.array([k[1] for k in keys], dtype=np.int64)
    cols = np.array([k[0] for k in keys], dtype=np.int64)
    # Reversed graph: distances *to* each destination.
    reverse = csr_matrix((link_cost[idx], (rows, cols)), shape=(n_nodes, n_nodes))
    dests = sorted({d for _, d in pairs})
    return out_links, dict(zip(dests, dijkstra(reverse, directed=True, indices=dests), strict=True))


def _tight(cost: float, dist_next: float, dist_here: float) -> bool:
    """Whether a link of ``cost`` lies on a shortest path (distances to the destination, rounding allowed)."""
    return abs(cost + dist_next - dist_here) <= _REL_TOL * max(1.0, dist_here)


def _tight_hops(
    n_nodes: int, link_src: np.ndarray, link_dst: np.ndarray, link_cost: np.ndarray, dist: np.ndarray, dest: int
) -> np.ndarray:
    """Fewest links from each node to ``dest`` over links that lie on shortest paths (a large number if none)."""
    here, there = dist[link_src], dist[link_dst]
    with np.errstate(invalid="ignore"):  # links between nodes that cannot reach dest: inf - inf, never tight
        tight = np.isfinite(here) & (np.abs(link_cost + there - here) <= _REL_TOL * np.maximum(1.0, here))
    tail, head = link_src[tight], link_dst[tight]
    hops = np.full(n_nodes, np.iinfo(np.int64).max, dtype=np.int64)
    hops[dest] = 0
    reached = np.zeros(n_nodes, dtype=bool)
    reached[dest] = True
    frontier = reached.copy()
    level = 0
    while True:  # breadth-first from dest over the tight links, backwards, one level at a time
        nearer = tail[frontier[head] & ~reached[tail]]
        if not len(nearer):
            return hops
        level += 1
        hops[nearer] = level
        reached[nearer] = True
        frontier = np.zeros(n_nodes, dtype=bool)
        frontier[nearer] = True
