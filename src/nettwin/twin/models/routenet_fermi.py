r"""A RouteNet-Fermi-style twin: path, link and queue states; delay read out per hop and summed along the path.

Reference: Ferriol-Galmés, Paillisse, Suárez-Varela, Rusek, Xiao, Shi, Cheng, Barlet-Ros, Cabellos-Aparicio,
"RouteNet-Fermi: Network Modeling with Graph Neural Networks", IEEE/ACM ToN 2023. Each link here has one FIFO
queue, so the queue↔link exchange is a single recurrent step.

Initial states are embeddings of the features: path :math:`h_p = \mathrm{MLP}(x_p)` (traffic), link
:math:`h_l = \mathrm{MLP}(x_l)` (capacity, offered load over capacity, propagation delay), queue
:math:`h_q = \mathrm{MLP}(x_q)` (buffer size). Each of :math:`T` iterations:

.. math::
    m_{p,j} = s_j, \quad s_j = \mathrm{GRU}_p([h_{q(l_j)} \,\|\, h_{l_j}], s_{j-1}),\ s_0 = h_p,
    \qquad h_p \leftarrow s_k

    h_q \leftarrow \mathrm{GRU}_q\big(\textstyle\sum_{(p,j): l_j = l} m_{p,j},\, h_q\big), \qquad
    h_l \leftarrow \mathrm{GRU}_l(h_q, h_l)

Readout: for the *additive* KPIs (default: delay) each hop contributes a non-negative share,
:math:`\hat y_p = \sum_j \mathrm{softplus}(R(m_{p,j})) + b`, so the delay of a path is a sum over its links; the
other KPIs are read from the final :math:`h_p`. With probabilistic heads the hop variances add up.

``hop_readout="share"`` instead weighs each hop by its share :math:`w_j` of the flow's transmission times (its
transmission time there :math:`8 s_p / C_{l_j}` over their sum along the path: :math:`\sum_j w_j = 1`),
:math:`\hat y_p = \sum_j w_j R(m_{p,j}) + b`: the readout for delays learnt relative to transmission times
(``Twin(relative_delay=True)``), whose log ratio is a mean over hops, not a sum, so that it does not grow with the
path's length.

Args:
    kpis: KPI names (default delay, jitter, throughput, drops).
    path, link, queue: state sizes (32, 32, 32).
    T: iterations (8).
    readout: hidden width of the readouts (64).
    additive: KPIs read hop by hop and summed (``("delay",)``).
    hop_readout: ``sum`` (default) or ``share`` (see above).
    probabilistic: heads output (mean, log σ); drops a binomial logit (not additive).
    qt_drops: drops corrects queueing theory's estimate (a binomial head around its logit; see TwinModel).

Shapes: ``forward(batch)`` → ``{kpi: (P,)}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nettwin._validation import DEPTH, WIDTH, Check, OneOf
from nettwin.errors import TwinError
from nettwin.sim.kpi import DEFAULT_KPIS, FLOW_KPIS
from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import MLP, Encoding, KPIHeads, PathRNN, TwinModel, hops_to_links, hops_to_paths
from nettwin.twin.graph import LINK_FEATURES, PATH_FEATURES
from nettwin.twin.models._features import HEAD_PARAMS, TRAFFIC, columns, features

__all__ = ["RouteNetFermi"]

_PACKET_SIZE = PATH_FEATURES.index("packet_size")
_CAPACITY = LINK_FEATURES.index("capacity")


class RouteNetFermi(TwinModel):
    """The RouteNet-Fermi-style twin (update rules, arguments and shapes: see the module docstring)."""

    PARAMS: ClassVar[dict[str, Check]] = {
        **HEAD_PARAMS,
        "path": WIDTH,
        "link": WIDTH,
        "queue": WIDTH,
        "T": DEPTH,
        "additive": OneOf(tuple(FLOW_KPIS), many=True, empty_ok=True),
        "hop_readout": OneOf(("sum", "share")),
        "path_features": features("path"),
        "link_features": features("link"),
        "queue_features": features("link"),
    }
    """The declared range of every constructor argument (checked before a model is built)."""

    def __init__(
        self,
        kpis: Sequence[str] = DEFAULT_KPIS,
        path: int = 32,
        link: int = 32,
        queue: int = 32,
        T: int = 8,
        readout: int = 64,
        additive: Sequence[str] = ("delay",),
        probabilistic: bool = False,
        path_features: Sequence[str] = TRAFFIC,
        link_features: Sequence[str] = ("capacity", "load", "delay"),
        queue_features: Sequence[str] = ("buffer",),
        hop_readout: str = "sum",
        qt_drops: bool = False,
    ) -> None:
        super().__init__(kpis, readout, probabilistic, qt_drops=qt_drops)
        self.path, self.link, self.queue, self.T = path, link, queue, T
        self.additive = list(additive)
        self.hop_readout = hop_readout
        self.path_features, self.link_features, self.queue_features = (
            list(path_features),
            list(link_features),
            list(queue_features),
        )
        self._pc = columns("path", path_features, "RouteNetFermi")
        self._lc = columns("link", link_features, "RouteNetFermi")
        self._qc = columns("link", queue_features, "RouteNetFermi")
        self.path_embed = MLP(len(self._pc), path, path, layers=2, final_act=True)
        self.link_embed = MLP(len(self._lc), link, link, layers=2, final_act=True)
        self.queue_embed = MLP(len(self._qc), queue, queue, layers=2, final_act=True)
        self.path_rnn = PathRNN(queue + link, path)
        self.queue_gru = nn.GRUCell(path, queue)
        self.link_gru = nn.GRUCell(queue, link)
        self.readout_dim = path
        self.build_heads()
        self.reset_parameters()

    def path_kpis(self) -> list[str]:
        return [k for k in self.kpis if k not in self.additive]

    def build_heads(self, kpis: Sequence[str] | None = None) -> None:
        super().build_heads(kpis)
        hop_kpis = [k for k in self.kpis if k in self.additive]
        counts = [k for k in hop_kpis if self.head(k) == "binomial"]
        if counts:
            raise TwinError(
                f"RouteNetFermi: KPI '{counts[0]}' has a binomial head and cannot be summed hop by hop; "
                f"remove it from additive={self.additive}"
            )
        self.hop_heads = KPIHeads(hop_kpis, self.path, self.readout, 2 if self.probabilistic else 1)
        self.hop_bias = nn.ParameterDict({k: nn.Parameter(torch.zeros(1)) for k in hop_kpis})

    def reset_parameters(self) -> None:
        for m in (
            self.path_embed,
            self.link_embed,
            self.queue_embed,
            self.path_rnn,
            self.queue_gru,
            self.link_gru,
            self.heads,
            self.hop_heads,
        ):
            m.reset_parameters()

    def encode(self, batch: GraphBatch) -> Encoding:
        h_p = self.path_embed(batch.path_x[:, self._pc])
        h_l = self.link_embed(batch.link_x[:, self._lc])
        h_q = self.queue_embed(batch.link_x[:, self._qc])
        for _ in range(self.T):
            h_p, hops = self.path_rnn(h_p, torch.cat([h_q, h_l], dim=1), batch)
            h_q = self.queue_gru(hops_to_links(hops, batch), h_q)
            h_l = self.link_gru(h_q, h_l)
        return Encoding(path=h_p, hops=hops)

    def read(self, kpi: str, enc: Encoding, batch: GraphBatch) -> Tensor:
        if kpi not in self.additive:
            return super().read(kpi, enc, batch)
        out = self.hop_heads(kpi, enc.hops)
        if self.hop_readout == "share":
            weight = _hop_shares(batch)[:, None]
            mean = hops_to_paths(weight * out[:, :1], batch)[:, 0] + self.hop_bias[kpi]
        else:
            weight = torch.ones_like(out[:, :1])
            mean = hops_to_paths(F.softplus(out[:, :1]), batch)[:, 0] + self.hop_bias[kpi]
        if not self.probabilistic:
            return mean
        var = hops_to_paths(weight * torch.exp(2.0 * out[:, 1:].clamp(-15.0, 15.0)), batch)[:, 0]
        return torch.stack([mean, 0.5 * torch.log(var + 1e-12)], dim=1)

    def encoder_parameters(self):
        for name, p in self.named_parameters():
            if not name.startswith(("heads.", "hop_heads.", "hop_bias.")):
                yield p

    def __repr__(self) -> str:
        return f"RouteNetFermi(path={self.path}, link={self.link}, queue={self.queue}, T={self.T})"


def _hop_shares(batch: GraphBatch) -> Tensor:
    """(E,) each hop's share of its flow's transmission times along its path (of the flow's mean packet)."""
    bits = 8.0 * batch.path_raw[batch.step_path, _PACKET_SIZE]
    return bits / batch.link_raw[batch.step_link, _CAPACITY] / batch.tx_time[batch.step_path]
