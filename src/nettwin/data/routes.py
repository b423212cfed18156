"""The routes a dataset records for each sample, and the scenario that pins its flows to them.

A sample stores each flow's node path (``paths``: the path of a flow on one path, a split flow's main one) and, when
some flow splits its packets over several paths (weighted ``paths`` or ECMP), every path of every flow with its
share (``routes``, ``route_shares``). Reading the sample back pins each flow to what was recorded, so the network
it is rebuilt into has the routes its KPIs were measured on whatever routing computes today.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nettwin.scenario.network import Network, node_ref
from nettwin.scenario.spec import Scenario, WeightedPath

__all__ = ["route_columns", "pinned_route", "pin_routes"]

NodePath = Sequence[int]


def route_columns(network: Network) -> dict[str, Any]:
    """The ``routes`` and ``route_shares`` columns of a sample of ``network``: per flow, the node path of each of its
    paths and their shares; both None when no flow splits (``paths`` then says all)."""
    if not network.multipath:
        return {"routes": None, "route_shares": None}
    return {
        "routes": [[[f.src, *(int(network.link_dst[k]) for k in p)] for p in f.routes] for f in network.flows],
        "route_shares": [list(f.route_shares) for f in network.flows],
    }


def pinned_route(
    nodes: tuple[str, ...],
    path: NodePath,
    routes: Sequence[NodePath] | None = None,
    shares: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The fields of a flow (scenario format, node references) that fix its route: ``path``, or for a flow recorded
    on several ``routes``, ``paths`` with their ``shares``."""
    if routes is not None and len(routes) > 1:
        weighted = [
            {"path": [node_ref(nodes, n) for n in p], "share": float(s)}
            for p, s in zip(routes, shares or (), strict=True)
        ]
        return {"path": None, "paths": weighted}
    return {"path": [node_ref(nodes, n) for n in path], "paths": None}


def pin_routes(
    scenario: Scenario,
    nodes: tuple[str, ...],
    paths: Sequence[NodePath],
    routes: Sequence[Sequence[NodePath]] | None = None,
    shares: Sequence[Sequence[float]] | None = None,
) -> Scenario:
    """``scenario`` with each flow pinned to its recorded node path, or to its recorded paths and shares where
    ``routes`` (per flow) are given; ``nodes`` are the topology's node names."""
    flows = []
    for i, f in enumerate(scenario.flows):
        fields = pinned_route(
            nodes, paths[i], None if routes is None else routes[i], None if shares is None else shares[i]
        )
        if fields["paths"] is not None:
            fields["paths"] = [WeightedPath(**p) for p in fields["paths"]]
        flows.append(f.model_copy(update=fields))
    return scenario.model_copy(update={"flows": flows})
