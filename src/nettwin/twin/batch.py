"""GraphBatch: several networks stacked into one disconnected graph of tensors, with paths packed for RNNs.

Paths have any length. For the recurrent path updates, paths are sorted by decreasing length once, at collation;
step ``t`` of the recurrence then touches the first ``step_sizes[t]`` sorted paths, whose ``t``-th links are listed
contiguously in ``step_link``. A recurrence therefore loops over the longest path's length, never over paths, and
every per-hop quantity lives in one (E,) "step-major" layout shared by all models:

- ``step_link[e]``: the link of hop ``e``; ``step_path[e]``: its path (original order); ``step_pos[e]``: its index
  within the path (0 = first link).
- ``order`` (P,): original path index of each sorted position; ``inv_order`` its inverse.

A flow split over several paths is one path per path (:func:`~nettwin.twin.graph.graph_from_network`); models
predict per path, and ``path_flow`` and ``path_share`` take the predictions to the flows, whose targets ``y`` are
(:mod:`nettwin.twin.flows`).

Graph convolutions read precomputed symmetric-normalised coefficients of the weighted topology with self-loops
(``gcn_coef`` per link, ``self_coef`` per node): :math:`\\hat A = A + I`, :math:`\\hat D_{vv} = \\sum_u \\hat A_{uv}`,
coefficient of link :math:`u \\to v` is :math:`w_{uv} / \\sqrt{\\hat D_{uu} \\hat D_{vv}}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from nettwin._collate import collate
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, Graph, delay_parts
from nettwin.twin.normalise import Normalisation

__all__ = ["GraphBatch"]

_WEIGHT = LINK_FEATURES.index("weight")

_SIZES = {"node": "node_x", "link": "link_x", "path": "path_x", "hop": "path_links"}
"""How many of each entity a graph has (flows are counted apart: without split flows no array has one row each)."""
_INDEX = {
    "link_src": "node",
    "link_dst": "node",
    "flow_src": "node",
    "flow_dst": "node",
    "path_links": "link",
    "path_flow": "flow",
}
_POINTER = {"path_ptr": "hop"}


@dataclass(frozen=True, eq=False)
class GraphBatch:
    """Tensors of a batch of ``n_graphs`` networks (N nodes, L links, P paths, F flows, E hops in total; P = F
    without split flows).

    Built by :meth:`collate`. Normalised features: ``node_x`` (N, Fn), ``link_x`` (L, Fl), ``path_x`` (P, Fp); raw
    ones ``link_raw``, ``path_raw`` (SI units, see :mod:`nettwin.twin.graph`). Indices are global (offset per graph).
    ``y`` maps each KPI to its (F,) normalised target (NaN where unknown) when targets were given.
    ``flow_packets`` (F,): the packets :math:`n` each flow sends over the measured window (the binomial drops head's
    trial count) — the targets' observed ``tx_packets`` where they carry it, else the expected count of the graph;
    ``packets`` (P,) each path's share of them. ``tx_time``, ``propagation`` (P,): each path's transmission times and
    propagation (s), what relative KPIs are relative to; ``flow_tx_time``, ``flow_propagation`` (F,) the flows'
    (:meth:`~nettwin.twin.graph.Graph.flow_parts`). ``path_flow`` (P,) the flow of each path (global index),
    ``path_share`` (P,) its share of the flow's packets.
    """

    n_graphs: int
    node_counts: tuple[int, ...]
    link_counts: tuple[int, ...]
    path_counts: tuple[int, ...]
    node_x: torch.Tensor
    link_x: torch.Tensor
    path_x: torch.Tensor
    link_raw: torch.Tensor
    path_raw: torch.Tensor
    link_src: torch.Tensor
    link_dst: torch.Tensor
    flow_src: torch.Tensor
    flow_dst: torch.Tensor
    path_graph: torch.Tensor
    path_ptr: torch.Tensor
    path_links: torch.Tensor
    order: torch.Tensor
    inv_order: torch.Tensor
    step_sizes: tuple[int, ...]
    step_link: torch.Tensor
    step_path: torch.Tensor
    step_pos: torch.Tensor
    gcn_coef: torch.Tensor
    self_coef: torch.Tensor
    packets: torch.Tensor
    tx_time: torch.Tensor
    propagation: torch.Tensor
    flow_counts: tuple[int, ...]
    path_flow: torch.Tensor
    path_share: torch.Tensor
    flow_packets: torch.Tensor
    flow_tx_time: torch.Tensor
    flow_propagation: torch.Tensor
    y: dict[str, torch.Tensor] | None = None

    @property
    def n_nodes(self) -> int:
        return int(self.node_x.shape[0])

    @property
    def n_links(self) -> int:
        return int(self.link_x.shape[0])

    @property
    def n_paths(self) -> int:
        return int(self.path_x.shape[0])

    @property
    def n_flows(self) -> int:
        return int(self.flow_packets.shape[0])

    @property
    def splits(self) -> bool:
        """Whether some flow splits over several paths (then P > F)."""
        return self.n_flows != self.n_paths

    @property
    def n_hops(self) -> int:
        return int(self.step_link.shape[0])

    @property
    def device(self) -> torch.device:
        return self.path_x.device

    def __repr__(self) -> str:
        return (
            f"GraphBatch(graphs={self.n_graphs}, nodes={self.n_nodes}, links={self.n_links}, paths={self.n_paths}, "
            f"hops={self.n_hops}, max_len={len(self.step_sizes)})"
        )

    def to(self, device: torch.device | str) -> GraphBatch:
        """The same batch on another device."""
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        y = {k: v.to(device) for k, v in self.y.items()} if self.y is not None else None
        return replace(self, **moved, y=y)

    def split_paths(self, values: torch.Tensor) -> list[torch.Tensor]:
        """Split a (P, ...) per-path tensor into one tensor per graph."""
        return list(torch.split(values, list(self.path_counts)))

    def split_flows(self, values: torch.Tensor) -> list[torch.Tensor]:
        """Split a (F, ...) per-flow tensor into one tensor per graph."""
        return list(torch.split(values, list(self.flow_counts)))

    @classmethod
    def collate(
        cls,
        graphs: Sequence[Graph],
        norm: Normalisation,
        targets: Sequence[Mapping[str, np.ndarray]] | None = None,
        kpis: Sequence[str] = (),
        dtype: torch.dtype = torch.float32,
    ) -> GraphBatch:
        """Stack graphs (and optionally their per-flow KPI targets) into one batch.

        Examples
        --------
        >>> from nettwin.scenario import parse_scenario, build_network
        >>> from nettwin.twin.graph import graph_from_network
        >>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b", "c"],
        ...     "links": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "c"}]},
        ...     "flows": [{"src": "a", "dst": "c", "traffic": {"model": "cbr", "rate": "1Mbps"}},
        ...               {"src": "b", "dst": "c", "traffic": {"model": "cbr", "rate": "1Mbps"}}]}))
        >>> g = graph_from_network(net)
        >>> GraphBatch.collate([g, g], Normalisation.fit([g], [{}], kpis=()))
        GraphBatch(graphs=2, nodes=6, links=8, paths=4, hops=6, max_len=2)
        """
        splits = any(g.splits for g in graphs)
        samples = [_sample(g, t, kpis, splits) for g, t in zip(graphs, targets or [None] * len(graphs), strict=True)]
        sizes = _SIZES | {"flow": [g.n_flows for g in graphs]}
        stacked = collate(samples, sizes, _INDEX, _POINTER, None if graphs else _empty(kpis))
        x = stacked.arrays
        n_nodes, n_links, n_paths, n_flows = (stacked.counts(e) for e in ("node", "link", "path", "flow"))
        node_raw, link_raw, path_raw = x["node_x"], x["link_x"], x["path_x"]
        link_src, link_dst, path_ptr, path_links = x["link_src"], x["link_dst"], x["path_ptr"], x["path_links"]
        lengths = np.diff(path_ptr)

        # Pack paths by decreasing length (stable, so equal lengths keep their order).
        order = np.argsort(-lengths, kind="stable")
        sorted_len = lengths[order]
        max_len = int(sorted_len[0]) if len(sorted_len) else 0
        steps = [int(np.count_nonzero(sorted_len > t)) for t in range(max_len)]
        step_path = np.concatenate([order[:n] for n in steps]) if steps else np.zeros(0, np.int64)
        step_pos = np.repeat(np.arange(max_len), steps)
        step_link = path_links[path_ptr[step_path] + step_pos] if len(step_path) else np.zeros(0, np.int64)

        # Symmetric normalisation of the weighted adjacency with self-loops.
        n = int(stacked.offsets["node"][-1])
        w = link_raw[:, _WEIGHT] if len(link_raw) else np.zeros(0)
        deg = 1.0 + np.bincount(link_dst, weights=w, minlength=n)
        gcn_coef = w / np.sqrt(deg[link_src] * deg[link_dst]) if len(w) else np.zeros(0)

        packets = x["path_packets"]
        parts = delay_parts(path_raw)
        if splits:  # a path's flow, and the flows' own packets and delay parts
            path_flow, path_share = x["path_flow"], x["path_share"]
            packets = np.bincount(path_flow, weights=packets, minlength=int(stacked.offsets["flow"][-1]))
            flow_tx, flow_propagation = x["flow_tx_time"], x["flow_propagation"]
        else:
            path_flow, path_share = np.arange(len(packets)), np.ones(len(packets))
            flow_tx, flow_propagation = parts
        y = None
        if targets is not None:
            y = {k: torch.as_tensor(norm.kpi(k, x[k], (flow_tx, flow_propagation)), dtype=dtype) for k in kpis}
            packets = np.where(np.isfinite(x["tx_packets"]), x["tx_packets"], packets)

        def f(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype)

        def i(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.int64))

        flow_packets, tx_time, propagation = f(packets), f(parts[0]), f(parts[1])
        return cls(
            n_graphs=len(graphs),
            node_counts=tuple(int(c) for c in n_nodes),
            link_counts=tuple(int(c) for c in n_links),
            path_counts=tuple(int(c) for c in n_paths),
            node_x=f(norm.features("node", node_raw)),
            link_x=f(norm.features("link", link_raw)),
            path_x=f(norm.features("path", path_raw)),
            link_raw=f(link_raw),
            path_raw=f(path_raw),
            link_src=i(link_src),
            link_dst=i(link_dst),
            flow_src=i(x["flow_src"]),
            flow_dst=i(x["flow_dst"]),
            path_graph=i(stacked.membership("path")),
            path_ptr=i(path_ptr),
            path_links=i(path_links),
            order=i(order),
            inv_order=i(np.argsort(order, kind="stable")),
            step_sizes=tuple(steps),
            step_link=i(step_link),
            step_path=i(step_path),
            step_pos=i(step_pos),
            gcn_coef=f(gcn_coef),
            self_coef=f(1.0 / deg),
            packets=f(path_share * packets[path_flow]) if splits else flow_packets,
            tx_time=tx_time,
            propagation=propagation,
            flow_counts=tuple(int(c) for c in n_flows),
            path_flow=i(path_flow),
            path_share=f(path_share),
            flow_packets=flow_packets,
            flow_tx_time=f(flow_tx) if splits else tx_time,
            flow_propagation=f(flow_propagation) if splits else propagation,
            y=y,
        )


def _sample(g: Graph, targets: Mapping[str, np.ndarray] | None, kpis: Sequence[str], splits: bool) -> dict:
    """The arrays :meth:`GraphBatch.collate` stacks of one graph and its targets (KPIs under their names)."""
    out = {
        "node_x": g.node_x,
        "link_x": g.link_x,
        "path_x": g.path_x,
        "link_src": g.link_src,
        "link_dst": g.link_dst,
        "flow_src": g.flow_src,
        "flow_dst": g.flow_dst,
        "path_ptr": g.path_ptr,
        "path_links": g.path_links,
        "path_packets": np.asarray(g.path_packets, dtype=float),
    }
    if splits:  # else every path is its own flow, and the batch needs no map
        out["path_flow"], out["path_share"] = g.route_flow, g.route_share
        out["flow_tx_time"], out["flow_propagation"] = g.flow_parts()
    if targets is not None:
        out |= {k: np.asarray(targets[k], dtype=float) for k in kpis}
        observed = "tx_packets" in targets
        out["tx_packets"] = np.asarray(targets["tx_packets"], dtype=float) if observed else np.full(g.n_flows, np.nan)
    return out


def _empty(kpis: Sequence[str]) -> dict[str, np.ndarray]:
    """The arrays of :func:`_sample`, none long: what a batch of no graphs holds."""
    none = np.zeros(0, np.int64)
    return {
        "node_x": np.zeros((0, len(NODE_FEATURES))),
        "link_x": np.zeros((0, len(LINK_FEATURES))),
        "path_x": np.zeros((0, len(PATH_FEATURES))),
        **dict.fromkeys(("link_src", "link_dst", "flow_src", "flow_dst", "path_ptr", "path_links"), none),
        **dict.fromkeys(("path_packets", "tx_packets", *kpis), np.zeros(0)),
    }
