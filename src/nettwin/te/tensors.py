"""Instances as sparse torch tensors, and the differentiable operations every learned solver shares.

A :class:`TEBatch` stacks one or more instances as one disjoint graph: links, pairs and paths are concatenated
with offsets, and ``link_graph``/``pair_graph`` say which instance each belongs to. Paths and links meet only
through the path–link incidences, held twice: as the list ``(nnz_path, nnz_link)`` and as the 0/1 incidence
matrix in both orientations, ``path_link`` (Q × L) and ``link_path`` (L × Q), sparse CSR. Sums along the
incidences (:func:`path_sums`, :func:`link_sums`) are sparse matrix products, which never materialise one value
per incidence; everything else is a gather, an ``index_add`` or a ``scatter_reduce``. Memory grows with
links + path incidences, never with pairs × paths.

Units: demands and capacities are divided by each instance's median working capacity (``scale``), so an
instance and the same instance in other units give the same tensors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nettwin._collate import collate
from nettwin._estimator import pick_device
from nettwin.te.instance import TEInstance

__all__ = [
    "TEBatch",
    "segment_softmax",
    "link_loads",
    "link_sums",
    "equal_split",
    "graph_mlu",
    "pair_softmax",
    "path_sums",
    "utilisation",
]


@dataclass
class TEBatch:
    """One or more instances as tensors on one device (see the module docstring).

    Attributes
    ----------
    cap : ``(L,)`` capacities ÷ scale (0 = failed).
    link_graph : ``(L,)`` instance of each link.
    nnz_path, nnz_link : ``(nnz,)`` incidences.
    path_link, link_path : the ``(Q, L)`` incidence matrix and its transpose, sparse CSR float32.
    path_pair : ``(Q,)`` pair of each path, non-decreasing.
    pair_size : ``(P,)`` number of candidate paths of each pair.
    path_demand : ``(Q,)`` demand of each path's pair ÷ scale.
    path_alive : ``(Q,)`` False for a path crossing a failed link.
    pair_graph : ``(P,)`` instance of each pair.
    n_graphs, n_links, n_pairs, n_paths : sizes.
    """

    cap: torch.Tensor
    link_graph: torch.Tensor
    nnz_path: torch.Tensor
    nnz_link: torch.Tensor
    path_pair: torch.Tensor
    pair_size: torch.Tensor
    path_demand: torch.Tensor
    path_alive: torch.Tensor
    pair_graph: torch.Tensor
    path_link: torch.Tensor
    link_path: torch.Tensor
    n_graphs: int
    n_links: int
    n_pairs: int
    n_paths: int

    @classmethod
    def from_instances(cls, instances: Sequence[TEInstance], device: torch.device | None = None) -> TEBatch:
        """Stack ``instances``; float32 tensors on ``device`` (default: :func:`~nettwin._estimator.pick_device`'s)."""
        device = device or pick_device()
        stacked = collate([_sample(inst) for inst in instances], _SIZES, _INDEX, _POINTER)
        x = stacked.arrays
        n_links, n_pairs, n_paths, nnz = (int(stacked.offsets[e][-1]) for e in ("link", "pair", "path", "nnz"))

        def t(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            return torch.from_numpy(array).to(device=device, dtype=dtype)

        nnz_link = t(x["nnz_link"], torch.long)
        ones = torch.ones(nnz, device=device)
        idx = torch.int32 if max(nnz, n_paths) < 2**31 else torch.long  # int32 skips a conversion per product
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            path_link = torch.sparse_csr_tensor(
                t(x["row_ptr"], idx), nnz_link.to(idx), ones, (n_paths, n_links), check_invariants=False
            )
            link_path = torch.sparse_csr_tensor(
                t(x["col_ptr"], idx), t(x["col_path"], idx), ones, (n_links, n_paths), check_invariants=False
            )
        return cls(
            cap=t(x["cap"], torch.float32),
            link_graph=t(stacked.membership("link"), torch.long),
            nnz_path=t(x["nnz_path"], torch.long),
            nnz_link=nnz_link,
            path_pair=t(x["path_pair"], torch.long),
            pair_size=t(x["pair_size"], torch.long),
            path_demand=t(x["path_demand"], torch.float32),
            path_alive=t(x["path_alive"], torch.bool),
            pair_graph=t(stacked.membership("pair"), torch.long),
            path_link=path_link,
            link_path=link_path,
            n_graphs=len(instances),
            n_links=n_links,
            n_pairs=n_pairs,
            n_paths=n_paths,
        )

    def split_paths(self, values: torch.Tensor) -> list[np.ndarray]:
        """Per-path ``values`` cut back into one float64 array per instance."""
        counts = torch.bincount(self.pair_graph[self.path_pair], minlength=self.n_graphs).tolist()
        return [v.detach().cpu().double().numpy() for v in torch.split(values, counts)]


_SIZES = {"link": "cap", "pair": "pair_size", "path": "path_demand", "nnz": "nnz_link"}
_INDEX = {"nnz_path": "path", "nnz_link": "link", "path_pair": "pair", "col_path": "path"}
_POINTER = {"row_ptr": "nnz", "col_ptr": "nnz"}
"""How :meth:`TEBatch.from_instances` stacks the arrays of :func:`_sample`: ``row_ptr`` delimits each path's
incidences (by path), ``col_ptr`` each link's (by link), ``col_path`` the path of each incidence in link order."""


def _sample(instance: TEInstance) -> dict[str, np.ndarray]:
    """One instance's arrays in the units of :class:`TEBatch` (capacities and demands ÷ its scale)."""
    cap, paths = instance.graph.capacity, instance.paths
    working = cap[cap > 0]
    scale = float(np.median(working)) if working.size else 1.0
    dead = np.bincount(paths.path_of_nnz, weights=cap[paths.link_ids] <= 0, minlength=paths.n_paths) > 0
    by_link = paths.incidence(instance.n_links).tocsc()  # counting sort of the incidences by link
    return {
        "cap": cap / scale,
        "nnz_path": paths.path_of_nnz,
        "nnz_link": paths.link_ids,
        "path_pair": paths.path_pair,
        "pair_size": np.diff(paths.pair_ptr),
        "path_demand": instance.path_demand / scale,
        "path_alive": ~dead,
        "row_ptr": paths.ptr,
        "col_ptr": by_link.indptr,
        "col_path": by_link.indices,
    }


def segment_softmax(
    logits: torch.Tensor, segment: torch.Tensor, n_segments: int, sizes: torch.Tensor | None = None
) -> torch.Tensor:
    """Softmax of ``logits`` within each segment (the paths of a pair); ``-inf`` logits get weight 0.

    Entries must be grouped by segment (``segment`` non-decreasing, as :attr:`TEBatch.path_pair` is);
    ``sizes``, the ``(n_segments,)`` number of entries of each segment, is counted when not given. A segment
    whose logits are all ``-inf`` gets equal weights.
    """
    if sizes is None:
        sizes = torch.bincount(segment, minlength=n_segments)
    # the per-segment maximum only keeps exp from overflowing; the softmax does not depend on it, so it needs no
    # gradient
    top = torch.segment_reduce(logits.detach(), "max", lengths=sizes, unsafe=True, initial=-torch.inf)
    live = torch.isfinite(top)
    w = (logits - torch.where(live, top, 0.0).index_select(0, segment)).exp_()
    total = w.new_zeros(n_segments).index_add(0, segment, w)
    # w / total in a live segment (total ≥ 1 there); an all -inf segment has w = 0 and gets 1 / size instead
    equal = torch.where(live, 0.0, 1 / sizes.clamp_min(1).to(w.dtype))
    inv_total = 1 / torch.where(live, total, 1.0)
    return torch.addcmul(equal.index_select(0, segment), w, inv_total.index_select(0, segment))


def pair_softmax(batch: TEBatch, logits: torch.Tensor) -> torch.Tensor:
    """:func:`segment_softmax` of per-path ``logits`` over the paths of each pair: ``(Q,)`` split ratios."""
    return segment_softmax(logits, batch.path_pair, batch.n_pairs, batch.pair_size)


def equal_split(batch: TEBatch) -> torch.Tensor:
    """``(Q,)`` ratios splitting every pair equally over its working paths (over all of them if none works)."""
    zero = torch.zeros(batch.n_paths, device=batch.path_demand.device)
    return pair_softmax(batch, torch.where(batch.path_alive, zero, -torch.inf))


class _IncidenceProduct(torch.autograd.Function):
    """``a @ dense`` for a constant sparse ``a``; the backward pass multiplies by ``a_t``, its transpose kept as CSR.

    Sparse CSR products differentiate with respect to the dense operand, but through a transposed CSR view, a
    much slower kernel; with the explicit transpose both passes are row-by-row sparse products.
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor, a_t: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        ctx.a_t = a_t
        return _spmm(a, dense)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, None, torch.Tensor]:
        return None, None, _spmm(ctx.a_t, grad)


def _spmm(a: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    return torch.mv(a, dense) if dense.dim() == 1 else torch.mm(a, dense)


def path_sums(batch: TEBatch, link_values: torch.Tensor) -> torch.Tensor:
    """``(Q,)`` or ``(Q, k)``: for every path, the sum of ``link_values`` (``(L,)`` or ``(L, k)``) over its links."""
    return _IncidenceProduct.apply(batch.path_link, batch.link_path, link_values)


def link_sums(batch: TEBatch, path_values: torch.Tensor) -> torch.Tensor:
    """``(L,)`` or ``(L, k)``: for every link, the sum of ``path_values`` (``(Q,)`` or ``(Q, k)``) over the paths
    crossing it."""
    return _IncidenceProduct.apply(batch.link_path, batch.path_link, path_values)


def link_loads(batch: TEBatch, ratios: torch.Tensor) -> torch.Tensor:
    """``(L,)`` load of every link (scaled units) under per-path ``ratios``."""
    return link_sums(batch, ratios * batch.path_demand)


def utilisation(batch: TEBatch, loads: torch.Tensor) -> torch.Tensor:
    """Load ÷ capacity; failed links count 0 (solvers never route on them)."""
    safe = torch.where(batch.cap > 0, batch.cap, torch.ones_like(batch.cap))
    return torch.where(batch.cap > 0, loads / safe, torch.zeros_like(loads))


def graph_mlu(batch: TEBatch, util: torch.Tensor) -> torch.Tensor:
    """``(n_graphs,)`` maximum utilisation of each instance."""
    out = util.new_zeros(batch.n_graphs)
    return out.scatter_reduce(0, batch.link_graph, util, reduce="amax", include_self=True)
