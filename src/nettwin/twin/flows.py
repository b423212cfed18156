r"""From the paths a model predicts for to the flows that have KPIs, for flows split over several paths.

A model predicts for every path of a batch (:mod:`nettwin.twin.batch`); a flow split over several paths has one
prediction per path, made as if the path were a flow carrying its share of the traffic. The flow's KPIs aggregate
them by share with the rule every model of the package uses (:func:`nettwin.sim.kpi.aggregate_routes`), in torch on
the batch's path → flow map, so that a loss on the flows' targets trains the paths' predictions through it.

A probabilistic head's deviation :math:`\sigma_r` is aggregated as that of independent errors:
:math:`\sqrt{\sum_r (c_r \sigma_r)^2}`, :math:`c_r` the path's weight in the flow's KPI (1 for the summed
``throughput`` and ``drops``, the share for ``drop_rate``, the share of received packets for the others).
Without split flows every function here returns its input's values unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from nettwin.sim.kpi import aggregate_routes
from nettwin.twin.batch import GraphBatch
from nettwin.twin.likelihood import QT_LOSS_FLOOR, decode
from nettwin.twin.normalise import Normalisation

__all__ = ["path_predictions", "flow_predictions", "flow_outputs"]

_SUMMED = ("throughput", "drops")

_TINY = 1e-30


def path_predictions(
    heads: Mapping[str, str], out: Mapping[str, Tensor], batch: GraphBatch, norm: Normalisation, kpis: Sequence[str]
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Each path's prediction of ``kpis`` in SI units, and the deviation of those whose head gives one, (P,) each;
    ``heads`` maps each KPI to its head kind, ``out`` holds the model's outputs."""
    means, stds = {}, {}
    for k in kpis:
        mean, std = decode(heads[k], out[k], batch.packets, norm.kpi_center[k], norm.kpi_scale[k])
        means[k], std = norm.absolute(k, mean, std, batch.tx_time, batch.propagation)
        if std is not None:
            stds[k] = std
    return means, stds


def flow_predictions(
    means: Mapping[str, Tensor], stds: Mapping[str, Tensor], batch: GraphBatch, *, detach_weights: bool = True
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Per-path predictions and deviations (SI units, (P,)) aggregated to the batch's flows, (F,) each.

    A path's received packets are weighed by its predicted loss (``drops`` over its packets, where predicted; else
    ``drop_rate``; else by share), taken as given in training (``detach_weights``): gradients flow through the KPIs,
    not through the weights; ``detach_weights=False`` gives the exact gradient of the aggregate (what an optimiser of
    the inputs needs). A flow predicted to lose every packet on every path is weighed by share (its delays are still
    predictions to train).
    """
    if not batch.splits:
        return dict(means), dict(stds)
    flow, share, n = batch.path_flow, batch.path_share, batch.n_flows
    weight = share
    if "drops" in means or "drop_rate" in means:
        loss = means["drops"] / batch.packets.clamp_min(_TINY) if "drops" in means else means["drop_rate"]
        received = share * (1.0 - loss.clamp(0.0, 1.0))
        received = received.detach() if detach_weights else received
        some = received.new_zeros(n).index_add(0, flow, received) > 0
        weight = torch.where(some[flow], received, share)
    flows = aggregate_routes(dict(means), flow, share, n, weight)
    total = weight.new_zeros(n).index_add(0, flow, weight)
    weight = weight / torch.where(total > 0, total, torch.ones_like(total))[flow]
    spread = {}
    for k, std in stds.items():
        c = torch.ones_like(share) if k in _SUMMED else share if k == "drop_rate" else weight
        spread[k] = torch.sqrt(std.new_zeros(n).index_add(0, flow, (c * std) ** 2))
    return flows, spread


def flow_outputs(
    heads: Mapping[str, str], out: Mapping[str, Tensor], batch: GraphBatch, norm: Normalisation, kpis: Sequence[str]
) -> dict[str, Tensor]:
    """The model's outputs for the batch's flows, in its heads' own units (what their losses compare with the
    flows' targets ``batch.y``, and decode with ``batch.flow_packets``): the paths' predictions aggregated per flow
    (:func:`flow_predictions`), then encoded back as each head encodes (point: normalised KPI; normal: normalised
    mean and log deviation; binomial: the logit of the flow's drop probability)."""
    if not batch.splits:
        return {k: out[k] for k in kpis}
    means, stds = flow_predictions(*path_predictions(heads, out, batch, norm, kpis), batch)
    parts = (batch.flow_tx_time, batch.flow_propagation)
    encoded = {}
    for k in kpis:
        if heads[k] == "binomial":
            p = means[k] / batch.flow_packets.clamp_min(_TINY)
            encoded[k] = torch.logit(p.clamp(QT_LOSS_FLOOR, 1.0 - QT_LOSS_FLOOR))
            continue
        z = norm.kpi(k, means[k], parts)
        if heads[k] != "normal":
            encoded[k] = z
            continue
        std = stds[k]
        if k in norm.relative:  # a log deviation is a relative one: over the flow's queueing part
            queueing = torch.exp(z * norm.kpi_scale[k] + norm.kpi_center[k]) * batch.flow_tx_time
            std = std / queueing.clamp_min(_TINY)
        encoded[k] = torch.stack([z, torch.log((std / norm.kpi_scale[k]).clamp_min(_TINY))], dim=1)
    return encoded
