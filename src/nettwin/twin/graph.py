"""One network as the raw arrays a twin reads: entity features, link endpoints and flow paths (CSR).

A :class:`Graph` is computed once per network (sample) and kept in NumPy; :class:`~nettwin.twin.batch.GraphBatch`
stacks several of them into tensors. Features are raw SI values; :class:`~nettwin.twin.normalise.Normalisation`
scales them.

Columns
-------
path (one per flow): ``rate`` (bit/s while sending), ``mean_rate`` (long-run bit/s), ``packet_size`` (mean bytes),
``tau_on``, ``tau_off`` (s; 0 unless on/off), ``cbr``, ``poisson``, ``onoff`` (one-hot traffic model),
``uniform``, ``normal``, ``ppbp`` (the one-hot continued: models added later come last, so that the columns of
an older twin are a prefix of these; see :meth:`~nettwin.twin.normalise.Normalisation.from_dict`).
link: ``capacity`` (bit/s), ``weight`` (wireless: 1/log(1+d²)), ``delay`` (propagation, s), ``buffer`` (packets),
``load`` (offered long-run bits over capacity).
node: ``out_degree``, ``in_degree``.

Besides the features, each path carries ``path_packets``: the packets the flow is expected to send during the
measured window (:func:`expected_packets`), the :math:`n` of the binomial drops head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nettwin.errors import TwinError
from nettwin.scenario.network import Network
from nettwin.scenario.traffic import TRAFFIC_MODELS

__all__ = [
    "Graph",
    "graph_from_network",
    "expected_packets",
    "PATH_FEATURES",
    "LINK_FEATURES",
    "NODE_FEATURES",
    "TRAFFIC_MODELS",
]

PATH_FEATURES = ("rate", "mean_rate", "packet_size", "tau_on", "tau_off", *TRAFFIC_MODELS)
"""The path columns; new columns are only ever appended (older twins read a prefix of them)."""
LINK_FEATURES = ("capacity", "weight", "delay", "buffer", "load")
NODE_FEATURES = ("out_degree", "in_degree")


@dataclass(frozen=True, eq=False)
class Graph:
    """Raw arrays of one network. Shapes: N nodes, L links, P paths (flows), E path-link entries.

    ``node_x`` (N, len(NODE_FEATURES)), ``link_x`` (L, len(LINK_FEATURES)), ``path_x`` (P, len(PATH_FEATURES)),
    ``link_src``/``link_dst`` (L,) node indices, ``path_ptr`` (P+1,) and ``path_links`` (E,): path ``p`` uses links
    ``path_links[path_ptr[p]:path_ptr[p+1]]`` in packet order; ``flow_src``/``flow_dst`` (P,) node indices;
    ``path_packets`` (P,) expected packets sent per flow over the measured window; ``medium`` the network's
    (``wired`` or ``wireless``), which no feature holds but a twin's training ranges record.
    """

    node_x: np.ndarray
    link_x: np.ndarray
    path_x: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    path_ptr: np.ndarray
    path_links: np.ndarray
    flow_src: np.ndarray
    flow_dst: np.ndarray
    path_packets: np.ndarray
    name: str = ""
    medium: str = "wired"

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    @property
    def n_links(self) -> int:
        return len(self.link_x)

    @property
    def n_paths(self) -> int:
        return len(self.path_x)

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, nodes={self.n_nodes}, links={self.n_links}, paths={self.n_paths})"


def expected_packets(network: Network) -> np.ndarray:
    """(F,) packets each flow is expected to send in the measured window: its long-run packet rate (mean rate over
    mean packet size) times ``duration − warmup``.

    Simulated KPIs count the packets *sent* in ``[warmup, duration)``; before a scenario is simulated, this
    expectation is the best estimate of that count (an on/off or Poisson source sends a random number around it).

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "80kbps", "packet_size": 1000}}],
    ...     "simulation": {"duration": "12s", "warmup": "2s"}}))
    >>> expected_packets(net)
    array([100.])
    """
    window = network.simulation.duration - network.simulation.warmup
    return np.array([f.traffic.packet_rate * window for f in network.flows], dtype=float)


def graph_from_network(network: Network) -> Graph:
    """The raw arrays of a resolved network (see the module docstring for the feature columns).

    Raises
    ------
    TwinError
        If a flow has an empty path.

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> net = build_network(parse_scenario({"topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b"}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "1Mbps"}}]}))
    >>> graph_from_network(net)
    Graph('scenario', nodes=2, links=2, paths=1)
    """
    ptr = np.asarray(network.path_ptr, dtype=np.int64)
    if network.n_flows and np.any(np.diff(ptr) < 1):
        bad = int(np.nonzero(np.diff(ptr) < 1)[0][0])
        raise TwinError(f"flow {bad} of network '{network.name}' has an empty path; a twin needs at least one link")
    path_x = np.zeros((network.n_flows, len(PATH_FEATURES)))
    for i, f in enumerate(network.flows):
        t = f.traffic
        path_x[i, :5] = (t.rate, t.mean_rate, t.packet_size.mean_bytes, t.tau_on or 0.0, t.tau_off or 0.0)
        path_x[i, 5 + TRAFFIC_MODELS.index(t.model)] = 1.0
    n = network.n_nodes
    node_x = np.stack([np.bincount(network.link_src, minlength=n), np.bincount(network.link_dst, minlength=n)], 1)
    link_x = np.stack(
        [network.capacity, network.weight, network.delay, network.buffer, network.offered_load / network.capacity], 1
    )
    return Graph(
        node_x=node_x.astype(float),
        link_x=link_x.astype(float),
        path_x=path_x,
        link_src=np.asarray(network.link_src, dtype=np.int64),
        link_dst=np.asarray(network.link_dst, dtype=np.int64),
        path_ptr=ptr,
        path_links=np.asarray(network.path_links, dtype=np.int64),
        flow_src=np.array([f.src for f in network.flows], dtype=np.int64),
        flow_dst=np.array([f.dst for f in network.flows], dtype=np.int64),
        path_packets=expected_packets(network),
        name=network.name,
        medium=network.medium,
    )
