"""Candidate paths: k per source–destination pair, stored as a sparse path-to-link incidence.

Two ways to pick the k candidates of a pair:

* ``"yen"`` — the k shortest loop-free paths (Yen's algorithm, through networkx's ``shortest_simple_paths``);
* ``"disjoint"`` — up to k link-disjoint paths: the shortest path, then the shortest avoiding every link already
  used by this pair's earlier paths, and so on. Fewer than k when the graph runs out of disjoint routes.

Length is counted in hops (``weight="hops"``) or propagation delay (``weight="delay"``). Only working links
(capacity > 0) are used.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from nettwin._validation import COUNT, Interval, plain_int
from nettwin.errors import TEError
from nettwin.te.graph import TEGraph

__all__ = ["PathSet", "compute_paths", "check_k", "PATH_METHODS", "MAX_K"]

PATH_METHODS = ("yen", "disjoint")
"""Accepted values of ``compute_paths(method=...)``."""

MAX_K = 64
"""Most candidate paths per pair. Yen's algorithm finds them one after another (k = 64 takes about 3 s over GÉANT's
462 pairs, k = 256 about 20 s, growing faster than k on larger graphs), and the LP and the learned solvers grow with
every path; published TE solvers use 4 to 16."""

_K_RANGE = Interval(int, 1, MAX_K)
"""Accepted values of ``k``."""


def check_k(k: object) -> int:
    """``k`` (candidate paths per pair) as an int, or a :class:`TEError` saying what is accepted.

    Examples
    --------
    >>> check_k(4)
    4
    """
    value = plain_int(k)
    if not COUNT.ok(value):
        raise TEError(f"k (paths per pair) must be a whole number ≥ 1, got {k!r}")
    if not _K_RANGE.ok(value):
        raise TEError(f"k (paths per pair) must be at most {MAX_K}, got {k}: more paths per pair take too long to find")
    return value


@dataclass(frozen=True, eq=False)
class PathSet:
    """Candidate paths of every pair, grouped by pair, in CSR form.

    Parameters
    ----------
    pairs : ``(P, 2)`` int64 ``(src, dst)`` node ids.
    path_pair : ``(Q,)`` int64 pair index of each path, non-decreasing; every pair has at least one path.
    ptr : ``(Q + 1,)`` int64 offsets: path ``q`` is ``link_ids[ptr[q]:ptr[q + 1]]``, links in travel order.
    link_ids : ``(nnz,)`` int64 link ids.

    Examples
    --------
    >>> ps = PathSet(np.array([[0, 2]]), np.array([0, 0]), np.array([0, 2, 3]), np.array([0, 1, 2]))
    >>> ps
    PathSet(pairs=1, paths=2, nnz=3)
    >>> ps.path(0), ps.path(1), ps.path_lengths.tolist()
    ([0, 1], [2], [2, 1])
    """

    pairs: np.ndarray
    path_pair: np.ndarray
    ptr: np.ndarray
    link_ids: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        path_pair = np.asarray(self.path_pair, dtype=np.int64).reshape(-1)
        ptr = np.asarray(self.ptr, dtype=np.int64).reshape(-1)
        link_ids = np.asarray(self.link_ids, dtype=np.int64).reshape(-1)
        if ptr.shape != (len(path_pair) + 1,) or ptr[0] != 0 or ptr[-1] != len(link_ids):
            raise TEError("path set: ptr must have one entry per path plus one, from 0 to len(link_ids)")
        if np.any(np.diff(ptr) < 1):
            raise TEError("path set: every path needs at least one link")
        if len(path_pair) and (np.any(np.diff(path_pair) < 0) or path_pair[0] < 0):
            raise TEError("path set: paths must be grouped by pair (path_pair non-decreasing)")
        counts = np.bincount(path_pair, minlength=len(pairs))
        if len(counts) != len(pairs) or np.any(counts == 0):
            missing = int(np.nonzero(counts == 0)[0][0]) if np.any(counts == 0) else len(pairs)
            raise TEError(f"path set: pair {missing} has no candidate path (or a path names a missing pair)")
        for name, arr in (("pairs", pairs), ("path_pair", path_pair), ("ptr", ptr), ("link_ids", link_ids)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_pairs(self) -> int:
        """Number of source–destination pairs."""
        return len(self.pairs)

    @property
    def n_paths(self) -> int:
        """Number of candidate paths over all pairs."""
        return len(self.path_pair)

    @property
    def nnz(self) -> int:
        """Number of (path, link) incidences."""
        return len(self.link_ids)

    @property
    def path_lengths(self) -> np.ndarray:
        """Hops of every path."""
        return np.diff(self.ptr)

    @property
    def pair_ptr(self) -> np.ndarray:
        """``(P + 1,)`` offsets: pair ``p``'s paths are ``pair_ptr[p]:pair_ptr[p + 1]``."""
        if "pair_ptr" not in self._cache:
            counts = np.bincount(self.path_pair, minlength=self.n_pairs)
            self._cache["pair_ptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return self._cache["pair_ptr"]

    @property
    def path_of_nnz(self) -> np.ndarray:
        """``(nnz,)`` path index of each incidence (the row of :attr:`link_ids`)."""
        if "rows" not in self._cache:
            self._cache["rows"] = np.repeat(np.arange(self.n_paths, dtype=np.int64), self.path_lengths)
        return self._cache["rows"]

    def path(self, q: int) -> list[int]:
        """The link ids of path ``q``."""
        return self.link_ids[self.ptr[q] : self.ptr[q + 1]].tolist()

    def incidence(self, n_links: int) -> sp.csr_matrix:
        """The ``(Q, L)`` 0/1 path-to-link incidence matrix (cached)."""
        key = f"inc{n_links}"
        if key not in self._cache:
            data = np.ones(self.nnz)
            self._cache[key] = sp.csr_matrix((data, self.link_ids, self.ptr), shape=(self.n_paths, n_links))
        return self._cache[key]

    def without_links(self, dead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which paths survive when the links in boolean mask ``dead`` fail.

        Returns ``(alive, orphan_pairs)``: a ``(Q,)`` mask of paths avoiding every dead link, and the indices of
        pairs left without any surviving path.
        """
        alive = np.bincount(self.path_of_nnz, weights=dead[self.link_ids], minlength=self.n_paths) == 0
        left = np.bincount(self.path_pair[alive], minlength=self.n_pairs)
        return alive, np.nonzero(left == 0)[0]

    @staticmethod
    def from_lists(pairs: np.ndarray, paths: list[list[list[int]]]) -> PathSet:
        """A path set from, per pair, a list of paths given as lists of link ids."""
        path_pair, lengths, flat = [], [], []
        for p, plist in enumerate(paths):
            for path in plist:
                path_pair.append(p)
                lengths.append(len(path))
                flat.extend(path)
        ptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        return PathSet(
            np.asarray(pairs, np.int64).reshape(-1, 2), np.array(path_pair, np.int64), ptr, np.array(flat, np.int64)
        )

    def __repr__(self) -> str:
        return f"PathSet(pairs={self.n_pairs}, paths={self.n_paths}, nnz={self.nnz})"


def _link_path(g: nx.DiGraph, nodes: list[int]) -> list[int]:
    return [g[u][v]["id"] for u, v in itertools.pairwise(nodes)]


def _yen(g: nx.DiGraph, s: int, t: int, k: int) -> list[list[int]]:
    try:
        return [_link_path(g, p) for p in itertools.islice(nx.shortest_simple_paths(g, s, t, "weight"), k)]
    except nx.NetworkXNoPath:
        return []


def _disjoint(g: nx.DiGraph, s: int, t: int, k: int) -> list[list[int]]:
    used: set[int] = set()

    def weight(u: int, v: int, d: dict[str, Any]) -> float | None:
        return None if d["id"] in used else d["weight"]

    out = []
    for _ in range(k):
        try:
            nodes = nx.dijkstra_path(g, s, t, weight=weight)
        except nx.NetworkXNoPath:
            break
        path = _link_path(g, nodes)
        out.append(path)
        used.update(path)
    return out


def compute_paths(
    graph: TEGraph,
    pairs: np.ndarray | None = None,
    k: int = 4,
    method: str = "yen",
    weight: str = "hops",
    drop_unreachable: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PathSet:
    """Up to ``k`` candidate paths for every pair over the graph's working links.

    Parameters
    ----------
    graph : the graph; links with capacity 0 are never used.
    pairs : ``(P, 2)`` node-id pairs; None means every ordered pair of distinct nodes.
    k : candidates per pair, ≥ 1.
    method : ``"yen"`` (k shortest loop-free paths) or ``"disjoint"`` (link-disjoint paths).
    weight : ``"hops"`` or ``"delay"``.
    drop_unreachable : leave out pairs with no route instead of raising.
    progress : called with ``(pairs done, pairs)`` after each pair (a progress bar on large topologies).

    Returns
    -------
    PathSet

    Raises
    ------
    TEError
        If an option is invalid, or a pair cannot be routed and ``drop_unreachable`` is False.

    Examples
    --------
    >>> g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 1.0), ("b", "c", 1.0), ("a", "c", 1.0)])
    >>> ps = compute_paths(g, np.array([[0, 2]]), k=4)
    >>> [ps.path(q) for q in range(ps.n_paths)]
    [[4], [0, 2]]
    """
    k = check_k(k)
    if method not in PATH_METHODS:
        raise TEError(f"path method must be one of {', '.join(PATH_METHODS)}, got {method!r}")
    g = graph.to_networkx(weight)
    if pairs is None:
        n = graph.n_nodes
        s, t = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        mask = s != t
        pairs = np.column_stack([s[mask], t[mask]])
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= graph.n_nodes or np.any(pairs[:, 0] == pairs[:, 1])):
        raise TEError(f"pairs must be distinct node ids in 0..{graph.n_nodes - 1}")
    find = _yen if method == "yen" else _disjoint
    kept, lists = [], []
    for done, (s, t) in enumerate(pairs, 1):
        found = find(g, int(s), int(t), int(k))
        if progress is not None:
            progress(done, len(pairs))
        if not found:
            if drop_unreachable:
                continue
            raise TEError(
                f"no working path from '{graph.nodes[s]}' to '{graph.nodes[t]}' in '{graph.name}'; "
                "pass drop_unreachable=True to leave such pairs out"
            )
        kept.append((s, t))
        lists.append(found)
    return PathSet.from_lists(np.array(kept, dtype=np.int64).reshape(-1, 2), lists)
