r"""A learned twin's prediction as a differentiable function of the traffic and the capacities.

:class:`DifferentiableTwin` fixes a network's structure (nodes, links, paths, split shares, packet sizes, traffic
laws, delays, buffers, scheduling) and maps torch tensors of

- ``rate`` (F,) or (B, F): each flow's ``rate`` (bit/s; the sending rate while on for on/off, of one burst for
  ppbp: see :class:`~nettwin.scenario.traffic.Traffic`),
- ``tau_on``, ``tau_off`` (F,) or (B, F): the on/off flows' mean periods (s; ignored for the other laws),
- ``capacity`` (L,) or (B, L): each link's capacity (bit/s),

to the twin's per-flow KPIs, ``{kpi: (B, F)}`` in SI units, with gradients, for B settings in one forward pass on the
twin's device. It is what ``twin.predict`` computes: every feature column (:mod:`nettwin.twin.graph`) that depends
on these parameters is recomputed in torch (``rate``, ``mean_rate``, ``tau_on``, ``tau_off``, ``load``,
``tx_time``, ``log_capacity``, ``prop_ratio``, ``rate_ratio``, ``peak_ratio``, ``on_ratio``, ``off_ratio``, the
nodes' loads, the expected packets the drops head counts with, and, for a twin that reads them, queueing theory's
estimates ``qt_delay``, ``qt_loss``, ``qt_utilisation``, ``qt_blocking``: :mod:`nettwin.twin.differentiable_qt`);
the others are taken once from the network's graph (``qt_exact`` depends on the scheduling only). A flow's mean rate
follows its law: ``rate`` for cbr, poisson and uniform, ``rate·τon/(τon+τoff)`` for on/off, the clipped-gap mean
for normal (:attr:`~nettwin.scenario.traffic.Traffic.mean_rate`); a ppbp flow's mean is set by its bursts, so its
``rate`` moves only its peak. A split flow's paths carry their shares of it, and its KPIs aggregate theirs by share
(:func:`nettwin.sim.kpi.aggregate_routes`), as in ``predict``, with the exact gradient of that aggregate.

Examples
--------
>>> import torch
>>> from nettwin.scenario import parse_scenario, build_network
>>> from nettwin.twin import Twin
>>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "1Mbps"}}]}))
>>> twin = Twin("glance", kpis=["delay"], epochs=1, device="cpu").fit([(net, {"delay": [0.01]})])
>>> f = DifferentiableTwin(twin, net)
>>> rate = torch.tensor([[1e6], [2e6]], dtype=torch.float64, requires_grad=True)
>>> f(rate=rate)["delay"].shape
torch.Size([2, 1])
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nettwin.errors import TwinError
from nettwin.scenario.network import Network
from nettwin.twin import GraphBatch, Twin, graph_from_network
from nettwin.twin.blocks import TwinModel
from nettwin.twin.differentiable_qt import QueueingEstimates
from nettwin.twin.flows import flow_predictions, path_predictions
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, TRAFFIC_MODELS
from nettwin.twin.inputs import as_network

__all__ = ["DifferentiableTwin"]

_WORK = torch.float64
"""Features are computed and predictions decoded in double precision, as ``predict`` does in NumPy."""

_P = PATH_FEATURES.index
_L = LINK_FEATURES.index
_N = NODE_FEATURES.index
_QT_COLUMNS = ("qt_delay", "qt_loss", "qt_utilisation", "qt_blocking")
"""Queueing theory's estimates, recomputed (:mod:`~nettwin.twin.differentiable_qt`) only for twins that read them."""
_CACHED_SIZES = 4
"""How many batch sizes keep their collated structure (a search usually evaluates one or two)."""
_EMPTY_LINK_BITS = 8000.0
"""The mean packet (bits) an idle link's ``tx_time`` takes in a network without traffic (as the graph's)."""


class DifferentiableTwin:
    """A fitted learned :class:`~nettwin.twin.Twin`'s prediction on one network's structure, as a function of torch
    tensors of rates, on/off periods and capacities (see the module docstring).

    Parameters
    ----------
    twin : a fitted learned twin (GLANCE, RouteNet, RouteNet-Fermi, GNN); its models are copied (a snapshot of the
        weights, on the twin's device, frozen: gradients flow to the inputs only).
    network : the network whose structure is kept (a :class:`~nettwin.scenario.network.Network`, or anything
        :func:`nettwin.sim.as_network` resolves).
    dtype : the models' precision: None keeps the twin's (float32); ``torch.float64`` runs double copies of them,
        for gradient checks.

    Raises
    ------
    NotFittedError
        If the twin is not fitted.
    TwinError
        If the twin is not a learned one.
    """

    def __init__(self, twin: Twin, network: Any, *, dtype: torch.dtype | None = None) -> None:
        if not isinstance(twin, Twin):
            raise TwinError(
                f"DifferentiableTwin needs a learned Twin (glance, routenet, routenet_fermi, gnn), "
                f"not a {type(twin).__name__}"
            )
        twin._check_fitted()
        models = dict(twin.models_)
        network = as_network(network)
        first = next(iter(models.values()))
        self.device = next(first.parameters()).device
        copies = {id(m): _frozen(m, dtype) for m in models.values()}
        per_kpi = {k: models[k] for k in twin.kpis_} if twin.strategy == "stl" else dict.fromkeys(twin.kpis_, first)
        self._models = list(copies.values())
        self.kpis = list(twin.kpis_)
        self._heads = {k: per_kpi[k].head(k) for k in self.kpis}
        self._model_dtype = next(self._models[0].parameters()).dtype
        self._norm = twin.normalisation_
        self.network = network
        self._graph = graph_from_network(network)
        self._structure(network)
        read = set().union(*(m.inputs() for m in models.values()))
        estimated = any(c.split(".")[1] in _QT_COLUMNS for c in read)
        self._qt = QueueingEstimates.of(network.subflows(), self.device) if estimated else None
        self._batches: dict[int, GraphBatch] = {}

    def _structure(self, network: Network) -> None:
        """Tensors of what stays fixed: the graph's blocks and the path → link and path → flow maps."""
        g, dev = self._graph, self.device

        def t(a: Any, dtype: torch.dtype = _WORK) -> Tensor:
            return torch.as_tensor(np.asarray(a), dtype=dtype, device=dev)

        self.n_flows, self.n_links = network.n_flows, network.n_links
        self._node0, self._link0, self._path0 = t(g.node_x), t(g.link_x), t(g.path_x)
        lengths = np.diff(g.path_ptr)
        self._hop_path = t(np.repeat(np.arange(g.n_paths), lengths), torch.int64)
        self._hop_link = t(g.path_links, torch.int64)
        # (P, longest path) link indices, padded by the path's last link, to take each path's bottleneck.
        longest = int(lengths.max()) if len(lengths) else 0
        pos = np.minimum(np.arange(longest), np.maximum(lengths[:, None] - 1, 0))
        self._padded = t(g.path_links[g.path_ptr[:-1, None] + pos], torch.int64)
        self._flow = t(g.route_flow, torch.int64)
        self._share = t(g.route_share)
        self._splits = g.splits
        self._bits = 8.0 * self._path0[:, _P("packet_size")]
        self._link_src, self._link_dst = t(g.link_src, torch.int64), t(g.link_dst, torch.int64)
        self._out_degree = self._node0[:, _N("out_degree")].clamp_min(1.0)
        self._in_degree = self._node0[:, _N("in_degree")].clamp_min(1.0)
        self._propagation = torch.zeros(g.n_paths, dtype=_WORK, device=dev).index_add_(
            0, self._hop_path, self._link0[self._hop_link, _L("delay")]
        )
        model = np.array([TRAFFIC_MODELS.index(f.traffic.model) for f in network.flows], dtype=np.int64)
        self._onoff = t(model == TRAFFIC_MODELS.index("onoff"), torch.bool)
        self._ppbp = t(model == TRAFFIC_MODELS.index("ppbp"), torch.bool)
        self._gap_std = t([(f.traffic.gap_std or 0.0) if f.traffic.model == "normal" else 0.0 for f in network.flows])
        self._flow_bits = t([8.0 * f.traffic.packet_size.mean_bytes for f in network.flows])
        self._flow_mean = t([f.traffic.mean_rate for f in network.flows])
        self._own = {
            "rate": t([f.traffic.rate for f in network.flows]),
            "tau_on": t([f.traffic.tau_on or 0.0 for f in network.flows]),
            "tau_off": t([f.traffic.tau_off or 0.0 for f in network.flows]),
            "capacity": self._link0[:, _L("capacity")].clone(),
        }
        self._window = float(network.simulation.duration - network.simulation.warmup)
        self._stats = {
            kind: (t(getattr(self._norm, kind)[0]), t(getattr(self._norm, kind)[1]))
            for kind in ("node", "link", "path")
        }

    def parameters(self) -> dict[str, Tensor]:
        """The network's own ``rate``, ``tau_on``, ``tau_off`` (F,) (0 for flows that are not on/off) and
        ``capacity`` (L,), float64 on the twin's device: where a search starts."""
        return {k: v.clone() for k, v in self._own.items()}

    def __call__(
        self,
        rate: Tensor | None = None,
        capacity: Tensor | None = None,
        tau_on: Tensor | None = None,
        tau_off: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Per-flow KPIs (SI units) for the given parameters (the network's own where None): ``{kpi: (B, F)}``, and
        ``<kpi>_std`` for a probabilistic twin's; (F,) each when no parameter has a batch dimension. Parameters of
        shape (n,) or (1, n) are shared by the B settings.

        Raises
        ------
        TwinError
            If a parameter's shape is neither (n,) nor (B, n), n the network's flows or links, or batch sizes
            other than 1 differ.
        """
        own = self.parameters()
        given = {"rate": rate, "tau_on": tau_on, "tau_off": tau_off, "capacity": capacity}
        single = all(v is None or v.dim() == 1 for v in given.values())
        sizes = {v.shape[0] for v in given.values() if v is not None and v.dim() == 2}
        if len(sizes - {1}) > 1:
            raise TwinError(f"DifferentiableTwin: the parameters' batch sizes differ: {sorted(sizes - {1})}")
        b = max(sizes, default=1)
        x = {}
        for name, value in given.items():
            n = self.n_links if name == "capacity" else self.n_flows
            if value is None:
                value = own[name]
            elif value.dim() not in (1, 2) or value.shape[-1] != n:
                what = "links" if name == "capacity" else "flows"
                raise TwinError(
                    f"DifferentiableTwin: '{name}' must be ({n},) or (B, {n}), one per {what[:-1]} of the "
                    f"network's {n} {what}; got {tuple(value.shape)}"
                )
            x[name] = value.to(device=self.device, dtype=_WORK).expand(b, n)
        out = self._predict(b, **x)
        return {k: v[0] for k, v in out.items()} if single else out

    def _predict(self, b: int, rate: Tensor, tau_on: Tensor, tau_off: Tensor, capacity: Tensor) -> dict[str, Tensor]:
        node_x, link_x, path_x, counts = self.features(rate, tau_on, tau_off, capacity)
        base = self._batch(b)
        flow, share = base.path_flow, self._share.repeat(b)
        path_packets = counts.reshape(-1)
        if self._splits:
            flow_packets = path_packets.new_zeros(b * self.n_flows).index_add(0, flow, path_packets)
            packets = share * flow_packets[flow]
        else:
            flow_packets = packets = path_packets
        tx = path_x[..., _P("tx_time")].reshape(-1)
        propagation = tx * torch.expm1(path_x[..., _P("prop_ratio")].reshape(-1))
        if self._splits:
            flow_tx = tx.new_zeros(b * self.n_flows).index_add(0, flow, share * tx)
            flow_propagation = tx.new_zeros(b * self.n_flows).index_add(0, flow, share * propagation)
        else:
            flow_tx, flow_propagation = tx, propagation
        decoded = {
            "packets": packets,
            "tx_time": tx,
            "propagation": propagation,
            "path_share": share,
            "flow_packets": flow_packets,
            "flow_tx_time": flow_tx,
            "flow_propagation": flow_propagation,
        }
        m = self._model_dtype
        batch = replace(
            base,
            node_x=self._normalised("node", node_x).to(m),
            link_x=self._normalised("link", link_x).to(m),
            path_x=self._normalised("path", path_x).to(m),
            link_raw=link_x.reshape(-1, link_x.shape[-1]).to(m),
            path_raw=path_x.reshape(-1, path_x.shape[-1]).to(m),
            **{k: v.to(m) for k, v in decoded.items()},
        )
        outputs: dict[str, Tensor] = {}
        for model in self._models:
            outputs.update(model(batch))
        host = replace(batch, **decoded)
        outputs = {k: v.to(_WORK) for k, v in outputs.items()}
        means, stds = path_predictions(self._heads, outputs, host, self._norm, self.kpis)
        means = {k: v.clamp_min(0.0) for k, v in means.items()}
        means, stds = flow_predictions(means, stds, host, detach_weights=False)
        table = {**means, **{f"{k}_std": v for k, v in stds.items()}}
        return {k: v.reshape(b, self.n_flows) for k, v in table.items()}

    def features(
        self, rate: Tensor, tau_on: Tensor, tau_off: Tensor, capacity: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The raw feature blocks of B settings ((B, F) flow parameters, (B, L) capacities): node (B, N, ·), link
        (B, L, ·), path (B, P, ·) in the columns of :mod:`nettwin.twin.graph` (queueing theory's estimates recomputed
        only for a twin that reads them, else the network's), and (B, P) the packets each path is expected to send in
        the measured window."""
        flow, share, bits = self._flow, self._share, self._bits
        b = rate.shape[0]
        tau_on = torch.where(self._onoff, tau_on, torch.zeros_like(tau_on))
        tau_off = torch.where(self._onoff, tau_off, torch.zeros_like(tau_off))
        mean_rate = self._mean_rate(rate, tau_on, tau_off)
        path_rate, path_mean = rate[:, flow] * share, mean_rate[:, flow] * share
        packets = path_mean / bits  # packets per second
        hop_path, hop_link = self._hop_path, self._hop_link
        n_links = self.n_links

        def per_link(values: Tensor) -> Tensor:
            """(B, E) per-hop values summed into (B, L)."""
            return values.new_zeros(b, n_links).index_add(1, hop_link, values)

        def per_path(values: Tensor) -> Tensor:
            """(B, E) per-hop values summed into (B, P)."""
            return values.new_zeros(b, len(flow)).index_add(1, hop_path, values)

        routed = per_link(packets[:, hop_path])
        routed_bits = per_link((packets * bits)[:, hop_path])
        total = packets.sum(1, keepdim=True)
        mean_bits = torch.where(
            total > 0, (packets * bits).sum(1, keepdim=True) / torch.where(total > 0, total, 1.0), _EMPTY_LINK_BITS
        )
        link_bits = torch.where(routed > 0, routed_bits / torch.where(routed > 0, routed, 1.0), mean_bits)
        link_tx = link_bits / capacity
        load = per_link(path_mean[:, hop_path]) / capacity
        link_x = self._link0.expand(b, -1, -1).clone()
        link_x[..., _L("capacity")] = capacity
        link_x[..., _L("load")] = load
        link_x[..., _L("tx_time")] = link_tx
        median = torch.quantile(capacity, 0.5, dim=1, keepdim=True)
        link_x[..., _L("log_capacity")] = torch.log(capacity / median)
        link_x[..., _L("prop_ratio")] = torch.log1p(self._link0[:, _L("delay")] / link_tx)

        tx = per_path(bits[hop_path] / capacity[:, hop_link])
        bottleneck = capacity[:, self._padded].amin(dim=2)
        path_x = self._path0.expand(b, -1, -1).clone()
        path_x[..., _P("rate")] = path_rate
        path_x[..., _P("mean_rate")] = path_mean
        path_x[..., _P("tau_on")] = tau_on[:, flow]
        path_x[..., _P("tau_off")] = tau_off[:, flow]
        path_x[..., _P("tx_time")] = tx
        path_x[..., _P("rate_ratio")] = path_mean / bottleneck
        path_x[..., _P("peak_ratio")] = path_rate / bottleneck
        path_x[..., _P("on_ratio")] = torch.log1p(tau_on[:, flow] * bottleneck / bits)
        path_x[..., _P("off_ratio")] = torch.log1p(tau_off[:, flow] * bottleneck / bits)
        path_x[..., _P("prop_ratio")] = torch.log1p(self._propagation / tx)
        if self._qt is not None:
            est = self._qt(packets, capacity)
            link_x[..., _L("qt_utilisation")] = est["utilisation"]
            link_x[..., _L("qt_blocking")] = est["blocking"]
            link_x[..., _L("qt_delay")] = torch.log1p(est["sojourn"] / link_tx)
            path_x[..., _P("qt_delay")] = torch.log1p(est["queueing"] / tx)
            path_x[..., _P("qt_loss")] = est["loss"]

        node_x = self._node0.expand(b, -1, -1).clone()
        node_loads = load.new_zeros(b, len(self._node0))
        node_x[..., _N("out_load")] = node_loads.index_add(1, self._link_src, load) / self._out_degree
        node_x[..., _N("in_load")] = node_loads.index_add(1, self._link_dst, load) / self._in_degree
        return node_x, link_x, path_x, packets * self._window

    def _mean_rate(self, rate: Tensor, tau_on: Tensor, tau_off: Tensor) -> Tensor:
        """(B, F) each flow's long-run mean rate under its law (:attr:`~nettwin.scenario.traffic.Traffic.mean_rate`)."""
        onoff = rate * tau_on / torch.where(self._onoff, tau_on + tau_off, 1.0)
        # Normal gaps below zero count as zero: the mean gap lengthens to g·Φ(g/σ) + σ·φ(g/σ).
        sigma = self._gap_std
        clipped = sigma > 0
        gap = self._flow_bits / rate
        a = gap / torch.where(clipped, sigma, 1.0)
        mean_gap = gap * 0.5 * torch.special.erfc(-a / np.sqrt(2.0)) + sigma * torch.exp(-0.5 * a * a) / np.sqrt(
            2.0 * np.pi
        )
        normal = rate * gap / torch.where(clipped, mean_gap, gap)
        mean = torch.where(self._onoff, onoff, torch.where(clipped, normal, rate))
        return torch.where(self._ppbp, self._flow_mean.expand_as(rate), mean)

    def _normalised(self, kind: str, x: Tensor) -> Tensor:
        mean, std = self._stats[kind]
        return ((x - mean) / std).reshape(-1, x.shape[-1])

    def _batch(self, b: int) -> GraphBatch:
        """The structure of ``b`` copies of the network as one batch (the last few sizes cached)."""
        if b not in self._batches:
            if len(self._batches) >= _CACHED_SIZES:
                del self._batches[next(iter(self._batches))]
            graphs = [self._graph] * b
            self._batches[b] = GraphBatch.collate(graphs, self._norm, dtype=self._model_dtype).to(self.device)
        return self._batches[b]

    def __repr__(self) -> str:
        return f"DifferentiableTwin({self.network.name!r}, kpis={self.kpis}, device={self.device})"


def _frozen(model: TwinModel, dtype: torch.dtype | None) -> TwinModel:
    """A copy of ``model`` in evaluation mode, its weights frozen (and cast to ``dtype`` when given)."""
    out = copy.deepcopy(model).eval().requires_grad_(False)
    return out.to(dtype) if dtype is not None else out
