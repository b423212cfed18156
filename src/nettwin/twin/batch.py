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

from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, Graph, delay_parts
from nettwin.twin.normalise import Normalisation

__all__ = ["GraphBatch"]

_WEIGHT = LINK_FEATURES.index("weight")


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
        n_nodes = np.array([g.n_nodes for g in graphs], dtype=np.int64)
        n_links = np.array([g.n_links for g in graphs], dtype=np.int64)
        n_paths = np.array([g.n_paths for g in graphs], dtype=np.int64)
        node_off = np.concatenate([[0], np.cumsum(n_nodes)[:-1]]) if len(graphs) else np.zeros(0, np.int64)
        link_off = np.concatenate([[0], np.cumsum(n_links)[:-1]]) if len(graphs) else np.zeros(0, np.int64)

        def cat(arrays: list[np.ndarray], width: int = 0) -> np.ndarray:
            if arrays:
                return np.concatenate(arrays)
            return np.zeros((0, width)) if width else np.zeros(0, dtype=np.int64)

        node_raw = cat([g.node_x for g in graphs], len(NODE_FEATURES))
        link_raw = cat([g.link_x for g in graphs], len(LINK_FEATURES))
        path_raw = cat([g.path_x for g in graphs], len(PATH_FEATURES))
        link_src = cat([g.link_src + o for g, o in zip(graphs, node_off, strict=True)])
        link_dst = cat([g.link_dst + o for g, o in zip(graphs, node_off, strict=True)])
        flow_src = cat([g.flow_src + o for g, o in zip(graphs, node_off, strict=True)])
        flow_dst = cat([g.flow_dst + o for g, o in zip(graphs, node_off, strict=True)])
        path_links = cat([g.path_links + o for g, o in zip(graphs, link_off, strict=True)])
        lengths = cat([np.diff(g.path_ptr) for g in graphs])
        path_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        path_graph = np.repeat(np.arange(len(graphs)), n_paths)

        # Pack paths by decreasing length (stable, so equal lengths keep their order).
        order = np.argsort(-lengths, kind="stable")
        sorted_len = lengths[order]
        max_len = int(sorted_len[0]) if len(sorted_len) else 0
        steps = [int(np.count_nonzero(sorted_len > t)) for t in range(max_len)]
        step_path = np.concatenate([order[:n] for n in steps]) if steps else np.zeros(0, np.int64)
        step_pos = np.repeat(np.arange(max_len), steps)
        step_link = path_links[path_ptr[step_path] + step_pos] if len(step_path) else np.zeros(0, np.int64)

        # Symmetric normalisation of the weighted adjacency with self-loops.
        n = int(n_nodes.sum())
        w = link_raw[:, _WEIGHT] if len(link_raw) else np.zeros(0)
        deg = 1.0 + np.bincount(link_dst, weights=w, minlength=n)
        gcn_coef = w / np.sqrt(deg[link_src] * deg[link_dst]) if len(w) else np.zeros(0)

        n_flows = np.array([g.n_flows for g in graphs], dtype=np.int64)
        packets = cat([np.asarray(g.path_packets, dtype=float) for g in graphs], 0) if graphs else np.zeros(0)
        parts = delay_parts(path_raw)
        splits = any(g.splits for g in graphs)
        if splits:  # a path's flow, and the flows' own packets and delay parts
            flow_off = np.concatenate([[0], np.cumsum(n_flows)[:-1]])
            path_flow = cat([g.route_flow + o for g, o in zip(graphs, flow_off, strict=True)])
            path_share = cat([g.route_share for g in graphs], 0)
            packets = np.bincount(path_flow, weights=packets, minlength=int(n_flows.sum()))
            flow_parts = [g.flow_parts() for g in graphs]
            flow_tx, flow_propagation = (cat([p[k] for p in flow_parts], 0) for k in (0, 1))
        else:
            path_flow, path_share = np.arange(len(packets)), np.ones(len(packets))
            flow_tx, flow_propagation = parts
        y = None
        if targets is not None:
            y = {}
            for k in kpis:
                vals = cat([np.asarray(t[k], dtype=float) for t in targets], 0) if len(targets) else np.zeros(0)
                y[k] = torch.as_tensor(norm.kpi(k, vals, (flow_tx, flow_propagation)), dtype=dtype)
            observed = [
                np.asarray(t["tx_packets"], dtype=float) if "tx_packets" in t else np.full(g.n_flows, np.nan)
                for g, t in zip(graphs, targets, strict=True)
            ]
            tx = cat(observed, 0) if observed else np.zeros(0)
            packets = np.where(np.isfinite(tx), tx, packets)

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
            flow_src=i(flow_src),
            flow_dst=i(flow_dst),
            path_graph=i(path_graph),
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
