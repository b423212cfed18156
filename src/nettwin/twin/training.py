"""Training: the loop (Adam, L2, early stopping on validation NMAE) and the strategies STL, MTL and TL.

- **STL** (single-task): one model per KPI, each trained and early-stopped on its own.
- **MTL** (multi-task): one model, a shared embedding and one head per KPI; the loss averages the KPIs.
- **TL** (transfer): pre-train an MTL model on ``source_kpis``, freeze its embedding, train new heads on the KPIs.

Losses are computed on normalised KPIs (``(y − median) / IQR``), so the validation error in those units is the
NMAE. Flows whose target is not finite (e.g. the delay of a flow that received nothing) do not count. Targets are
per flow: a flow split over several paths is predicted path by path and compared aggregated
(:func:`nettwin.twin.flows.flow_outputs`).
Early stopping follows each KPI on its own (:class:`KpiStopping`): a KPI that starts near its best (drops
corrected from queueing theory's estimate) does not end training before the others have been learnt.
Probabilistic heads are trained by likelihood instead (:mod:`nettwin.twin.likelihood`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nettwin.twin.batch import GraphBatch
from nettwin.twin.blocks import TwinModel
from nettwin.twin.flows import flow_outputs
from nettwin.twin.graph import Graph
from nettwin.twin.likelihood import binomial_nll, decode, normal_nll
from nettwin.twin.normalise import Normalisation

__all__ = [
    "TrainConfig",
    "Item",
    "fit_model",
    "KpiStopping",
    "STRATEGIES",
    "SingleTask",
    "MultiTask",
    "Transfer",
    "batch_loss",
    "normalised_mean",
    "validation_nmae",
]

Item = tuple[Graph, dict[str, np.ndarray]]
"""A prepared sample: the network's graph and its per-flow KPI targets in SI units."""


@dataclass
class TrainConfig:
    """Optimisation settings shared by every strategy."""

    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 15
    loss: str = "mae"
    lr_decay: float = 0.5
    max_seconds: float | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    log: Callable[[dict[str, Any]], None] | None = None


def batch_loss(
    out: dict[str, Tensor],
    batch: GraphBatch,
    kpis: Sequence[str],
    kind: str,
    heads: Mapping[str, str],
    norm: Normalisation,
) -> Tensor:
    """Mean over KPIs of the masked per-flow loss (``out``: the model's per-path outputs, aggregated to the flows
    where flows split).

    ``heads`` maps each KPI to its head kind (:meth:`TwinModel.head`): ``point`` heads use the regression loss
    ``kind`` (``mae`` (L1), ``mse``, ``huber``) on normalised values, ``normal`` heads the Normal NLL on normalised
    values, ``binomial`` heads the binomial NLL per packet of the raw counts (``norm`` turns the targets back into
    packets) out of ``batch.flow_packets``. Flows with a non-finite target, or no packets for a binomial head, do not
    count.
    """
    assert batch.y is not None
    out = flow_outputs(heads, out, batch, norm, kpis)
    total = out[kpis[0]].new_zeros(())
    for k in kpis:
        pred, y = out[k], batch.y[k]
        ok = torch.isfinite(y)
        head = heads[k]
        if head == "binomial":
            ok &= batch.flow_packets > 0
        if not bool(ok.any()):
            continue
        y = y[ok]
        if head == "binomial":
            n = batch.flow_packets[ok]
            count = y * norm.kpi_scale[k] + norm.kpi_center[k]
            total = total + (binomial_nll(pred[ok], count, n) / n).mean()
        elif head == "normal":
            total = total + normal_nll(pred[ok, 0], pred[ok, 1], y).mean()
        elif kind == "mse":
            total = total + ((pred[ok] - y) ** 2).mean()
        elif kind == "huber":
            total = total + torch.nn.functional.smooth_l1_loss(pred[ok], y, beta=0.1)
        else:
            total = total + (pred[ok] - y).abs().mean()
    return total / len(kpis)


def normalised_mean(
    model: TwinModel, out: dict[str, Tensor], batch: GraphBatch, kpi: str, norm: Normalisation
) -> Tensor:
    """(F,) the prediction of ``kpi`` for each flow in normalised units, whatever its head (binomial: :math:`n p`);
    ``out`` holds the model's outputs for the batch's flows (:func:`~nettwin.twin.flows.flow_outputs`)."""
    center, scale = norm.kpi_center[kpi], norm.kpi_scale[kpi]
    mean, _ = decode(model.head(kpi), out[kpi], batch.flow_packets, center, scale)
    return (mean - center) / scale


def _collate(items: Sequence[Item], norm: Normalisation, kpis: Sequence[str], device: torch.device) -> GraphBatch:
    return GraphBatch.collate([g for g, _ in items], norm, [t for _, t in items], kpis).to(device)


@torch.no_grad()
def validation_nmae(
    model: TwinModel, batches: Sequence[GraphBatch], kpis: Sequence[str], norm: Normalisation
) -> dict[str, float]:
    """Per-KPI NMAE (normalised units) of a model over pre-collated batches.

    A binomial head's :math:`n` is the batch's (the observed ``tx_packets`` where the targets carry them), so the
    score measures the predicted drop probability rather than how far the offered packets strayed from their mean.
    """
    model.eval()
    err = dict.fromkeys(kpis, 0.0)
    count = dict.fromkeys(kpis, 0)
    heads = {k: model.head(k) for k in kpis}
    for b in batches:
        out = flow_outputs(heads, model(b), b, norm, kpis)
        for k in kpis:
            pred = normalised_mean(model, out, b, k, norm)
            y = b.y[k]
            ok = torch.isfinite(y)
            err[k] += float((pred[ok] - y[ok]).abs().sum())
            count[k] += int(ok.sum())
    return {k: err[k] / count[k] if count[k] else float("nan") for k in kpis}


def kept_record(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The record of the epoch whose weights a training stage kept: the last one marked ``kept`` (histories saved
    before epochs were marked: the lowest ``val_score``)."""
    marked = [r for r in records if r.get("kept")]
    return marked[-1] if marked else min(records, key=lambda r: r["val_score"])


class KpiStopping:
    """Early stopping and checkpoint choice over several KPIs' validation NMAEs.

    An epoch *improves* when at least one KPI beats its own best validation NMAE so far; training stops after
    ``patience`` epochs that improve none. The kept checkpoint is the epoch whose NMAEs, each divided by its KPI's
    best so far, have the lowest mean: every KPI counts by how far it is from what the model has shown it can do,
    whatever its scale. The kept epoch's NMAEs are re-scored against the current bests at every epoch.
    With one KPI this is plain early stopping on its NMAE.
    """

    def __init__(self, patience: int, tol: float = 1e-6) -> None:
        self.patience, self.tol = patience, tol
        self.best: dict[str, float] = {}
        self.kept: dict[str, float] | None = None
        self.stale = 0

    def _relative(self, err: Mapping[str, float]) -> float:
        ratios = [err[k] / max(b, 1e-12) for k, b in self.best.items() if math.isfinite(err.get(k, math.nan))]
        return float(np.mean(ratios)) if ratios else math.inf

    def update(self, err: Mapping[str, float]) -> bool:
        """Record an epoch's per-KPI NMAEs; True when its weights should be kept (the new checkpoint)."""
        improved = False
        for k, v in err.items():
            if math.isfinite(v) and v < self.best.get(k, math.inf) - self.tol:
                self.best[k], improved = v, True
        self.stale = 0 if improved else self.stale + 1
        if self.kept is None or self._relative(err) < self._relative(self.kept) - self.tol:
            self.kept = dict(err)
            return True
        return False

    @property
    def done(self) -> bool:
        """Whether ``patience`` epochs in a row improved no KPI."""
        return self.stale >= self.patience


def fit_model(
    model: TwinModel,
    train: Sequence[Item],
    val: Sequence[Item],
    norm: Normalisation,
    kpis: Sequence[str],
    cfg: TrainConfig,
    rng: np.random.Generator,
    params: Sequence[torch.nn.Parameter] | None = None,
    stage: str = "",
) -> list[dict[str, Any]]:
    """Train ``model`` in place on ``kpis`` with Adam + L2, keeping the weights of the best validation epoch.

    The learning rate is multiplied by ``cfg.lr_decay`` whenever the mean validation NMAE has not improved for
    ``max(2, patience // 3)`` epochs.

    Returns the learning curve: one record per epoch (epoch, train loss, validation NMAE per KPI and mean,
    seconds). Stops after ``cfg.patience`` epochs in which no KPI improved its own best validation NMAE
    (:class:`KpiStopping`, which also chooses the weights kept), after ``cfg.epochs``, or when ``cfg.max_seconds``
    have passed.
    """
    model.to(cfg.device)
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = (
        torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=cfg.lr_decay, patience=max(2, cfg.patience // 3))
        if cfg.lr_decay < 1.0
        else None
    )
    val_batches = [
        _collate(val[i : i + cfg.batch_size * 4], norm, kpis, cfg.device)
        for i in range(0, len(val), cfg.batch_size * 4)
    ]
    heads = {k: model.head(k) for k in kpis}
    stopping, best_state, history = KpiStopping(cfg.patience), copy.deepcopy(model.state_dict()), []
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = rng.permutation(len(train))
        losses = []
        for i in range(0, len(perm), cfg.batch_size):
            batch = _collate([train[j] for j in perm[i : i + cfg.batch_size]], norm, kpis, cfg.device)
            opt.zero_grad(set_to_none=True)
            loss = batch_loss(model(batch), batch, kpis, cfg.loss, heads, norm)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            losses.append(float(loss.detach()))
        val_err = validation_nmae(model, val_batches, kpis, norm) if val_batches else {}
        score = float(np.nanmean(list(val_err.values()))) if val_err else float(np.mean(losses))
        record = {
            "stage": stage,
            "epoch": epoch,
            "train_loss": float(np.mean(losses)),
            "val_nmae": val_err,
            "val_score": score,
            "lr": opt.param_groups[0]["lr"],
            "seconds": time.perf_counter() - start,
        }
        if sched is not None:
            sched.step(score)
        record["kept"] = stopping.update(val_err or {"train_loss": record["train_loss"]})
        if record["kept"]:
            best_state = copy.deepcopy(model.state_dict())
        history.append(record)
        if cfg.log is not None:
            cfg.log(record)
        if stopping.done or (cfg.max_seconds is not None and time.perf_counter() - start > cfg.max_seconds):
            break
    model.load_state_dict(best_state)
    model.eval()
    return history


class Strategy:
    """How KPIs map onto models and how those models are trained."""

    name = ""

    def fit(
        self,
        build: Callable[[Sequence[str]], TwinModel],
        train: Sequence[Item],
        val: Sequence[Item],
        norm: Normalisation,
        kpis: Sequence[str],
        source_kpis: Sequence[str],
        cfg: TrainConfig,
        rng: np.random.Generator,
    ) -> tuple[dict[str, TwinModel], list[dict[str, Any]]]:
        raise NotImplementedError


class SingleTask(Strategy):
    """STL: one model per KPI (models stored under the KPI's name)."""

    name = "stl"

    def fit(self, build, train, val, norm, kpis, source_kpis, cfg, rng):
        models, history = {}, []
        for k in kpis:
            models[k] = build([k])
            history += fit_model(models[k], train, val, norm, [k], cfg, rng, stage=f"stl:{k}")
        return models, history


class MultiTask(Strategy):
    """MTL: one model with a shared embedding and one head per KPI (stored under ``"mtl"``)."""

    name = "mtl"

    def fit(self, build, train, val, norm, kpis, source_kpis, cfg, rng):
        model = build(kpis)
        return {"mtl": model}, fit_model(model, train, val, norm, kpis, cfg, rng, stage="mtl")


class Transfer(Strategy):
    """TL: pre-train on ``source_kpis`` (MTL), freeze the embedding, train new heads on ``kpis`` (``"tl"``)."""

    name = "tl"

    def fit(self, build, train, val, norm, kpis, source_kpis, cfg, rng):
        model = build(source_kpis)
        history = fit_model(model, train, val, norm, source_kpis, cfg, rng, stage="tl:pretrain")
        for p in model.encoder_parameters():
            p.requires_grad_(False)
        model.build_heads(kpis)
        model.to(cfg.device)
        history += fit_model(model, train, val, norm, kpis, cfg, rng, stage="tl:heads")
        return {"tl": model}, history


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (SingleTask(), MultiTask(), Transfer())}
