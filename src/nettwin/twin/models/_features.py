"""Choosing feature columns: each model names the raw columns it reads; the batch holds them all."""

from __future__ import annotations

from collections.abc import Sequence

from nettwin._validation import WIDTH, Check, Flag, OneOf
from nettwin.errors import TwinError
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, TRAFFIC_MODELS

__all__ = ["columns", "features", "TRAFFIC", "KPIS", "DEFAULT_KPIS", "HEAD_PARAMS"]

TRAFFIC = ("rate", "mean_rate", "packet_size", "tau_on", "tau_off", *TRAFFIC_MODELS)
"""Path features every learned twin reads by default: the traffic parameters (mean rate included) and the one-hot
traffic model. Twins saved with fewer keep the list they were saved with."""

KPIS = ("delay", "jitter", "throughput", "drops", "drop_rate", "delay_std", "delay_p50", "delay_p90", "delay_p99")
"""KPIs a twin can learn (per-flow, see :mod:`nettwin.sim.kpi`)."""

DEFAULT_KPIS = ("delay", "jitter", "throughput", "drops")

HEAD_PARAMS: dict[str, Check] = {"kpis": OneOf(KPIS, many=True), "readout": WIDTH, "probabilistic": Flag()}
"""Declared ranges of the constructor arguments every model has (:class:`~nettwin.twin.blocks.TwinModel`'s)."""

_KNOWN = {"path": PATH_FEATURES, "link": LINK_FEATURES, "node": NODE_FEATURES}


def features(kind: str) -> OneOf:
    """The check of a ``<kind>_features`` argument: a list of known ``kind`` (path/link/node) feature names."""
    return OneOf(_KNOWN[kind], many=True)


def columns(kind: str, names: Sequence[str], owner: str) -> list[int]:
    """Column indices of ``names`` among the ``kind`` features, with a clear error for unknown names."""
    known = _KNOWN[kind]
    bad = [n for n in names if n not in known]
    if bad:
        raise TwinError(f"{owner}: unknown {kind} feature '{bad[0]}'; known: {', '.join(known)}")
    if not names:
        raise TwinError(f"{owner}: give at least one {kind} feature")
    return [known.index(n) for n in names]
