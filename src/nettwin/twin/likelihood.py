r"""What a KPI head outputs, how it is trained and how its output becomes a prediction in SI units.

Three kinds of head:

- ``point``: one value, the normalised KPI :math:`z = (y - \mathrm{median}) / \mathrm{IQR}`; trained with the
  configured regression loss (MAE, MSE or Huber).
- ``normal``: two values, the normalised mean :math:`\mu` and :math:`\log\sigma` of a Normal; trained with the Normal
  negative log-likelihood :math:`\log\sigma + \tfrac12 ((z - \mu)/\sigma)^2` (up to a constant).
- ``binomial`` (drops; RouteNet's choice): one value, the logit of the per-packet drop probability :math:`p`. A flow
  that sent :math:`n` packets and lost :math:`k` of them has the negative log-likelihood

  .. math::  -\big[k \log p + (n - k) \log(1 - p)\big]

  (up to the constant :math:`-\log\binom{n}{k}`). The loss averages it *per packet* (divided by :math:`n`) over
  the flows, so each flow weighs the same as in the other losses whatever its packet count. The prediction is the
  expected count :math:`n p`, its uncertainty the binomial standard deviation :math:`\sqrt{n p (1 - p)}`.

Probabilistic twins use ``binomial`` for the KPIs of :data:`BINOMIAL_KPIS` and ``normal`` for the others; point twins
use ``point`` everywhere (:func:`head_kind`). For the binomial head, :math:`n` is the flow's observed
``tx_packets`` when training targets carry it, else — and always at prediction time, when nothing was simulated —
the expected offered packets over the measured window (:func:`nettwin.twin.graph.expected_packets`).

A twin built with ``qt_drops`` gives drops a binomial head whatever ``probabilistic`` says, and its output is a
correction around queueing theory's estimate: the logit is :math:`\mathrm{logit}(p_{QT}) + c` (:func:`qt_logit`),
:math:`p_{QT}` the flow's analytic loss (the ``qt_loss`` path column). A zero correction predicts queueing theory's
:math:`n p_{QT}`; the network learns only where the data departs from it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "HEAD_KINDS",
    "BINOMIAL_KPIS",
    "head_kind",
    "head_outputs",
    "normal_nll",
    "binomial_nll",
    "decode",
    "qt_logit",
]

HEAD_KINDS = ("point", "normal", "binomial")

BINOMIAL_KPIS = ("drops",)
"""KPIs that are counts of packets lost out of those sent: a probabilistic twin gives them a binomial head."""

_LOG_STD = (-10.0, 10.0)

QT_LOSS_FLOOR = 1e-9
"""Queueing theory's loss is clamped to [floor, 1 − floor] before its logit: a lossless flow starts at a drop
probability of 1e-9 (a millionth of a packet in a thousand-packet window) instead of an infinite logit."""


def head_kind(kpi: str, probabilistic: bool) -> str:
    """The head a KPI gets: ``point`` unless ``probabilistic``, then ``binomial`` for drops, ``normal`` otherwise.

    Examples
    --------
    >>> head_kind("drops", True), head_kind("delay", True), head_kind("drops", False)
    ('binomial', 'normal', 'point')
    """
    if not probabilistic:
        return "point"
    return "binomial" if kpi in BINOMIAL_KPIS else "normal"


def head_outputs(kind: str) -> int:
    """Values per flow a head of this kind outputs (normal: mean and log σ; point and binomial: one)."""
    return 2 if kind == "normal" else 1


def normal_nll(mean: Tensor, log_std: Tensor, y: Tensor) -> Tensor:
    """Per-flow Normal negative log-likelihood of ``y`` (without the constant ½ log 2π); log σ clamped to ±10."""
    log_std = log_std.clamp(*_LOG_STD)
    return log_std + 0.5 * ((y - mean) * torch.exp(-log_std)) ** 2


def binomial_nll(logit: Tensor, k: Tensor, n: Tensor) -> Tensor:
    r"""Per-flow binomial NLL :math:`-[k \log p + (n-k) \log(1-p)]` with :math:`p = \sigma(\mathrm{logit})`.

    Computed from the logit (:math:`-\log p = \mathrm{softplus}(-x)`, :math:`-\log(1-p) = \mathrm{softplus}(x)`), so
    it stays finite for any logit. ``k`` is clamped to ``[0, n]``.

    Examples
    --------
    >>> x = torch.tensor([0.0]); float(binomial_nll(x, torch.tensor([1.0]), torch.tensor([2.0])))  # 2 log 2
    1.3862943649291992
    """
    k = torch.minimum(k.clamp_min(0.0), n)
    return k * F.softplus(-logit) + (n - k) * F.softplus(logit)


def qt_logit(loss: Tensor) -> Tensor:
    """The logit a ``qt_drops`` head's correction is added to: that of queueing theory's per-packet ``loss``.

    Examples
    --------
    >>> p = torch.sigmoid(qt_logit(torch.tensor([0.0, 0.25, 1.0], dtype=torch.float64)))
    >>> [round(v, 12) for v in p.tolist()]
    [1e-09, 0.25, 0.999999999]
    """
    return torch.logit(loss.clamp(QT_LOSS_FLOOR, 1.0 - QT_LOSS_FLOOR))


def decode(kind: str, out: Tensor, packets: Tensor, center: float, scale: float) -> tuple[Tensor, Tensor | None]:
    """A head's output → (prediction, standard deviation or None), both (P,) in SI units.

    ``center``/``scale`` are the KPI's normalisation (median, IQR); ``packets`` the flows' packets :math:`n` (used by
    the binomial head only).
    """
    if kind == "binomial":
        p = torch.sigmoid(out)
        return packets * p, torch.sqrt(packets * p * (1.0 - p))
    if kind == "normal":
        std = torch.exp(out[:, 1].clamp(-20.0, 20.0)) * scale
        return out[:, 0] * scale + center, std
    return out * scale + center, None
