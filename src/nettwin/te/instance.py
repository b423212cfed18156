"""A traffic-engineering instance — graph, demands, candidate paths — and the maximum link utilisation (MLU).

A solution is a vector of **split ratios** ``x`` with one entry per candidate path: the share of its pair's
demand sent on that path (``x ≥ 0``, summing to 1 over each pair's paths). The load of link ``e`` is
``Σ_q d_pair(q) x_q [e ∈ q]`` and the MLU is ``max_e load_e / c_e``. A link with capacity 0 (failed) that carries
traffic has infinite utilisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nettwin.errors import TEError
from nettwin.te.graph import TEGraph
from nettwin.te.paths import PathSet

__all__ = ["TEInstance", "check_ratios", "pair_sums"]


@dataclass(frozen=True, eq=False)
class TEInstance:
    """One problem: route ``demand`` over ``paths`` in ``graph`` minimising the MLU.

    Parameters
    ----------
    graph : the capacitated directed graph.
    paths : candidate paths; ``paths.pairs`` are the demand pairs.
    demand : ``(P,)`` float64 demands in bit/s, ≥ 0, aligned with ``paths.pairs``.
    name : a label, e.g. ``"geant/t=0042"``.
    meta : free-form facts about the instance (time index, failed links, dropped demand ...).
    nominal : for an instance derived by a change (failure), the instance before the change.
    origin : ``(Q,)`` index of each path in ``nominal.paths``, -1 for a path the change added.

    Examples
    --------
    >>> from nettwin.te.paths import compute_paths
    >>> g = TEGraph.from_links(["a", "b", "c"], [("a", "b", 10.0), ("b", "c", 10.0), ("a", "c", 10.0)])
    >>> inst = TEInstance(g, compute_paths(g, np.array([[0, 2]])), np.array([15.0]))
    >>> inst.mlu(np.array([1.0, 0.0])), inst.mlu(np.array([0.5, 0.5]))
    (1.5, 0.75)
    """

    graph: TEGraph
    paths: PathSet
    demand: np.ndarray
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    nominal: TEInstance | None = field(default=None, repr=False)
    origin: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        demand = np.asarray(self.demand, dtype=np.float64).reshape(-1)
        if demand.shape != (self.paths.n_pairs,):
            raise TEError(f"instance '{self.name}': {demand.size} demands for {self.paths.n_pairs} pairs")
        if not np.all(np.isfinite(demand)) or np.any(demand < 0):
            i = int(np.nonzero(~(np.isfinite(demand) & (demand >= 0)))[0][0])
            raise TEError(f"instance '{self.name}': demand must be ≥ 0 bit/s, got {demand[i]!r} for pair {i}")
        if self.paths.nnz and self.paths.link_ids.max() >= self.graph.n_links:
            raise TEError(f"instance '{self.name}': a path uses a link the graph does not have")
        if self.paths.n_pairs and self.paths.pairs.max() >= self.graph.n_nodes:
            raise TEError(f"instance '{self.name}': a pair names a node the graph does not have")
        demand.setflags(write=False)
        object.__setattr__(self, "demand", demand)
        if self.origin is not None:
            origin = np.asarray(self.origin, dtype=np.int64)
            if origin.shape != (self.paths.n_paths,):
                raise TEError(f"instance '{self.name}': origin needs one entry per path")
            object.__setattr__(self, "origin", origin)

    # ------------------------------------------------------------------------------------ sizes

    @property
    def n_nodes(self) -> int:
        return self.graph.n_nodes

    @property
    def n_links(self) -> int:
        return self.graph.n_links

    @property
    def n_pairs(self) -> int:
        return self.paths.n_pairs

    @property
    def n_paths(self) -> int:
        return self.paths.n_paths

    @property
    def path_demand(self) -> np.ndarray:
        """``(Q,)`` demand of each path's pair."""
        return self.demand[self.paths.path_pair]

    def with_demand(self, demand: np.ndarray, name: str | None = None, **meta: Any) -> TEInstance:
        """The same graph and paths with other demands."""
        return TEInstance(self.graph, self.paths, demand, name or self.name, {**self.meta, **meta})

    # ------------------------------------------------------------------------------------ metrics

    def loads(self, ratios: np.ndarray) -> np.ndarray:
        """``(L,)`` traffic (bit/s) on every link under split ``ratios``."""
        x = check_ratios(self, ratios)
        return self.paths.incidence(self.n_links).T @ (x * self.path_demand)

    def utilisation(self, ratios: np.ndarray) -> np.ndarray:
        """``(L,)`` load / capacity; 0 on an idle failed link, inf on a loaded one."""
        load = self.loads(ratios)
        cap = self.graph.capacity
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(cap > 0, load / np.where(cap > 0, cap, 1.0), np.where(load > 0, np.inf, 0.0))

    def mlu(self, ratios: np.ndarray) -> float:
        """Maximum link utilisation under split ``ratios``."""
        u = self.utilisation(ratios)
        return float(u.max()) if u.size else 0.0

    def __repr__(self) -> str:
        return (
            f"TEInstance(name={self.name!r}, nodes={self.n_nodes}, links={self.n_links}, "
            f"pairs={self.n_pairs}, paths={self.n_paths})"
        )


def pair_sums(paths: PathSet, values: np.ndarray) -> np.ndarray:
    """``(P,)`` sum of per-path ``values`` over each pair's paths."""
    return np.bincount(paths.path_pair, weights=values, minlength=paths.n_pairs)


def check_ratios(instance: TEInstance, ratios: np.ndarray, atol: float = 1e-6) -> np.ndarray:
    """``ratios`` as float64 after checking shape, sign and that each pair's ratios sum to 1.

    Raises
    ------
    TEError
        Naming the first bad path or pair.
    """
    x = np.asarray(ratios, dtype=np.float64).reshape(-1)
    if x.shape != (instance.n_paths,):
        raise TEError(f"split ratios need one entry per path ({instance.n_paths}), got {x.size}")
    if not np.all(np.isfinite(x)) or np.any(x < -atol):
        q = int(np.nonzero(~(np.isfinite(x) & (x >= -atol)))[0][0])
        raise TEError(f"split ratio of path {q} must be a finite number ≥ 0, got {x[q]!r}")
    sums = pair_sums(instance.paths, x)
    if np.any(np.abs(sums - 1) > max(atol, 1e-9) * 10):
        p = int(np.nonzero(np.abs(sums - 1) > atol * 10)[0][0])
        raise TEError(f"split ratios of pair {p} sum to {sums[p]:.6g}, expected 1")
    return np.clip(x, 0.0, None)
