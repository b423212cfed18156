r"""GLANCE: a graph-based learnable digital twin with path, link and node embeddings.

Reference: the GLANCE paper (graph-based learnable digital twin for communication networks), Algorithm 1; here
without its three-link cap on paths.

Each of :math:`T` layers, with the same weights in every layer, updates paths, then links, then nodes. For path
:math:`p = (l_1, \dots, l_k)`, link :math:`l` from node :math:`s(l)`:

.. math::
    m_{p,l_j} = s_j, \quad s_j = \mathrm{GRU}\big([h_{l_j} \,\|\, h_{s(l_j)}],\, s_{j-1}\big),\ s_0 = h_p,
    \qquad h_p \leftarrow s_k

    h_l \leftarrow \mathrm{MLP}\big([h_l \,\|\, h_{s(l)} \,\|\, \textstyle\sum_{p \ni l} m_{p,l}]\big)

    h_n \leftarrow \sigma\big(\hat D^{-1/2} \hat A \hat D^{-1/2}\,
        [h_n \,\|\, \textstyle\sum_{l: s(l) = n} h_l]\, W\big)

with :math:`\hat A = A + I` the (weighted) adjacency with self-loops. One readout MLP per KPI maps the final
:math:`h_p` to the flow's KPI. Initial states are the features zero-padded to the embedding sizes: path — the
traffic parameters; link — capacity and (wireless) weight, plus propagation delay and buffer; node — degree.

Args:
    kpis: KPI names, one head each (default delay, jitter, throughput, drops).
    path, link, node: embedding sizes (32, 16, 16).
    T: message-passing layers (3), weights shared across them.
    readout: hidden width of each KPI's readout MLP (64).
    probabilistic: heads output (mean, log σ) for a Normal likelihood; drops the logit of a binomial.
    qt_drops: drops corrects queueing theory's estimate (a binomial head around its logit; see TwinModel).
    path_features, link_features, node_features: raw columns used (see :mod:`nettwin.twin.graph`).
    node_updates: update the node states each layer (default). False keeps them at their initial features — the
        ablation that shows what the node embeddings contribute (on a wireless grid, where every node hears every
        other, they carry GLANCE's whole advantage over RouteNet).

Shapes: ``forward(batch)`` → ``{kpi: (P,)}`` (or (P, 2) when probabilistic), P the batch's paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch

from nettwin._validation import DEPTH, WIDTH, Check, Flag
from nettwin.sim.kpi import DEFAULT_KPIS
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import (
    MLP,
    Encoding,
    GraphConv,
    PathRNN,
    TwinModel,
    links_to_nodes,
    pad_features,
)
from nettwin.twin.models._features import HEAD_PARAMS, TRAFFIC, columns, features

__all__ = ["GLANCE"]


class GLANCE(TwinModel):
    """The GLANCE (update rules, arguments and shapes: see the module docstring)."""

    PARAMS: ClassVar[dict[str, Check]] = {
        **HEAD_PARAMS,
        "path": WIDTH,
        "link": WIDTH,
        "node": WIDTH,
        "T": DEPTH,
        "path_features": features("path"),
        "link_features": features("link"),
        "node_features": features("node"),
        "node_updates": Flag(),
    }
    """The declared range of every constructor argument (checked before a model is built)."""

    def __init__(
        self,
        kpis: Sequence[str] = DEFAULT_KPIS,
        path: int = 32,
        link: int = 16,
        node: int = 16,
        T: int = 3,
        readout: int = 64,
        probabilistic: bool = False,
        path_features: Sequence[str] = TRAFFIC,
        link_features: Sequence[str] = ("capacity", "weight", "delay", "buffer"),
        node_features: Sequence[str] = ("out_degree", "in_degree"),
        node_updates: bool = True,
        qt_drops: bool = False,
    ) -> None:
        super().__init__(kpis, readout, probabilistic, qt_drops=qt_drops)
        self.path, self.link, self.node, self.T = path, link, node, T
        self.node_updates = node_updates
        self.path_features, self.link_features, self.node_features = (
            list(path_features),
            list(link_features),
            list(node_features),
        )
        self._pc = columns("path", path_features, "GLANCE")
        self._lc = columns("link", link_features, "GLANCE")
        self._nc = columns("node", node_features, "GLANCE")
        self.path_rnn = PathRNN(link + node, path)
        self.link_mlp = MLP(link + node + path, 2 * link, link, layers=2, final_act=True)
        self.node_conv = GraphConv(node + link, node)
        self.readout_dim = path
        self.build_heads()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.path_rnn.reset_parameters()
        self.link_mlp.reset_parameters()
        self.node_conv.reset_parameters()
        self.heads.reset_parameters()

    def encode(self, batch: GraphBatch) -> Encoding:
        h_p = pad_features(batch.path_x[:, self._pc], self.path, "GLANCE path features")
        h_l = pad_features(batch.link_x[:, self._lc], self.link, "GLANCE link features")
        h_n = pad_features(batch.node_x[:, self._nc], self.node, "GLANCE node features")
        for _ in range(self.T):
            link_node = torch.cat([h_l, h_n.index_select(0, batch.link_src)], dim=1)
            h_p, messages = self.path_rnn(h_p, link_node, batch, to_links=True)
            h_l = self.link_mlp(torch.cat([link_node, messages], dim=1))
            if self.node_updates:
                h_n = self.node_conv(torch.cat([h_n, links_to_nodes(h_l, batch, "src")], dim=1), batch)
        return Encoding(path=h_p)

    def __repr__(self) -> str:
        ablated = "" if self.node_updates else ", node_updates=False"
        return f"GLANCE(path={self.path}, link={self.link}, node={self.node}, T={self.T}{ablated})"
