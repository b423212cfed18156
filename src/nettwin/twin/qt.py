"""Queueing theory as a twin: the M/M/1/b fixed-point model of :mod:`nettwin.sim.analytic` behind the twin contract.

It learns nothing: ``fit`` only records the KPIs and their training IQRs (for :meth:`score`), so every report can
put the analytic baseline next to the learned twins and the simulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nettwin import metrics
from nettwin._checkpoint import EstimatorPayload
from nettwin._validation import Check, OneOf, check_known, validate_params
from nettwin.errors import TwinError
from nettwin.scenario.network import Network
from nettwin.sim.kpi import DEFAULT_KPIS, FLOW_KPIS
from nettwin.twin.base import BaseTwin
from nettwin.twin.checkpoint import checked_meta, write_checkpoint
from nettwin.twin.inputs import as_items, as_network, default_kpis, is_dataset

__all__ = ["QueueingTwin"]


class QueueingTwin(BaseTwin):
    """The queueing-theory baseline as a twin.

    Parameters
    ----------
    kpis : KPIs reported; None (the default) reports those of delay, jitter, throughput, drops the training data
        holds (all four when fitted on nothing), as a learned twin does (:func:`~nettwin.twin.inputs.default_kpis`).

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "1Mbps"}}]}))
    >>> QueueingTwin().fit([]).predict(net)["throughput"].round()
    array([1000000.])
    """

    kind = "qt"
    display = "QT"

    _CHECKS: ClassVar[dict[str, Check]] = {"kpis": OneOf(tuple(FLOW_KPIS), many=True, none_ok=True)}
    """The declared range of every constructor argument."""

    def __init__(self, kpis: Sequence[str] | None = None) -> None:
        self.kpis = kpis

    def get_params(self) -> dict[str, Any]:
        return {"kpis": list(self.kpis) if self.kpis is not None else None}

    def fit(
        self, train: Any = (), val: Any = None, *, iqr: Mapping[str, float] | None = None, callback: Any = None
    ) -> QueueingTwin:
        """Record the KPIs and their IQRs (given, from a dataset's manifest, or from ``train``); returns ``self``."""
        validate_params("QueueingTwin", {"kpis": self.kpis}, self._CHECKS, TwinError)
        dataset = is_dataset(train)
        items = [] if dataset else as_items(train)
        if dataset:
            held, where = set(train.kpis), str(train.path)
        else:
            held = set.intersection(*(set(t) for _, t in items)) if items else set(DEFAULT_KPIS)
            where = "the training data"
        kpis = default_kpis(held, where)[0] if self.kpis is None else list(self.kpis)
        lacking = [k for k in kpis if k not in held]
        if items and lacking:
            raise TwinError(
                f"QueueingTwin.fit: the training data has no '{lacking[0]}'; it holds "
                f"{', '.join(k for k in FLOW_KPIS if k in held) or 'no KPI a twin learns'}"
            )
        given = {k: float(v) for k, v in (iqr or {}).items() if v and v > 0}
        if iqr is None and dataset:
            given = {k: v for k in kpis if (v := float(train.iqr(k))) > 0}
        missing = [k for k in kpis if k not in given]
        if missing:
            if dataset:
                values = {k: train.kpi(k, "train") for k in missing}
            else:
                values = {k: np.concatenate([t[k] for _, t in items]) if items else np.zeros(0) for k in missing}
            given.update({k: metrics.iqr(values[k]) for k in missing})
        iqr = given
        self.iqr_ = {k: float(iqr.get(k, 1.0)) for k in kpis}
        self.kpis_ = kpis
        return self

    def _model(self):
        from nettwin.sim.analytic import QueueingModel

        return QueueingModel()

    def predict_network(self, network: Network, *, per_path: bool = False) -> dict[str, np.ndarray]:
        """The model's KPIs of one network's flows (``per_path``: of its paths, see :meth:`predict`)."""
        if per_path:
            result = self._model().simulate(network.subflows())
            table = {"flow": network.route_flow, "share": network.route_share}
        else:
            result = self._model().simulate(network)
            table = {}
        return table | {k: np.asarray(result.flows[k], dtype=float) for k in self.kpis_}

    def predict(self, networks: Any, *, per_path: bool = False) -> Any:
        """Per-flow KPIs (SI units) of one network (→ dict) or a sequence of networks (→ list of dicts).

        A flow split over several paths aggregates its paths' KPIs by share (:mod:`nettwin.sim.analytic.model`). With
        ``per_path``, each dict holds the paths' own KPIs instead, (R,) arrays over every path of every flow, flow by
        flow, with ``flow`` (the flow of each) and ``share`` (its share of the flow's packets).
        """
        self._check_fitted()
        single = not isinstance(networks, list | tuple)
        nets = [as_network(x) for x in ([networks] if single else networks)]
        preds = [self.predict_network(n, per_path=per_path) for n in nets]
        return preds[0] if single else preds

    def save(self, path: str | Path) -> None:
        """Write the (parameter-only) checkpoint."""
        self._check_fitted()
        write_checkpoint(path, self.kind, self.get_params(), {"meta": {"kpis": self.kpis_, "iqr": self.iqr_}})

    @classmethod
    def _from_checkpoint(cls, payload: EstimatorPayload, device: str | None, owner: str) -> QueueingTwin:
        """The twin of a checkpoint written by :meth:`save`, its parameters and KPIs checked (``device`` unused)."""
        if payload.name != cls.kind:
            raise TwinError(f"{owner}: a checkpoint of twin {payload.name!r}, not of queueing theory ('qt')")
        check_known(owner, payload.params, cls.param_names(), TwinError, prefix="params")
        validate_params(owner, payload.params, cls._CHECKS, TwinError, prefix="params")
        meta = checked_meta(payload.state, owner, required=("kpis", "iqr"))
        twin = cls(**payload.params)
        twin.kpis_ = list(meta["kpis"])
        twin.iqr_ = dict(meta["iqr"])
        return twin
