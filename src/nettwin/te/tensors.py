"""Instances as sparse torch tensors, and the differentiable operations every learned solver shares.

A :class:`TEBatch` stacks one or more instances as one disjoint graph: edges, pairs and paths are concatenated
with offsets, and ``edge_graph``/``pair_graph`` say which instance each belongs to. Paths and edges meet only
through the ``nnz`` incidence list ``(nnz_path, nnz_edge)``; every operation is a gather, an ``index_add`` or a
``scatter_reduce`` over it, so memory grows with edges + path incidences, never with pairs × paths.

Units: demands and capacities are divided by each instance's median working capacity (``scale``), so an
instance and the same instance in other units give the same tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nettwin.te.instance import TEInstance

__all__ = [
    "TEBatch",
    "default_device",
    "segment_softmax",
    "edge_loads",
    "graph_mlu",
    "utilisation",
]


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class TEBatch:
    """One or more instances as tensors on one device (see the module docstring).

    Attributes
    ----------
    cap : ``(E,)`` capacities ÷ scale (0 = failed).
    edge_graph : ``(E,)`` instance of each edge.
    nnz_path, nnz_edge : ``(nnz,)`` incidences.
    path_pair : ``(Q,)`` pair of each path.
    path_demand : ``(Q,)`` demand of each path's pair ÷ scale.
    path_alive : ``(Q,)`` False for a path crossing a failed edge.
    pair_graph : ``(P,)`` instance of each pair.
    n_graphs, n_edges, n_pairs, n_paths : sizes.
    """

    cap: torch.Tensor
    edge_graph: torch.Tensor
    nnz_path: torch.Tensor
    nnz_edge: torch.Tensor
    path_pair: torch.Tensor
    path_demand: torch.Tensor
    path_alive: torch.Tensor
    pair_graph: torch.Tensor
    n_graphs: int
    n_edges: int
    n_pairs: int
    n_paths: int

    @classmethod
    def from_instances(cls, instances: Sequence[TEInstance], device: torch.device | None = None) -> TEBatch:
        """Stack ``instances``; float32 tensors on ``device`` (default: :func:`default_device`)."""
        device = device or default_device()
        caps, eg, np_, ne, pp, pd, pa, pg = [], [], [], [], [], [], [], []
        e_off = p_off = q_off = 0
        for g, inst in enumerate(instances):
            cap = inst.graph.capacity
            working = cap[cap > 0]
            scale = float(np.median(working)) if working.size else 1.0
            paths = inst.paths
            caps.append(cap / scale)
            eg.append(np.full(inst.n_edges, g))
            np_.append(paths.path_of_nnz + q_off)
            ne.append(paths.edge_ids + e_off)
            pp.append(paths.path_pair + p_off)
            pd.append(inst.path_demand / scale)
            dead = np.bincount(paths.path_of_nnz, weights=cap[paths.edge_ids] <= 0, minlength=paths.n_paths) > 0
            pa.append(~dead)
            pg.append(np.full(inst.n_pairs, g))
            e_off += inst.n_edges
            p_off += inst.n_pairs
            q_off += inst.n_paths

        def t(parts: list[np.ndarray], dtype: torch.dtype) -> torch.Tensor:
            return torch.from_numpy(np.concatenate(parts)).to(device=device, dtype=dtype)

        return cls(
            cap=t(caps, torch.float32),
            edge_graph=t(eg, torch.long),
            nnz_path=t(np_, torch.long),
            nnz_edge=t(ne, torch.long),
            path_pair=t(pp, torch.long),
            path_demand=t(pd, torch.float32),
            path_alive=t(pa, torch.bool),
            pair_graph=t(pg, torch.long),
            n_graphs=len(instances),
            n_edges=e_off,
            n_pairs=p_off,
            n_paths=q_off,
        )

    def split_paths(self, values: torch.Tensor) -> list[np.ndarray]:
        """Per-path ``values`` cut back into one float64 array per instance."""
        counts = torch.bincount(self.pair_graph[self.path_pair], minlength=self.n_graphs).tolist()
        return [v.detach().cpu().double().numpy() for v in torch.split(values, counts)]


def segment_softmax(logits: torch.Tensor, segment: torch.Tensor, n_segments: int) -> torch.Tensor:
    """Softmax of ``logits`` within each segment (the paths of a pair); ``-inf`` logits get weight 0.

    A segment whose logits are all ``-inf`` gets equal weights.
    """
    top = torch.full((n_segments,), -torch.inf, dtype=logits.dtype, device=logits.device)
    top = top.scatter_reduce(0, segment, logits, reduce="amax", include_self=True)
    all_dead = ~torch.isfinite(top)
    top = torch.where(all_dead, torch.zeros_like(top), top)
    w = torch.exp(logits - top[segment])
    w = torch.where(all_dead[segment], torch.ones_like(w), w)
    total = w.new_zeros(n_segments).index_add(0, segment, w)
    return w / total[segment]


def edge_loads(batch: TEBatch, ratios: torch.Tensor) -> torch.Tensor:
    """``(E,)`` load of every edge (scaled units) under per-path ``ratios``."""
    flow = (ratios * batch.path_demand)[batch.nnz_path]
    return flow.new_zeros(batch.n_edges).index_add(0, batch.nnz_edge, flow)


def utilisation(batch: TEBatch, loads: torch.Tensor) -> torch.Tensor:
    """Load ÷ capacity; failed edges count 0 (solvers never route on them)."""
    safe = torch.where(batch.cap > 0, batch.cap, torch.ones_like(batch.cap))
    return torch.where(batch.cap > 0, loads / safe, torch.zeros_like(loads))


def graph_mlu(batch: TEBatch, util: torch.Tensor) -> torch.Tensor:
    """``(n_graphs,)`` maximum utilisation of each instance."""
    out = util.new_zeros(batch.n_graphs)
    return out.scatter_reduce(0, batch.edge_graph, util, reduce="amax", include_self=True)
