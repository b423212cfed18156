"""Normalisation statistics learned from a training set: feature standardisation and KPI scaling.

Features: ``(x − mean) / std`` per column (``std`` 1 where a column is constant). KPIs: ``(y − median) / IQR``,
the IQR being the one NMAE divides by, so an error of 1 in normalised units is an NMAE of 1. A KPI learnt
*relative* (:data:`RELATIVE_KPIS`) is first replaced by the log of its queueing part (the delay less the
propagation along the path, which is exact) over the flow's transmission times along its path
(:func:`~nettwin.twin.graph.delay_parts`), so that an error in normalised units is a relative one, and a network
whose links are all k times faster, with k times the traffic, has the same targets. The delay's spreads
(:data:`SPREAD_KPIS`) have no propagation part: they are taken whole over the transmission times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from nettwin import metrics
from nettwin._validation import NumberMap, finite, short_repr, validate_params
from nettwin.errors import TwinError
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, Graph

__all__ = ["Normalisation", "RELATIVE_KPIS", "SPREAD_KPIS"]

SPREAD_KPIS = ("delay_std", "jitter")
"""The delay's spreads: relative KPIs without a propagation part (it does not vary from packet to packet)."""

RELATIVE_KPIS = ("delay", "delay_p50", "delay_p90", "delay_p99", *SPREAD_KPIS)
"""KPIs that can be learnt relative to transmission times: the delays and their spreads, whose error is judged
relative (MAPE)."""

_FLOOR = 1e-3
"""The smallest ratio of queueing to transmission time a relative target takes (a mean queueing time is never below
about one transmission time; percentiles and measured delays may be a little)."""

BEYOND = np.log(10.0)
"""How far (in log units) a relative prediction may go beyond the largest log ratio seen in training: a twin
extrapolating from inputs it never saw may predict any log ratio, which the exponential would make a delay of
seconds where milliseconds were seen; up to 10 times the largest queueing (in transmission times) learnt passes."""

Parts = tuple[np.ndarray, np.ndarray]
"""Each flow's transmission times along its path and its propagation (:func:`~nettwin.twin.graph.delay_parts`)."""

_EARLIER_COLUMNS = {"path": (8, 11), "link": (5,), "node": (2,)}
"""Numbers of columns of each kind in earlier versions (path: before the uniform, normal and ppbp one-hot columns,
then before the scale-free, queueing-theory and class columns; link and node: before theirs): their statistics are
extended with mean 0, deviation 1 for the later columns, which the twins saved then never read."""


def _moments(blocks: list[np.ndarray]) -> tuple[list[float], list[float]]:
    x = np.concatenate(blocks, axis=0) if blocks else np.zeros((0, 0))
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    std = x.std(axis=0) if len(x) else np.ones(x.shape[1])
    std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1e-300), std, 1.0)
    return [float(m) for m in mean], [float(s) for s in std]


@dataclass
class Normalisation:
    """Per-column mean/std of node, link and path features; per-KPI centre (median) and scale (IQR)."""

    node: tuple[list[float], list[float]]
    link: tuple[list[float], list[float]]
    path: tuple[list[float], list[float]]
    kpi_center: dict[str, float] = field(default_factory=dict)
    kpi_scale: dict[str, float] = field(default_factory=dict)
    relative: tuple[str, ...] = ()
    relative_max: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        graphs: Sequence[Graph],
        targets: Sequence[Mapping[str, np.ndarray]],
        kpis: Sequence[str],
        iqr: Mapping[str, float] | None = None,
        relative: Sequence[str] = (),
    ) -> Normalisation:
        """Statistics of a training set; ``iqr`` (e.g. from a dataset manifest) overrides the computed IQRs of the
        KPIs learnt as they are; ``relative`` names the KPIs (of :data:`RELATIVE_KPIS`) learnt relative."""
        if not graphs:
            raise TwinError("cannot fit normalisation statistics on an empty training set")
        bad = [k for k in relative if k not in RELATIVE_KPIS]
        if bad:
            raise TwinError(f"KPI '{bad[0]}' cannot be learnt relative; those that can: {', '.join(RELATIVE_KPIS)}")
        center, scale, largest = {}, {}, {}
        flow_parts = [g.flow_parts() for g in graphs]
        parts = (np.concatenate([p[0] for p in flow_parts]), np.concatenate([p[1] for p in flow_parts]))
        for k in kpis:
            try:
                y = np.concatenate([np.asarray(t[k], dtype=float) for t in targets])
            except KeyError:
                raise TwinError(f"training samples have no KPI '{k}'") from None
            if k in relative:
                y = _log_ratio(k, y, parts)
            finite = y[np.isfinite(y)]
            if k in relative:
                largest[k] = float(finite.max()) if len(finite) else 0.0
            center[k] = float(np.median(finite)) if len(finite) else 0.0
            given = None if k in relative else (iqr or {}).get(k)
            scale[k] = float(given) if given is not None and given > 0 else metrics.iqr(y)
        return cls(
            node=_moments([g.node_x for g in graphs]),
            link=_moments([g.link_x for g in graphs]),
            path=_moments([g.path_x for g in graphs]),
            kpi_center=center,
            kpi_scale=scale,
            relative=tuple(k for k in kpis if k in relative),
            relative_max=largest,
        )

    def features(self, kind: str, x: np.ndarray) -> np.ndarray:
        """Standardised copy of a raw ``kind`` (node/link/path) feature block."""
        mean, std = getattr(self, kind)
        return (x - np.asarray(mean)) / np.asarray(std)

    def kpi(self, name: str, y: np.ndarray | torch.Tensor, parts: Parts | None = None) -> np.ndarray | torch.Tensor:
        """KPI values in normalised units; relative KPIs need the flows' delay ``parts``. Tensors stay tensors (and
        differentiable)."""
        if not isinstance(y, torch.Tensor):
            y = np.asarray(y, dtype=float)
        if name in self.relative:
            y = _log_ratio(name, y, parts)
        return (y - self.kpi_center[name]) / self.kpi_scale[name]

    def absolute(
        self, name: str, value: torch.Tensor, std: torch.Tensor | None, tx: torch.Tensor, propagation: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A KPI's prediction and deviation decoded from a head (SI units, or for a relative KPI in log units) in
        SI units; ``tx`` and ``propagation`` are the flows' delay parts."""
        if name not in self.relative:
            return value, std
        if name in self.relative_max:
            value = value.clamp_max(self.relative_max[name] + BEYOND)
        queueing = torch.exp(value) * tx
        if name in SPREAD_KPIS:
            propagation = torch.zeros_like(propagation)
        return queueing + propagation, None if std is None else std * queueing  # a log deviation is a relative one

    def to_dict(self) -> dict:
        return {
            "node": [list(self.node[0]), list(self.node[1])],
            "link": [list(self.link[0]), list(self.link[1])],
            "path": [list(self.path[0]), list(self.path[1])],
            "kpi_center": dict(self.kpi_center),
            "kpi_scale": dict(self.kpi_scale),
            "relative": list(self.relative),
            "relative_max": dict(self.relative_max),
        }

    @classmethod
    def from_dict(cls, data: Any, owner: str = "normalisation", where: str = "normalisation") -> Normalisation:
        """Statistics read back from :meth:`to_dict`'s form, each checked before use.

        Raises
        ------
        TwinError
            Naming the field at fault (``owner``: the file; ``where``: the field holding ``data``): not a mapping,
            feature means and standard deviations that are not one finite number per feature column (deviations
            > 0), KPI centres that are not finite numbers or scales that are not > 0.
        """
        if not isinstance(data, dict):
            raise TwinError(f"{owner}: '{where}' must be a mapping of statistics; got {short_repr(data)}")
        blocks = {}
        for kind, names in (("node", NODE_FEATURES), ("link", LINK_FEATURES), ("path", PATH_FEATURES)):
            value = data.get(kind)
            n = len(names)
            widths = (n, *_EARLIER_COLUMNS[kind])
            ok = (
                isinstance(value, list | tuple)
                and len(value) == 2
                and all(isinstance(v, list | tuple) and len(v) in widths and all(finite(x) for x in v) for v in value)
                and len(value[0]) == len(value[1])
                and all(s > 0 for s in value[1])
            )
            if not ok:
                raise TwinError(
                    f"{owner}: '{where}.{kind}' must be [means, standard deviations], {n} finite numbers each "
                    f"(deviations > 0); got {short_repr(value)}"
                )
            pad = n - len(value[0])
            blocks[kind] = ([float(x) for x in value[0]] + [0.0] * pad, [float(x) for x in value[1]] + [1.0] * pad)
        validate_params(
            owner,
            data,
            {"kpi_center": NumberMap(), "kpi_scale": NumberMap(positive=True)},
            TwinError,
            prefix=where,
        )
        kpis = {k: {name: float(v) for name, v in data[k].items()} for k in ("kpi_center", "kpi_scale")}
        relative = data.get("relative", [])  # absent from statistics saved before relative KPIs
        if not (isinstance(relative, list | tuple) and all(k in RELATIVE_KPIS for k in relative)):
            raise TwinError(
                f"{owner}: '{where}.relative' must be a list of KPIs among {', '.join(RELATIVE_KPIS)}; "
                f"got {short_repr(relative)}"
            )
        validate_params(owner, data, {"relative_max": NumberMap()}, TwinError, prefix=where, given_only=True)
        largest = {name: float(v) for name, v in data.get("relative_max", {}).items()}  # absent before the bound
        return cls(**blocks, **kpis, relative=tuple(relative), relative_max=largest)


def _log_ratio(name: str, y: np.ndarray, parts: Parts | None) -> np.ndarray:
    """log(queueing / transmission time), the queueing being ``y`` less the propagation (all of ``y`` for a spread)."""
    if parts is None:
        raise TwinError("a KPI learnt relative needs the flows' transmission times and propagation")
    tx, propagation = parts
    queueing = y if name in SPREAD_KPIS else y - propagation
    if isinstance(y, torch.Tensor):
        return torch.log(torch.maximum(queueing, _FLOOR * tx) / tx)
    return np.log(np.maximum(queueing, _FLOOR * tx) / tx)
