"""Choosing feature columns: each model names the raw columns it reads; the batch holds them all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nettwin._validation import WIDTH, Check, Flag, OneOf
from nettwin.errors import TwinError
from nettwin.sim.kpi import FLOW_KPIS
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, SCALE_FREE, TRAFFIC_MODELS

__all__ = ["columns", "features", "scale_free_options", "TRAFFIC", "HEAD_PARAMS"]

TRAFFIC = ("rate", "mean_rate", "packet_size", "tau_on", "tau_off", *TRAFFIC_MODELS)
"""Path features every learned twin reads by default: the traffic parameters (mean rate included) and the one-hot
traffic model. Twins saved with fewer keep the list they were saved with."""

HEAD_PARAMS: dict[str, Check] = {
    "kpis": OneOf(tuple(FLOW_KPIS), many=True),
    "readout": WIDTH,
    "probabilistic": Flag(),
    "qt_drops": Flag(),
}
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


# Propagation is left out: it adds to a flow's delay exactly, changes no queue, and a relative delay is learnt
# without it (see Twin(relative_delay=True)); as an input it only pushed faster links outside the range learnt.
_PATH = tuple(c for c in SCALE_FREE["path"] if c != "prop_ratio")
_LINK = tuple(c for c in SCALE_FREE["link"] if c != "prop_ratio")
_FERMI_QUEUE = ("buffer", "qt_blocking", "qt_delay", "qt_exact")
_SCALE_FREE_OPTIONS = {
    "glance": {"path_features": _PATH, "link_features": _LINK, "node_features": SCALE_FREE["node"]},
    "routenet": {"path_features": _PATH, "link_features": _LINK},
    "routenet_fermi": {
        "path_features": _PATH,
        "link_features": tuple(c for c in _LINK if c not in _FERMI_QUEUE),
        "queue_features": _FERMI_QUEUE,
        "hop_readout": "share",
    },
    "gnn": {
        "path_features": _PATH,
        "link_features": ("load", "log_capacity", "qt_utilisation", "qt_blocking", "qt_delay"),
        "node_features": SCALE_FREE["node"],
    },
}


def scale_free_options(model: str) -> dict[str, Any]:
    """The feature-column options that give ``model`` only scale-free inputs (:data:`~nettwin.twin.graph.SCALE_FREE`:
    loads, ratios to transmission times, queueing theory's estimates, scheduling and classes; not propagation), e.g.
    ``Twin("glance", options=scale_free_options("glance"))``; Fermi's queue states get the buffer and the queueing
    estimates, its link states the rest, and its delay is read by each hop's share of the transmission times (meant
    for ``Twin(relative_delay=True)``)."""
    if model not in _SCALE_FREE_OPTIONS:
        raise TwinError(f"no scale-free inputs for model '{model}'; known: {', '.join(_SCALE_FREE_OPTIONS)}")
    return {k: v if isinstance(v, str) else list(v) for k, v in _SCALE_FREE_OPTIONS[model].items()}
