r"""The message-passing toolkit shared by every twin: path ↔ link ↔ node exchanges on a :class:`GraphBatch`.

A model file only writes its update rules; this module does the gathering and scattering:

- :class:`PathRNN` runs a GRU along every path at once (hop by hop over the packed layout of the batch) and returns
  each hop's state — the message a path sends to the link of that hop — and the final path state.
- :func:`hops_to_links`, :func:`hops_to_paths`, :func:`links_to_nodes` sum per-hop or per-link values into links,
  paths or nodes; :func:`gcn_propagate` applies :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}` of the weighted topology.
- :class:`GraphConv` is one GCN layer, :class:`MLP` a plain perceptron, :func:`pad_features` builds initial states by
  zero-padding features, :class:`KPIHeads` holds one readout per KPI.
- :class:`TwinModel` is the base class: it owns the heads and turns an encoding into per-KPI outputs.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nettwin.errors import TwinError
from nettwin.twin.batch import GraphBatch
from nettwin.twin.graph import PATH_FEATURES
from nettwin.twin.likelihood import BINOMIAL_KPIS, head_kind, head_outputs, qt_logit

__all__ = [
    "MLP",
    "PathRNN",
    "GraphConv",
    "KPIHeads",
    "Encoding",
    "TwinModel",
    "scatter_sum",
    "hops_to_links",
    "hops_to_paths",
    "links_to_nodes",
    "gcn_propagate",
    "pad_features",
]


def scatter_sum(src: Tensor, index: Tensor, size: int) -> Tensor:
    """``out[i] = Σ_{j: index[j] = i} src[j]`` for a (J, ...) ``src``; rows nobody writes stay zero."""
    out = src.new_zeros((size, *src.shape[1:]))
    return out.index_add_(0, index, src)


def hops_to_links(hop: Tensor, batch: GraphBatch) -> Tensor:
    """(E, D) per-hop values → (L, D): each link sums the values of the hops (path, link) that cross it."""
    return scatter_sum(hop, batch.step_link, batch.n_links)


def hops_to_paths(hop: Tensor, batch: GraphBatch) -> Tensor:
    """(E, D) per-hop values → (P, D): each path sums its hops."""
    return scatter_sum(hop, batch.step_path, batch.n_paths)


def links_to_nodes(link: Tensor, batch: GraphBatch, end: str = "src") -> Tensor:
    """(L, D) per-link values → (N, D): each node sums its outgoing (``end="src"``) or incoming (``"dst"``) links."""
    index = batch.link_src if end == "src" else batch.link_dst
    return scatter_sum(link, index, batch.n_nodes)


def gcn_propagate(x: Tensor, batch: GraphBatch) -> Tensor:
    r""":math:`\hat D^{-1/2} \hat A \hat D^{-1/2} x` over the weighted topology with self-loops, for (N, D) ``x``."""
    neigh = scatter_sum(batch.gcn_coef.unsqueeze(1) * x.index_select(0, batch.link_src), batch.link_dst, batch.n_nodes)
    return neigh + batch.self_coef.unsqueeze(1) * x


def pad_features(x: Tensor, dim: int, what: str = "features") -> Tensor:
    """Initial states: features zero-padded on the right to ``dim`` columns."""
    if x.shape[1] > dim:
        raise TwinError(
            f"{what}: {x.shape[1]} features do not fit an embedding of size {dim}; use a size ≥ {x.shape[1]}"
        )
    return F.pad(x, (0, dim - x.shape[1]))


class MLP(nn.Module):
    """Fully connected layers ``in → hidden (× layers−1) → out`` with an activation between them.

    Args: ``in_dim``, ``hidden`` (width), ``out_dim``, ``layers`` (≥ 1; 1 means a single linear map),
    ``act`` (``"relu"``, ``"selu"``, ``"tanh"``), ``final_act`` (also apply the activation at the end).
    Shapes: (*, in_dim) → (*, out_dim).
    """

    def __init__(
        self, in_dim: int, hidden: int, out_dim: int, layers: int = 2, act: str = "relu", final_act: bool = False
    ) -> None:
        super().__init__()
        if layers < 1:
            raise TwinError(f"MLP: layers must be ≥ 1, got {layers}")
        dims = [in_dim] + [hidden] * (layers - 1) + [out_dim]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:], strict=False))
        self.act = {"relu": nn.ReLU(), "selu": nn.SELU(), "tanh": nn.Tanh()}[act]
        self.final_act = final_act
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in self.linears:
            lin.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if i < len(self.linears) - 1 or self.final_act:
                x = self.act(x)
        return x


class PathRNN(nn.Module):
    r"""A GRU that walks every path of a batch in packet order.

    For path :math:`p = (l_1, \dots, l_k)` with state :math:`h_p` and per-link inputs :math:`x_l`:

    .. math::  s_0 = h_p, \qquad s_j = \mathrm{GRU}(x_{l_j}, s_{j-1}), \qquad m_{p,l_j} = s_j, \qquad
               h_p \leftarrow s_k .

    The input projection :math:`W_{ih} x_l` is computed once per link and gathered per hop, so the cost per hop is
    one (H × 3H) product. Numerically the same as :class:`torch.nn.GRUCell` applied hop by hop.

    Args: ``in_dim`` (per-link input size I), ``hidden`` (path state size H).
    Shapes: ``forward(h_path (P, H), link_in (L, I), batch) → (final (P, H), hops (E, H))``, hops in the batch's
    step-major order.
    """

    def __init__(self, in_dim: int, hidden: int) -> None:
        super().__init__()
        self.in_dim, self.hidden = in_dim, hidden
        self.cell = nn.GRUCell(in_dim, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.cell.reset_parameters()

    def forward(
        self, h_path: Tensor, link_in: Tensor, batch: GraphBatch, to_links: bool = False
    ) -> tuple[Tensor, Tensor]:
        """Walk the paths; the second result is the per-hop states (E, H), or with ``to_links`` their sums per
        link (L, H) — the same as :func:`hops_to_links` of the hop states, without keeping them all."""
        c, hid = self.cell, self.hidden
        # Input projections once per link (with the hidden biases of the r and z gates folded in); per hop
        # only the products with the path state remain.
        gi_link = F.linear(link_in, c.weight_ih, c.bias_ih)
        gi_rz = gi_link[:, : 2 * hid] + c.bias_hh[: 2 * hid]
        gi_n = gi_link[:, 2 * hid :].contiguous()
        w_rz, w_n, b_n = c.weight_hh[: 2 * hid].t(), c.weight_hh[2 * hid :].t(), c.bias_hh[2 * hid :]
        h = h_path.index_select(0, batch.order)
        sizes = batch.step_sizes
        outs, finished, start = [], [], 0
        acc = h_path.new_zeros((batch.n_links, hid)) if to_links else None
        for t, n in enumerate(sizes):
            links = batch.step_link[start : start + n]
            prev = h[:n]
            rz = torch.sigmoid(torch.addmm(gi_rz.index_select(0, links), prev, w_rz))
            r, z = rz[:, :hid], rz[:, hid:]
            cand = torch.tanh(torch.addcmul(gi_n.index_select(0, links), r, torch.addmm(b_n, prev, w_n)))
            h = torch.lerp(cand, prev, z)
            if acc is not None:
                acc.index_add_(0, links, h)
            else:
                outs.append(h)
            # Paths are sorted by decreasing length, so those ending now are the tail of the active prefix.
            after = sizes[t + 1] if t + 1 < len(sizes) else 0
            if after < n:
                finished.append(h[after:])
            start += n
        if not sizes:
            return h_path, (acc if acc is not None else h_path.new_zeros((0, hid)))
        final = torch.cat(finished[::-1]) if len(finished) > 1 else finished[0]
        return final.index_select(0, batch.inv_order), (acc if acc is not None else torch.cat(outs))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_dim}, {self.hidden})"


class GraphConv(nn.Module):
    r"""One graph convolution :math:`\sigma(\hat D^{-1/2} \hat A \hat D^{-1/2} X W)` (Kipf & Welling) on the
    weighted topology of the batch.

    Args: ``in_dim``, ``out_dim``, ``act`` (apply ReLU; default True). Shapes: (N, in_dim) → (N, out_dim).
    """

    def __init__(self, in_dim: int, out_dim: int, act: bool = True) -> None:
        super().__init__()
        self.in_dim, self.out_dim, self.act = in_dim, out_dim, act
        self.lin = nn.Linear(in_dim, out_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(self, x: Tensor, batch: GraphBatch) -> Tensor:
        out = gcn_propagate(self.lin(x), batch)
        return torch.relu(out) if self.act else out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_dim}, {self.out_dim})"


@dataclass
class Encoding:
    """What a model's message passing produces: final path states (P, D) and, optionally, per-hop states (E, D')
    plus per-hop extra inputs for readouts that work hop by hop."""

    path: Tensor
    hops: Tensor | None = None


class KPIHeads(nn.Module):
    """One readout MLP per KPI: (P, in_dim) → (P, outputs); ``outputs`` is one count for every KPI or a count per
    KPI (1 for a point or binomial head, 2 for a Normal's mean and log σ: see :mod:`nettwin.twin.likelihood`).
    With ``residual`` the last layer also sees the input (RouteNet's readout)."""

    def __init__(
        self,
        kpis: Sequence[str],
        in_dim: int,
        hidden: int,
        outputs: int | Mapping[str, int] = 1,
        layers: int = 3,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.kpis, self.in_dim, self.hidden, self.residual = list(kpis), in_dim, hidden, residual
        self.outputs = {k: outputs if isinstance(outputs, int) else outputs[k] for k in kpis}
        if residual:
            self.body = nn.ModuleDict({k: MLP(in_dim, hidden, hidden, layers - 1, final_act=True) for k in kpis})
            self.out = nn.ModuleDict({k: nn.Linear(hidden + in_dim, self.outputs[k]) for k in kpis})
        else:
            self.body = nn.ModuleDict({k: MLP(in_dim, hidden, self.outputs[k], layers) for k in kpis})
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.body.values():
            m.reset_parameters()
        if self.residual:
            for m in self.out.values():
                m.reset_parameters()

    def forward(self, kpi: str, x: Tensor) -> Tensor:
        if self.residual:
            return self.out[kpi](torch.cat([self.body[kpi](x), x], dim=-1))
        return self.body[kpi](x)


_QT_LOSS = PATH_FEATURES.index("qt_loss")


class TwinModel(nn.Module):
    """Base class of learnable twins: message passing (:meth:`encode`, written by each model) then one head per KPI.

    ``forward(batch)`` returns ``{kpi: (P,) normalised prediction}``; with probabilistic heads, (P, 2) (normalised
    mean, log σ) per KPI and, for drops, the (P,) logit of the per-packet drop probability (:meth:`head` says
    which; :mod:`nettwin.twin.likelihood` decodes them). Subclasses set ``self.readout_dim`` before calling
    :meth:`build_heads`, and may override :meth:`read` for KPIs they read out differently (e.g. summed hop by hop).
    With ``qt_drops``, drops get a binomial head whose output corrects queueing theory's logit
    (:func:`~nettwin.twin.likelihood.qt_logit`): :meth:`forward` adds that logit to what :meth:`read` returns.
    Each constructor argument is kept as an attribute of the same name (:meth:`config` reads them).
    """

    def __init__(
        self,
        kpis: Sequence[str],
        readout: int = 64,
        probabilistic: bool = False,
        residual_readout: bool = False,
        qt_drops: bool = False,
    ) -> None:
        super().__init__()
        if not kpis:
            raise TwinError(f"{type(self).__name__}: give at least one KPI")
        self.kpis = list(kpis)
        self.readout = readout
        self.probabilistic = probabilistic
        self.residual_readout = residual_readout
        self.qt_drops = qt_drops
        self.readout_dim = 0

    def build_heads(self, kpis: Sequence[str] | None = None) -> None:
        """(Re)create the heads, e.g. new, untrained heads for transfer learning."""
        if kpis is not None:
            self.kpis = list(kpis)
        self.heads = KPIHeads(
            self.path_kpis(),
            self.readout_dim,
            self.readout,
            {k: head_outputs(self.head(k)) for k in self.path_kpis()},
            residual=self.residual_readout,
        )

    def head(self, kpi: str) -> str:
        """A KPI's kind of head: ``point``, ``normal`` or ``binomial`` (:func:`~nettwin.twin.likelihood.head_kind`)."""
        return head_kind(kpi, self.probabilistic or (self.qt_drops and kpi in BINOMIAL_KPIS))

    def path_kpis(self) -> list[str]:
        """KPIs read from the final path state by :attr:`heads` (all of them unless a model reads some otherwise)."""
        return list(self.kpis)

    def encode(self, batch: GraphBatch) -> Encoding:
        raise NotImplementedError

    def read(self, kpi: str, enc: Encoding, batch: GraphBatch) -> Tensor:
        out = self.heads(kpi, enc.path)
        return out.squeeze(-1) if out.shape[-1] == 1 else out

    def forward(self, batch: GraphBatch) -> dict[str, Tensor]:
        enc = self.encode(batch)
        out = {k: self.read(k, enc, batch) for k in self.kpis}
        if self.qt_drops:
            base = qt_logit(batch.path_raw[:, _QT_LOSS])
            out.update({k: out[k] + base for k in out if k in BINOMIAL_KPIS})
        return out

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of the shared embedding (everything but the heads): what transfer learning freezes."""
        for name, p in self.named_parameters():
            if not name.startswith("heads."):
                yield p

    def inputs(self) -> set[str]:
        """The feature columns the model reads, as ``<kind>.<column>`` (Fermi's queue features are link columns), and
        ``link.weight``, which the graph convolutions weigh links by whatever the features, and ``path.qt_loss``
        with ``qt_drops``."""
        kinds = {"path_features": "path", "link_features": "link", "node_features": "node", "queue_features": "link"}
        read = {"link.weight"} | {f"{kind}.{c}" for attr, kind in kinds.items() for c in getattr(self, attr, ())}
        return read | ({"path.qt_loss"} if self.qt_drops else set())

    def config(self) -> dict:
        """Constructor arguments that rebuild this model (stored in checkpoints).

        As scikit-learn's ``get_params``: every argument of the subclass's ``__init__`` is kept as an attribute of
        the same name, so the signature lists them all.
        """
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: getattr(self, n) for n in names}
