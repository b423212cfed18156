"""Choosing feature columns: each model names the raw columns it reads; the batch holds them all."""

from __future__ import annotations

from collections.abc import Sequence

from nettwin.errors import TwinError
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES

__all__ = ["columns", "TRAFFIC", "DEFAULT_KPIS"]

TRAFFIC = ("rate", "mean_rate", "packet_size", "tau_on", "tau_off", "cbr", "poisson", "onoff")
"""Path features every learned twin reads by default: the traffic parameters (mean rate included)."""

DEFAULT_KPIS = ("delay", "jitter", "throughput", "drops")

_KNOWN = {"path": PATH_FEATURES, "link": LINK_FEATURES, "node": NODE_FEATURES}


def columns(kind: str, names: Sequence[str], owner: str) -> list[int]:
    """Column indices of ``names`` among the ``kind`` features, with a clear error for unknown names."""
    known = _KNOWN[kind]
    bad = [n for n in names if n not in known]
    if bad:
        raise TwinError(f"{owner}: unknown {kind} feature '{bad[0]}'; known: {', '.join(known)}")
    if not names:
        raise TwinError(f"{owner}: give at least one {kind} feature")
    return [known.index(n) for n in names]
