"""An engine that routes by itself, as OLSR does in ns-3: the built-in engine on paths of its own choosing.

Each flow whose shortest path has an alternative avoiding its first link is sent over the shortest such detour; the
result reports the paths actually taken, like :class:`~nettwin.sim.ns3.Ns3Engine` does for wireless networks.
"""

from __future__ import annotations

import networkx as nx

from nettwin.scenario import build_network
from nettwin.scenario.network import Network
from nettwin.sim.builtin import BuiltinEngine
from nettwin.sim.engine import register_engine
from nettwin.sim.result import SimResult


def detour_paths(network: Network) -> list[list[int]]:
    """Each flow's node path avoiding the first link of its shortest path (the shortest path where none exists)."""
    graph = nx.DiGraph(list(zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True)))
    paths = []
    for f, flow in enumerate(network.flows):
        shortest = list(network.path_nodes(f))
        pruned = graph.copy()
        pruned.remove_edge(shortest[0], shortest[1])
        try:
            paths.append(nx.shortest_path(pruned, flow.src, flow.dst))
        except nx.NetworkXNoPath:
            paths.append(shortest)
    return paths


class DetourEngine(BuiltinEngine):
    name = "detour"

    def simulate(self, network: Network, *, seed: int | None = None, run: int = 0) -> SimResult:
        scenario = network.scenario
        flows = [f.model_copy(update={"path": p}) for f, p in zip(scenario.flows, detour_paths(network), strict=True)]
        rerouted = build_network(scenario.model_copy(update={"flows": flows}))
        return super().simulate(rerouted, seed=seed, run=run)


register_engine("detour", DetourEngine)
