"""Traffic engineering on the shared :class:`~nettwin.scenario.network.Network`: instances built from it, solutions
applied back to it as split flows.

* :func:`network_graph` — the TE graph of a network: link ``i`` of the graph is link ``i`` of the network (same
  direction, capacity and delay), so that a link index means the same link in both.
* :func:`flow_demands` — the network's flows as a traffic matrix: each flow's long-run mean rate, summed per
  source–destination pair.
* :func:`network_instance` — a TE instance over the network's links, for its own flows or a given matrix.
* :func:`apply_split` — the network with every flow of a pair the instance routes split over the pair's candidate
  paths by the solver's ratios (a network edit, :class:`~nettwin.scenario.edits.ChangePaths`).

Examples
--------
>>> from nettwin.scenario import parse_scenario
>>> from nettwin.scenario.network import build_network
>>> from nettwin.te.lp import LPSolver
>>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b", "c"], "links": [
...     {"src": "a", "dst": "b", "capacity": "10Mbps"}, {"src": "a", "dst": "c", "capacity": "30Mbps"},
...     {"src": "c", "dst": "b", "capacity": "30Mbps"}]},
...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "20Mbps"}}]}))
>>> inst = network_instance(net)
>>> split = apply_split(net, inst, LPSolver().solve(inst))
>>> split.flows[0].route_shares, (split.offered_load / split.capacity).tolist()
((0.25, 0.75), [0.5, 0.0, 0.5, 0.0, 0.5, 0.0])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nettwin.errors import ScenarioError, TEError
from nettwin.scenario.edits import ChangePaths, apply_edits
from nettwin.scenario.network import Network
from nettwin.te.files import file_instances
from nettwin.te.graph import TEGraph, paired_physical
from nettwin.te.instance import TEInstance, check_ratios

__all__ = ["network_graph", "flow_demands", "network_instance", "apply_split", "MIN_SHARE"]

MIN_SHARE = 1e-9
"""Split ratios at or below this are a solver's rounding, not a path to send packets on: :func:`apply_split`
drops them and renormalises the rest."""


def network_graph(network: Network) -> TEGraph:
    """The TE graph of ``network``: a view of its links (graph link ``i`` is network link ``i``, with its capacity
    and delay; :attr:`TEGraph.network` is ``network``), a link and its reverse one physical link.

    Raises
    ------
    TEError
        If two links join the same nodes in the same direction.
    """
    return TEGraph(network, paired_physical(network.name, network.nodes, network.link_src, network.link_dst))


def flow_demands(network: Network) -> np.ndarray:
    """``(N, N)`` traffic matrix (bit/s) of ``network``'s flows: each flow's long-run mean rate, summed per pair."""
    out = np.zeros((network.n_nodes, network.n_nodes))
    src = np.fromiter((f.src for f in network.flows), dtype=np.int64, count=network.n_flows)
    dst = np.fromiter((f.dst for f in network.flows), dtype=np.int64, count=network.n_flows)
    rate = np.fromiter((f.traffic.mean_rate for f in network.flows), dtype=float, count=network.n_flows)
    np.add.at(out, (src, dst), rate)
    return out


def network_instance(
    network: Network,
    demands: np.ndarray | None = None,
    k: int = 4,
    method: str = "yen",
    progress: Callable[[int, int], None] | None = None,
) -> TEInstance:
    """A TE instance over ``network``'s links (:func:`network_graph`).

    Parameters
    ----------
    network : the network; its links are the instance's links, same indices.
    demands : ``(N, N)`` traffic matrix (bit/s) in the network's node order; None takes the network's own flows
        (:func:`flow_demands`), and the instance is then named after the network.
    k, method : candidate paths per pair (:func:`~nettwin.te.paths.compute_paths`).
    progress : called with ``(pairs done, pairs)`` while paths are found.

    Raises
    ------
    TEError
        If the network has parallel links in one direction, the matrix does not fit, it is all zero, or a pair
        with demand has no path.
    """
    graph = network_graph(network)
    if demands is None:
        inst = file_instances(graph, flow_demands(network)[None], k, method, progress)[0]
        return inst.with_demand(inst.demand, name=network.name, traffic="flows")
    matrix = np.asarray(demands, dtype=np.float64)
    if matrix.shape != (network.n_nodes, network.n_nodes):
        n = network.n_nodes
        raise TEError(f"a traffic matrix for '{network.name}' must have shape ({n}, {n}), got {matrix.shape}")
    return file_instances(graph, matrix[None], k, method, progress)[0]


def apply_split(network: Network, instance: TEInstance, ratios: np.ndarray, min_share: float = MIN_SHARE) -> Network:
    """``network`` with its flows split over their pair's candidate paths by ``ratios``.

    Every flow whose source–destination pair the instance routes is pinned to that pair's split (paths with a ratio
    at or below ``min_share`` left out, the others renormalised) by the network edit
    :class:`~nettwin.scenario.edits.ChangePaths`, so that the result is a validated network later edits treat as any
    other; a pair's flows share its ratios. Flows of pairs the instance does not route (no demand in its traffic
    matrix) keep their paths. When the instance's traffic matrix is the network's flows (:func:`network_instance`
    without ``demands``), the result's :attr:`~nettwin.scenario.network.Network.offered_load` is
    :meth:`TEInstance.loads` of ``ratios`` — unless the network's ``routing.split`` is ``flow``, under which each flow
    takes one of its pair's paths, drawn by the ratios from its hash (as the scenario format does).

    Raises
    ------
    TEError
        If ``instance`` was not built over ``network``'s links, ``ratios`` are not split ratios of it, or the
        network refuses a split (a flow's class without a queue on a path, for one).
    """
    graph = instance.graph
    if (
        graph.n_links != network.n_links
        or not np.array_equal(graph.links[:, 0], network.link_src)
        or not np.array_equal(graph.links[:, 1], network.link_dst)
    ):
        raise TEError(
            f"instance '{instance.name}' does not route over the links of network '{network.name}'; build it with "
            "network_instance(network)"
        )
    x = check_ratios(instance, ratios)
    ps = instance.paths
    splits: dict[int, tuple[list[list[str]], list[float]]] = {}
    for p, (s, _) in enumerate(ps.pairs.tolist()):
        qs = [q for q in range(ps.pair_ptr[p], ps.pair_ptr[p + 1]) if x[q] > min_share]
        nodes = [[network.nodes[s], *(network.nodes[network.link_dst[link]] for link in ps.path(q))] for q in qs]
        splits[p] = (nodes, x[qs].tolist())
    pair_of = {(int(s), int(t)): p for p, (s, t) in enumerate(ps.pairs.tolist())}
    edits = [
        ChangePaths(i, *splits[pair_of[(f.src, f.dst)]])
        for i, f in enumerate(network.flows)
        if (f.src, f.dst) in pair_of
    ]
    try:
        return apply_edits(network, edits)
    except ScenarioError as err:
        raise TEError(f"network '{network.name}' refuses the split: {err}") from err
