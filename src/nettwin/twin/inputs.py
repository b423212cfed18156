"""What twins accept, normalised once: networks from anything that names one, training items from samples or
``(network, kpis)`` pairs, and the KPIs to learn from the KPIs the data holds.

Training data is a :class:`~nettwin.data.Dataset` (its train/val splits and manifest IQRs), or samples (objects with
``network()`` and ``kpis()``), or ``(network, {kpi: (F,) array})`` pairs. Predictions take networks, scenarios,
scenario files or samples.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from nettwin.errors import TwinError
from nettwin.scenario.io import as_network as resolve
from nettwin.scenario.network import Network
from nettwin.sim.kpi import DEFAULT_KPIS, FLOW_KPIS
from nettwin.twin.graph import Graph, graph_from_network
from nettwin.twin.training import Item

__all__ = ["as_network", "as_graph", "as_items", "is_dataset", "default_kpis"]


def as_network(x: Any) -> Network:
    """A resolved network from a Network, Scenario, scenario file or dataset sample."""
    if isinstance(x, Network):
        return x
    if hasattr(x, "network") and callable(x.network):
        return x.network()
    return resolve(x)


def as_graph(x: Any) -> Graph:
    """The twin's raw arrays of anything :func:`as_network` accepts (a :class:`Graph` passes through)."""
    return x if isinstance(x, Graph) else graph_from_network(as_network(x))


def as_items(data: Iterable[Any], run: int = 0) -> list[Item]:
    """Training items ``(graph, targets)`` from samples or ``(network, kpis)`` pairs."""
    items = []
    for x in data:
        if isinstance(x, tuple) and len(x) == 2:
            items.append((as_graph(x[0]), {k: np.asarray(v, dtype=float) for k, v in x[1].items()}))
        elif hasattr(x, "kpis"):
            items.append((as_graph(x), {k: np.asarray(v, dtype=float) for k, v in x.kpis(run).items()}))
        else:
            raise TwinError(f"cannot train on a {type(x).__name__}; give samples or (network, kpis) pairs")
    return items


def is_dataset(x: Any) -> bool:
    """Whether ``x`` is a dataset (its splits, manifest and IQRs) rather than samples or pairs."""
    return hasattr(x, "samples") and hasattr(x, "manifest")


def default_kpis(held: Iterable[str], where: str = "the training data") -> tuple[list[str], list[str]]:
    """The KPIs a twin learns when none are named: those of :data:`DEFAULT_KPIS` that data holding the KPIs
    ``held`` has, in that order; and the default KPIs left out because it lacks them.

    Imported datasets often hold only some KPIs (a source without jitter, one without throughput), so the default
    adapts to the data, while KPIs named explicitly must all be there.

    Raises
    ------
    TwinError
        If the data holds none of the default KPIs (the message lists those it holds, to name instead).
    """
    held = set(held)
    kept = [k for k in DEFAULT_KPIS if k in held]
    if not kept:
        others = [k for k in FLOW_KPIS if k in held]
        raise TwinError(
            f"{where} holds none of the default KPIs ({', '.join(DEFAULT_KPIS)}); name the KPIs to learn from "
            f"those it holds: {', '.join(others) or 'none'}"
        )
    return kept, [k for k in DEFAULT_KPIS if k not in held]
