r"""RouteNet: path and link states exchanging messages through recurrent units.

Reference: Rusek, Suárez-Varela, Almasan, Barlet-Ros, Cabellos-Aparicio, "RouteNet: Leveraging Graph Neural
Networks for network modeling and optimization in SDN", IEEE JSAC 2020, Algorithm 1.

Each of :math:`T` iterations (separate inputs, shared weights):

.. math::
    m_{p,l_j} = s_j, \quad s_j = \mathrm{GRU}_p(h_{l_j}, s_{j-1}),\ s_0 = h_p, \qquad h_p \leftarrow s_k

    h_l \leftarrow \mathrm{GRU}_l\big(\textstyle\sum_{p \ni l} m_{p,l},\, h_l\big)

and the readout :math:`\hat y = W\,[\mathrm{MLP}(h_p) \,\|\, h_p] + b` (the final layer sees the path state
directly: a residual connection). Initial states: traffic features (path), capacity, propagation delay and buffer
(link), zero-padded.

Args:
    kpis: KPI names (default delay, jitter, throughput, drops).
    path, link: state sizes (32, 32).
    T: iterations (8).
    readout: hidden width of the readout (64).
    probabilistic: heads output (mean, log σ); drops the logit of a binomial.
    qt_drops: drops corrects queueing theory's estimate (a binomial head around its logit; see TwinModel).
    path_features, link_features: raw columns used.

Shapes: ``forward(batch)`` → ``{kpi: (P,)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from torch import nn

from nettwin._validation import DEPTH, WIDTH, Check
from nettwin.sim.kpi import DEFAULT_KPIS
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import Encoding, PathRNN, TwinModel, pad_features
from nettwin.twin.models._features import HEAD_PARAMS, TRAFFIC, columns, features

__all__ = ["RouteNet"]


class RouteNet(TwinModel):
    """The RouteNet (update rules, arguments and shapes: see the module docstring)."""

    PARAMS: ClassVar[dict[str, Check]] = {
        **HEAD_PARAMS,
        "path": WIDTH,
        "link": WIDTH,
        "T": DEPTH,
        "path_features": features("path"),
        "link_features": features("link"),
    }
    """The declared range of every constructor argument (checked before a model is built)."""

    def __init__(
        self,
        kpis: Sequence[str] = DEFAULT_KPIS,
        path: int = 32,
        link: int = 32,
        T: int = 8,
        readout: int = 64,
        probabilistic: bool = False,
        path_features: Sequence[str] = TRAFFIC,
        link_features: Sequence[str] = ("capacity", "delay", "buffer"),
        qt_drops: bool = False,
    ) -> None:
        super().__init__(kpis, readout, probabilistic, residual_readout=True, qt_drops=qt_drops)
        self.path, self.link, self.T = path, link, T
        self.path_features, self.link_features = list(path_features), list(link_features)
        self._pc = columns("path", path_features, "RouteNet")
        self._lc = columns("link", link_features, "RouteNet")
        self.path_rnn = PathRNN(link, path)
        self.link_gru = nn.GRUCell(path, link)
        self.readout_dim = path
        self.build_heads()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.path_rnn.reset_parameters()
        self.link_gru.reset_parameters()
        self.heads.reset_parameters()

    def encode(self, batch: GraphBatch) -> Encoding:
        h_p = pad_features(batch.path_x[:, self._pc], self.path, "RouteNet path features")
        h_l = pad_features(batch.link_x[:, self._lc], self.link, "RouteNet link features")
        for _ in range(self.T):
            h_p, messages = self.path_rnn(h_p, h_l, batch, to_links=True)
            h_l = self.link_gru(messages, h_l)
        return Encoding(path=h_p)

    def __repr__(self) -> str:
        return f"RouteNet(path={self.path}, link={self.link}, T={self.T})"
