r"""GNN baseline: a graph convolutional network on node features aggregated from the flows.

Reference: the node-level baseline of the GLANCE paper (its eq. 6 builds node features from per-flow traffic) and
Kipf & Welling's GCN. Each node :math:`v` gets

.. math::  x_v = \big[\textstyle\sum_{f: s(f) = v} x_f \,\|\, \sum_{f: d(f) = v} x_f \,\|\, x^{\mathrm{node}}_v
           \,\|\, \sum_{l: s(l) = v} x_l\big]

(traffic leaving and entering it, its degree, and the capacity of its outgoing links — without it the model could
not tell a loaded network from an idle one when capacities vary); :math:`L` GCN layers
:math:`H \leftarrow \mathrm{ReLU}(\hat D^{-1/2} \hat A \hat D^{-1/2} H W)` follow, and each flow's KPI is read from
:math:`[h_{s(f)} \,\|\, h_{d(f)} \,\|\, x_f]`. It sees no paths: the reference point for what path-aware twins add.

Args:
    kpis: KPI names (default delay, jitter, throughput, drops).
    hidden: GCN channels (96).
    layers: GCN layers (3).
    readout: hidden width of the readouts (64).
    probabilistic: heads output (mean, log σ); drops the logit of a binomial.
    qt_drops: drops corrects queueing theory's estimate (a binomial head around its logit; see TwinModel).

Shapes: ``forward(batch)`` → ``{kpi: (P,)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import nn

from nettwin._validation import DEPTH, WIDTH, Check
from nettwin.sim.kpi import DEFAULT_KPIS
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import Encoding, GraphConv, TwinModel, links_to_nodes, scatter_sum
from nettwin.twin.models._features import HEAD_PARAMS, TRAFFIC, columns, features

__all__ = ["GNN"]


class GNN(TwinModel):
    """The GCN baseline (update rules, arguments and shapes: see the module docstring)."""

    PARAMS: ClassVar[dict[str, Check]] = {
        **HEAD_PARAMS,
        "hidden": WIDTH,
        "layers": DEPTH,
        "path_features": features("path"),
        "node_features": features("node"),
        "link_features": features("link"),
    }
    """The declared range of every constructor argument (checked before a model is built)."""

    def __init__(
        self,
        kpis: Sequence[str] = DEFAULT_KPIS,
        hidden: int = 96,
        layers: int = 3,
        readout: int = 64,
        probabilistic: bool = False,
        path_features: Sequence[str] = TRAFFIC,
        node_features: Sequence[str] = ("out_degree", "in_degree"),
        link_features: Sequence[str] = ("capacity",),
        qt_drops: bool = False,
    ) -> None:
        super().__init__(kpis, readout, probabilistic, qt_drops=qt_drops)
        self.hidden, self.layers = hidden, layers
        self.path_features, self.node_features = list(path_features), list(node_features)
        self.link_features = list(link_features)
        self._pc = columns("path", path_features, "GNN")
        self._nc = columns("node", node_features, "GNN")
        self._lc = columns("link", link_features, "GNN")
        in_dim = 2 * len(self._pc) + len(self._nc) + len(self._lc)
        self.convs = nn.ModuleList(GraphConv(in_dim if i == 0 else hidden, hidden) for i in range(layers))
        self.readout_dim = 2 * hidden + len(self._pc)
        self.build_heads()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.heads.reset_parameters()

    def encode(self, batch: GraphBatch) -> Encoding:
        x_f = batch.path_x[:, self._pc]
        h = torch.cat(
            [
                scatter_sum(x_f, batch.flow_src, batch.n_nodes),
                scatter_sum(x_f, batch.flow_dst, batch.n_nodes),
                batch.node_x[:, self._nc],
                links_to_nodes(batch.link_x[:, self._lc], batch, "src"),
            ],
            dim=1,
        )
        for conv in self.convs:
            h = conv(h, batch)
        return Encoding(path=torch.cat([h[batch.flow_src], h[batch.flow_dst], x_f], dim=1))

    def __repr__(self) -> str:
        return f"GNN(hidden={self.hidden}, layers={self.layers})"
