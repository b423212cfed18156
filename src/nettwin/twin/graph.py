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

Then the columns that keep their value when a network grows or its links get faster: with every capacity and rate
multiplied by k and every time divided by k, they do not change (:data:`SCALE_FREE`), and they grow with nothing
that grows with the network's size. ``tx_time`` is the reference they are relative to.

path: ``tx_time`` (s: the flow's mean packet sent once over each link of its path), ``rate_ratio`` and
``peak_ratio`` (mean and sending rate over the smallest capacity on the path), ``on_ratio`` and ``off_ratio``
(log(1 + τ / the packet's transmission time at that bottleneck)), ``prop_ratio`` (log(1 + propagation along the path
/ ``tx_time``)); queueing theory's estimates (:func:`nettwin.sim.analytic.estimates`): ``qt_delay`` (log(1 + the
queueing along the path, waiting and sending, over ``tx_time``): a log, as the relative delays twins learn, and
from 0 to a few hundred transmission times), ``qt_loss`` (drop probability), ``qt_exact`` (1 when the
model describes every link of the path as scheduled); the flow's class of service: ``tos`` (its class),
``priority`` (mean over its strict-priority links of class / (queues − 1): 0 the first queue served, 1 the last),
``share`` (mean over its WFQ and DRR links of its queue's weight over the link's total), ``scheduled`` (the share
of its links that are not FIFO).
link: ``tx_time`` (s: mean packet of the traffic routed over it, else the network's, over capacity),
``log_capacity`` (log of capacity over the network's median capacity), ``prop_ratio`` (log(1 + propagation /
``tx_time``)); ``qt_utilisation``, ``qt_blocking`` (share of arriving packets dropped), ``qt_delay`` (log(1 + mean
sojourn over ``tx_time``); 0 without traffic), ``qt_exact`` (0 at WFQ and DRR links, which the model takes as one FIFO
queue of all their buffers, and everywhere when it cannot describe the network: wireless, no flows); the
scheduling: ``fifo``, ``sp``, ``wfq``, ``drr`` (one-hot policy), ``queues``.
node: ``out_load``, ``in_load`` (mean ``load`` of the node's outgoing and incoming links).

Besides the features, each path carries ``path_packets``: the packets the flow is expected to send during the
measured window (:func:`expected_packets`), the :math:`n` of the binomial drops head.

A flow split over several paths is one path entry per path, each a flow of its own carrying the path's share of the
traffic (:meth:`~nettwin.scenario.network.Network.subflows`: the features above are those of that share);
``path_flow`` and ``path_share`` map the entries back to their flows, whose KPIs aggregate their paths' by share
(:func:`nettwin.sim.kpi.aggregate_routes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nettwin.errors import TwinError
from nettwin.scenario.network import FIFO, SP, Network
from nettwin.scenario.spec import SCHEDULING_POLICIES
from nettwin.scenario.traffic import TRAFFIC_MODELS
from nettwin.sim.analytic.model import estimates

__all__ = [
    "Graph",
    "graph_from_network",
    "expected_packets",
    "PATH_FEATURES",
    "LINK_FEATURES",
    "NODE_FEATURES",
    "TRAFFIC_MODELS",
    "SCALE_FREE",
    "delay_parts",
]

_QOS_PATH = ("tos", "priority", "share", "scheduled")
PATH_FEATURES = (
    *("rate", "mean_rate", "packet_size", "tau_on", "tau_off", *TRAFFIC_MODELS),
    *("tx_time", "rate_ratio", "peak_ratio", "on_ratio", "off_ratio", "prop_ratio", "qt_delay", "qt_loss"),
    *("qt_exact", *_QOS_PATH),
)
"""The path columns; new columns are only ever appended (older twins read a prefix of them)."""
LINK_FEATURES = (
    *("capacity", "weight", "delay", "buffer", "load", "tx_time", "log_capacity", "prop_ratio"),
    *("qt_utilisation", "qt_blocking", "qt_delay", "qt_exact", *SCHEDULING_POLICIES, "queues"),
)
"""The link columns (appended to, like the path columns)."""
NODE_FEATURES = ("out_degree", "in_degree", "out_load", "in_load")
"""The node columns (appended to, like the path columns)."""

SCALE_FREE = {
    "path": ("packet_size", *TRAFFIC_MODELS, *PATH_FEATURES[PATH_FEATURES.index("rate_ratio") :]),
    "link": ("weight", "buffer", "load", *LINK_FEATURES[LINK_FEATURES.index("log_capacity") :]),
    "node": NODE_FEATURES,
}
"""The columns of each kind that neither the links' speed nor the network's size changes (see above)."""


@dataclass(frozen=True, eq=False)
class Graph:
    """Raw arrays of one network. Shapes: N nodes, L links, P paths, F flows (P = F without split flows), E path-link
    entries.

    ``node_x`` (N, len(NODE_FEATURES)), ``link_x`` (L, len(LINK_FEATURES)), ``path_x`` (P, len(PATH_FEATURES)),
    ``link_src``/``link_dst`` (L,) node indices, ``path_ptr`` (P+1,) and ``path_links`` (E,): path ``p`` uses links
    ``path_links[path_ptr[p]:path_ptr[p+1]]`` in packet order; ``flow_src``/``flow_dst`` (P,) node indices;
    ``path_packets`` (P,) expected packets sent per path over the measured window; ``medium`` the network's
    (``wired`` or ``wireless``), which no feature holds but a twin's training ranges record. ``path_flow`` (P,) the
    flow of each path (increasing) and ``path_share`` (P,) its share of the flow's packets; None: one path per flow.
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
    path_flow: np.ndarray | None = None
    path_share: np.ndarray | None = None

    @property
    def splits(self) -> bool:
        """Whether some flow splits over several paths."""
        return self.path_flow is not None and len(self.path_flow) > 0 and int(self.path_flow[-1]) + 1 < self.n_paths

    @property
    def n_flows(self) -> int:
        return int(self.path_flow[-1]) + 1 if self.splits else self.n_paths

    @property
    def route_flow(self) -> np.ndarray:
        """(P,) the flow of each path (0..P-1 without split flows)."""
        return np.asarray(self.path_flow, np.int64) if self.splits else np.arange(self.n_paths)

    @property
    def route_share(self) -> np.ndarray:
        """(P,) each path's share of its flow's packets (all 1 without split flows)."""
        return np.asarray(self.path_share, float) if self.splits else np.ones(self.n_paths)

    def flow_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(F,) :func:`delay_parts` per flow: a split flow's are its paths', weighed by their shares (the reference
        its relative KPIs are taken against)."""
        tx, propagation = delay_parts(self.path_x)
        if not self.splits:
            return tx, propagation
        flow, share, n = self.route_flow, self.route_share, self.n_flows
        return np.bincount(flow, share * tx, minlength=n), np.bincount(flow, share * propagation, minlength=n)

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


def delay_parts(path_x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P,) arrays from a path feature block: each flow's ``tx_time`` (its mean packet's transmission times along
    its path, s) and its propagation along the path (s); what delays learnt relative are relative to."""
    col = PATH_FEATURES.index
    tx = path_x[:, col("tx_time")]
    return tx, tx * np.expm1(path_x[:, col("prop_ratio")])


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

    A flow split over several paths gives one path entry per path (see the module docstring).

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
    whole, network = network, network.subflows()
    ptr = np.asarray(network.path_ptr, dtype=np.int64)
    if network.n_flows and np.any(np.diff(ptr) < 1):
        bad = int(np.nonzero(np.diff(ptr) < 1)[0][0])
        flow = int(whole.route_flow[bad])
        raise TwinError(f"flow {flow} of network '{network.name}' has an empty path; a twin needs at least one link")
    path_x = np.zeros((network.n_flows, len(PATH_FEATURES)))
    for i, f in enumerate(network.flows):
        t = f.traffic
        path_x[i, :5] = (t.rate, t.mean_rate, t.packet_size.mean_bytes, t.tau_on or 0.0, t.tau_off or 0.0)
        path_x[i, 5 + TRAFFIC_MODELS.index(t.model)] = 1.0
    link_x = np.zeros((network.n_links, len(LINK_FEATURES)))
    link_x[:, :5] = np.stack(
        [network.capacity, network.weight, network.delay, network.buffer, network.offered_load / network.capacity], 1
    )
    _scale_free(network, path_x, link_x)
    n = network.n_nodes
    out_degree, in_degree = np.bincount(network.link_src, minlength=n), np.bincount(network.link_dst, minlength=n)
    load = link_x[:, LINK_FEATURES.index("load")]
    node_x = np.stack(
        [
            out_degree,
            in_degree,
            np.bincount(network.link_src, weights=load, minlength=n) / np.maximum(out_degree, 1),
            np.bincount(network.link_dst, weights=load, minlength=n) / np.maximum(in_degree, 1),
        ],
        1,
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
        path_flow=whole.route_flow,
        path_share=whole.route_share,
    )


def _scale_free(network: Network, path_x: np.ndarray, link_x: np.ndarray) -> None:
    """Fill the columns from ``tx_time`` on (see the module docstring) of the path and link blocks, in place."""
    path, col = network.path_links, PATH_FEATURES.index
    flow_of = np.repeat(np.arange(network.n_flows), np.diff(network.path_ptr))
    bits = 8.0 * path_x[:, col("packet_size")]
    packets = np.array([f.traffic.packet_rate for f in network.flows])
    # The mean packet of the traffic a link carries; idle links take the network's (1000 bytes without flows).
    routed = np.bincount(path, weights=packets[flow_of], minlength=network.n_links)
    routed_bits = np.bincount(path, weights=(packets * bits)[flow_of], minlength=network.n_links)
    mean_bits = float(np.sum(packets * bits) / np.sum(packets)) if np.sum(packets) > 0 else 8000.0
    link_bits = np.divide(routed_bits, routed, out=np.full(network.n_links, mean_bits), where=routed > 0)
    link_tx = link_bits / network.capacity
    est = estimates(network)
    link = LINK_FEATURES.index
    link_x[:, link("tx_time")] = link_tx
    link_x[:, link("log_capacity")] = np.log(network.capacity / np.median(network.capacity))
    link_x[:, link("prop_ratio")] = np.log1p(network.delay / link_tx)
    if est is not None:
        link_x[:, link("qt_utilisation")] = est.utilisation
        link_x[:, link("qt_blocking")] = est.blocking
        link_x[:, link("qt_delay")] = np.log1p(est.sojourn / link_tx)
        link_x[:, link("qt_exact")] = est.exact
    link_x[np.arange(network.n_links), link("fifo") + network.policy] = 1.0
    queues = np.diff(network.queue_ptr)
    link_x[:, link("queues")] = queues
    if network.n_flows == 0:
        return
    hop_tx = bits[flow_of] / network.capacity[path]
    tx = np.bincount(flow_of, weights=hop_tx, minlength=network.n_flows)
    bottleneck = np.minimum.reduceat(network.capacity[path], network.path_ptr[:-1])
    path_x[:, col("tx_time")] = tx
    path_x[:, col("rate_ratio")] = path_x[:, col("mean_rate")] / bottleneck
    path_x[:, col("peak_ratio")] = path_x[:, col("rate")] / bottleneck
    path_x[:, col("on_ratio")] = np.log1p(path_x[:, col("tau_on")] * bottleneck / bits)
    path_x[:, col("off_ratio")] = np.log1p(path_x[:, col("tau_off")] * bottleneck / bits)
    propagation = np.bincount(flow_of, weights=network.delay[path], minlength=network.n_flows)
    path_x[:, col("prop_ratio")] = np.log1p(propagation / tx)
    if est is not None:
        path_x[:, col("qt_delay")] = np.log1p(est.queueing / tx)
        path_x[:, col("qt_loss")] = est.loss
        path_x[:, col("qt_exact")] = np.bincount(flow_of, weights=~est.exact[path], minlength=network.n_flows) == 0

    def mean_over(hops: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per flow, the mean of ``values`` over its hops where ``hops`` holds (0 where none does)."""
        count = np.bincount(flow_of, weights=hops, minlength=network.n_flows)
        total = np.bincount(flow_of, weights=np.where(hops, values, 0.0), minlength=network.n_flows)
        return np.divide(total, count, out=np.zeros(network.n_flows), where=count > 0)

    tos = network.tos
    policy = network.policy[path]
    n_queues = queues[path]
    path_x[:, col("tos")] = tos
    path_x[:, col("priority")] = mean_over(policy == SP, tos[flow_of] / np.maximum(n_queues - 1, 1))
    weighted = (policy != FIFO) & (policy != SP)
    own = network.queue_ptr[path] + np.where(weighted, tos[flow_of], 0)
    link_weight = np.bincount(np.repeat(np.arange(network.n_links), queues), weights=network.queue_weight)
    share = network.queue_weight[own] / np.where(link_weight[path] > 0, link_weight[path], 1.0)
    path_x[:, col("share")] = mean_over(weighted, share)
    path_x[:, col("scheduled")] = mean_over(np.ones(len(path), dtype=bool), policy != FIFO)
