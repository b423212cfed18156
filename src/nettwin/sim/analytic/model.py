r"""The queueing-theory baseline: every link (every class of a strict-priority link) an M/M/1/b queue, coupled by
the losses along flow paths.

This is the analytic model RouteNet is compared against (Rusek et al., IEEE JSAC 2020), returning the same
:class:`~nettwin.sim.result.SimResult` an engine does, so it runs wherever an engine runs
(``simulation.engine: analytic``, ``--engine analytic``).

The model
---------
Each directed link :math:`l` is an M/M/1/b queue: Poisson arrivals of rate :math:`\lambda_l` (packets/s), an
exponential server of rate :math:`\mu_l`, room for :math:`b_l` waiting packets. Flow :math:`f` offers
:math:`r_f` packets/s (its long-run mean; cbr, uniform, normal, on/off and ppbp sources enter as Poisson
streams of the same mean rate, which is the model's main approximation besides exponential service), and reaches
the :math:`j`-th link of its path thinned by the losses before it:

.. math::  \lambda_l = \sum_{f \ni l} r_f \prod_{i < j_f(l)} (1 - P_{p_f(i)}), \qquad
           \mu_l = \frac{C_l}{8\,\bar s_l}, \qquad P_l = \mathrm{blocking}(\lambda_l, \mu_l, b_l),

with :math:`\bar s_l` the mean packet size (bytes) of the traffic reaching :math:`l`, weighted by packet rate
(so :math:`\rho_l = \lambda_l/\mu_l` is carried bits over capacity). The coupled equations are solved by
damped fixed-point iteration on the blocking probabilities, from :math:`P = 0`:
:math:`P \leftarrow (1-\alpha) P + \alpha\,\mathrm{blocking}(\lambda(P), \mu(P), b)` until the undamped update
moves no :math:`P_l` by more than ``tol``.

Per flow, links are taken as independent (Kleinrock's independence approximation). With :math:`W_l` and
:math:`V_l` the mean and variance of the sojourn of accepted packets at link :math:`l` and :math:`d_l` its
propagation delay:

- ``delay`` :math:`= \sum_l (W_l + d_l)`.
- ``delay_std`` :math:`= \sqrt{v_Q}`, :math:`v_Q = \sum_l V_l + \sigma_f^2 \sum_{l \ne m} t_l t_m`: independent
  hops, except that a packet keeps its size along its path, so its own transmission times
  :math:`t_l = 8 s / C_l` at successive hops are perfectly correlated (:math:`\sigma_f^2` the variance of the
  flow's packet size in bytes², zero for fixed sizes). Without this term the delay spread of a lightly loaded
  multi-hop flow with exponential sizes is underestimated by about 20 % (``benchmarks/qt_vs_engine.py``).
- ``delay_p50/p90/p99``: the queueing part :math:`Q = \sum_l S_l` is replaced by the gamma law with the same
  mean and variance (shape :math:`k = m_Q^2/v_Q`, scale :math:`\theta = v_Q/m_Q`; exact for one M/M/1 hop,
  where the sojourn is exponential), shifted by the constant propagation :math:`\sum_l d_l`.
- ``jitter`` (FlowMonitor's mean :math:`|D_i - D_{i-1}|` over consecutive received packets): the model has no
  notion of consecutive packets, so it is estimated. Two independent draws of the gamma law above differ on
  average by Gini's mean difference :math:`G = 2\theta\,\Gamma(k + 1/2) / (\sqrt{\pi}\,\Gamma(k))`
  (:math:`m_Q` for one exponential hop), with difference variance :math:`2 v_Q`. Consecutive packets are not
  independent where they meet in a queue: by FIFO, :math:`D_i - D_{i-1}` at link :math:`l` is then the service
  of packet :math:`i` and of the packets that arrived between the two, minus their inter-arrival time, i.e.
  about :math:`n_l = \lambda_l / \lambda_{f,l}` services (:math:`\lambda_{f,l}` the flow's own arrival rate
  there), of variance about :math:`2 n_l / \mu_l^2` (service and arrival noise alike). Per hop the difference
  variance is taken as :math:`\min(2 V_l,\ 2 n_l/\mu_l^2)`, summed over hops, and the estimate is
  :math:`G \sqrt{\sum_l \min(2V_l, 2n_l/\mu_l^2) / (2 v_Q)}` (the packet-size covariance of :math:`v_Q` is left
  out of the numerator: adding it made the NSFNET figures worse). For one flow alone on an M/M/1/b link it is
  within 5 % of the simulated value at :math:`\rho = 0.9`; it matters most on saturated links, where the
  independence value (or :math:`\sqrt{v_Q}`) is about twice the simulated jitter
  (see ``benchmarks/qt_vs_engine.py``).
- ``throughput`` :math:`= \text{mean rate} \cdot \prod_l (1 - P_l)` (bit/s), ``drop_rate``
  :math:`= 1 - \prod_l (1 - P_l)`; ``tx_packets`` :math:`= \mathrm{round}(r_f T)` over the measured window
  :math:`T` = duration − warmup, ``rx_packets`` :math:`= \mathrm{round}(\text{tx} \prod_l (1 - P_l))`,
  ``dropped`` = ``drops`` = tx − rx.

A flow split over several paths (:attr:`~nettwin.scenario.network.Flow.paths`, ECMP) is modelled path by path:
each path is a flow of its own carrying the path's share of the traffic
(:meth:`~nettwin.scenario.network.Network.subflows`; a per-packet split of a Poisson stream is again Poisson), in
the same fixed point, and the flow's KPIs aggregate its paths' by share (:func:`nettwin.sim.kpi.aggregate_routes`:
delay the mean over received packets, delay_std the mixture's, jitter from consecutive packets on the same or on
different paths, drops, packets and throughput summed). Its delay percentiles are the quantiles of the mixture of
its paths' delay laws above (each weighed by the packets it delivers), exactly, not of gamma laws matched to them.
The result's ``routes`` hold each path's own KPIs, as the built-in engine's do.

Per link: ``utilisation`` :math:`= \lambda_l (1 - P_l)/\mu_l`,
``drops`` :math:`= \mathrm{round}(\lambda_l P_l T)`, ``mean_queue`` = mean number waiting,
``tx_packets`` :math:`= \mathrm{round}(\lambda_l (1 - P_l) T)`.

Strict priority
---------------
At a link scheduled by ``sp`` every class :math:`k` (queue 0 first) is a queue of its own in the equations above:
its arrivals :math:`\lambda_k` are the flows of that class, its blocking is M/M/1/b with the class's buffer and the
service rate the classes above it leave, :math:`\mu_k (1 - \sigma_{k-1})`, :math:`\sigma_{k-1}` their carried load
(at least :data:`STARVED`), solved in the same fixed point. Its mean sojourn, when the offered load of it and every
class above it is below 1, is Cobham's non-preemptive priority M/G/1 waiting time plus its service,

.. math::  W_k = \frac{W_0}{(1 - \sigma_{k-1})(1 - \sigma_k)}, \qquad W_0 = \tfrac12 \sum_i \lambda_i E[S_i^2],

with carried rates and each class's transmission-time second moment (exact for Poisson arrivals and buffers too
large to drop; it counts the residual service of lower classes, which the blocking leaves out); its sojourn variance
is taken as that of an exponential law of that mean. A class beyond that saturates its queue and keeps the M/M/1/b
sojourn at the reduced rate. Link figures sum over the link's queues, ``mean_queue`` by Little's law. WFQ and DRR
have no such closed form: the model refuses links scheduled by them (:func:`limitation`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.special import gammaincinv, gammaln

import nettwin
from nettwin.errors import EngineError
from nettwin.scenario.io import as_network
from nettwin.scenario.network import FIFO, SP, Network
from nettwin.scenario.spec import SCHEDULING_POLICIES, Scenario
from nettwin.sim.analytic.mm1b import (
    mm1b_blocking,
    mm1b_mean_waiting,
    mm1b_sojourn_mean,
    mm1b_sojourn_var,
    mm1b_utilisation,
)
from nettwin.sim.kpi import aggregate_routes, gamma_mixture_quantile
from nettwin.sim.result import SimResult

__all__ = ["QueueingModel", "FixedPoint", "Estimates", "estimates", "limitation", "as_fifo"]

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, eq=False)
class FixedPoint:
    """Solution of the coupled queue equations; arrays of shape (Q,) in the network's queue order
    (:attr:`~nettwin.scenario.network.Network.queue_ptr`), which is link order when every link is FIFO.

    ``arrival`` is :math:`\\lambda_l` (packets/s reaching the link), ``service`` :math:`\\mu_l` (packets/s),
    ``blocking`` :math:`P_l`. ``residual`` is the largest change of a blocking probability in the last
    undamped update. Queues no flow uses have ``arrival`` 0 and ``blocking`` 0.
    """

    arrival: np.ndarray
    service: np.ndarray
    blocking: np.ndarray
    iterations: int
    converged: bool
    residual: float


class QueueingModel:
    """M/M/1/b fixed-point model of a network, used as an engine named ``"analytic"``; see the module doc.

    Parameters
    ----------
    damping : weight :math:`\\alpha \\in (0, 1]` of each new blocking estimate (1 = undamped), default 0.5.
    tol : convergence tolerance on the blocking probabilities, default 1e-10.
    max_iter : iteration limit; if reached, the last iterate is used and ``meta["converged"]`` is False.

    Examples
    --------
    >>> from nettwin.scenario import parse_scenario, build_network
    >>> sc = parse_scenario({
    ...     "topology": {"nodes": ["a", "b"],
    ...                  "links": [{"src": "a", "dst": "b", "capacity": "1Mbps", "buffer": 5}]},
    ...     "flows": [{"src": "a", "dst": "b", "traffic": {"model": "poisson", "rate": "900kbps",
    ...               "packet_size": {"dist": "exponential", "mean": 1000}}}],
    ...     "simulation": {"duration": "10s"}})
    >>> r = QueueingModel().simulate(build_network(sc))
    >>> round(float(r.flows["drop_rate"][0]), 4)      # (1 - rho) rho^6 / (1 - rho^7) at rho = 0.9
    0.1019
    """

    name = "analytic"

    def __init__(self, damping: float = 0.5, tol: float = 1e-10, max_iter: int = 1000) -> None:
        if not 0.0 < damping <= 1.0:
            raise ValueError(f"QueueingModel: damping must be in (0, 1], got {damping!r}")
        if not tol > 0.0:
            raise ValueError(f"QueueingModel: tol must be > 0, got {tol!r}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
            raise ValueError(f"QueueingModel: max_iter must be an integer >= 1, got {max_iter!r}")
        self.damping = float(damping)
        self.tol = float(tol)
        self.max_iter = int(max_iter)

    def __repr__(self) -> str:
        return f"QueueingModel(damping={self.damping:g}, tol={self.tol:g}, max_iter={self.max_iter})"

    # ------------------------------------------------------------------ fixed point
    def solve(self, network: Network) -> FixedPoint:
        """Solve the coupled M/M/1/b queue equations of ``network`` for arrival rates and blocking per queue (each
        path of a split flow carrying its share of the flow's traffic).

        Raises
        ------
        EngineError
            If the network is wireless, has no flows, has link values the model cannot use, or schedules a link
            by a policy without a closed form.
        """
        network = network.subflows() if isinstance(network, Network) else network
        _check(network)
        sizes, flow_of, path = _flow_inputs(network)
        queue = _entry_queues(network, flow_of, path)
        rate = np.array([f.traffic.packet_rate for f in network.flows])
        blocking = np.zeros(len(network.queue_buffer))
        residual, converged, iterations = np.inf, False, 0
        while iterations < self.max_iter:
            iterations += 1
            lam, mu = _queue_rates(network, rate, sizes, flow_of, queue, blocking)
            new = _blocking(network, lam, mu, blocking)
            residual = float(np.max(np.abs(new - blocking)))
            blocking = (1.0 - self.damping) * blocking + self.damping * new
            if residual <= self.tol:
                converged = True
                break
        lam, mu = _queue_rates(network, rate, sizes, flow_of, queue, blocking)
        return FixedPoint(
            arrival=lam,
            service=mu,
            blocking=_blocking(network, lam, mu, blocking),
            iterations=iterations,
            converged=converged,
            residual=residual,
        )

    # ------------------------------------------------------------------ engine protocol
    def simulate(self, network: Network | Scenario | str | Path, *, seed: int | None = None, run: int = 0) -> SimResult:
        """Evaluate the model on ``network`` and return its KPIs as a :class:`SimResult`.

        ``seed`` and ``run`` are accepted for the engine protocol and recorded in ``meta``; the result does
        not depend on them. ``meta`` holds engine, version, seed, run, wall_seconds, iterations, converged and
        residual. A :class:`Scenario` or a scenario file path is resolved first.

        Raises
        ------
        EngineError
            As :meth:`solve`.
        """
        network = as_network(network)
        if network.multipath:
            by_path = self.simulate(network.subflows(), seed=seed, run=run)
            flows = aggregate_routes(by_path.flows, network.route_flow, network.route_share, network.n_flows)
            flows.update(_mixture_percentiles(network, by_path.flows))
            return SimResult.from_network(network, flows, by_path.links, by_path.meta, routes=by_path.flows)
        t0 = time.perf_counter()
        fp = self.solve(network)
        _, flow_of, path = _flow_inputs(network)
        queue = _entry_queues(network, flow_of, path)
        lam, mu, blocking = fp.arrival, fp.service, fp.blocking
        sim = network.simulation
        window = float(sim.duration) - float(sim.warmup)

        def per_flow(entries: np.ndarray) -> np.ndarray:
            """Sum over each flow's path of values given per entry of ``path_links``."""
            return np.bincount(flow_of, weights=entries, minlength=network.n_flows)

        mean_rate = np.array([f.traffic.mean_rate for f in network.flows])
        packet_rate = np.array([f.traffic.packet_rate for f in network.flows])
        log_survive = per_flow(np.log1p(-blocking)[queue])
        survive = np.exp(log_survive)
        sojourn, link_var, waiting = _sojourn(network, lam, mu, blocking, _size_moment(network, flow_of, queue, fp))
        queue_mean = per_flow(sojourn[queue])
        # A packet keeps its size along its path: its own transmission times at successive hops are perfectly
        # correlated, which adds Var(size) x sum over pairs of hops l != m of (8/C_l)(8/C_m).
        per_bit = 8.0 / network.capacity[path]
        size_var = np.array(
            [f.traffic.packet_size.second_moment - f.traffic.packet_size.mean_bytes**2 for f in network.flows]
        )
        size_cov = size_var * (per_flow(per_bit) ** 2 - per_flow(per_bit**2))
        queue_var = per_flow(link_var[queue]) + size_cov
        propagation = per_flow(network.delay[path])
        shape, scale = queue_mean**2 / queue_var, queue_var / queue_mean

        # Jitter: mean difference of two independent gamma draws, scaled down where consecutive packets of the
        # flow share a queue (difference variance ~ 2 x packets served between them / mu^2; see module doc).
        served_between = lam[queue] / _offered(network, packet_rate, flow_of, queue, blocking)
        diff_var = per_flow(np.minimum(2.0 * link_var[queue], 2.0 * served_between / mu[queue] ** 2))
        mean_difference = 2.0 * scale * np.exp(gammaln(shape + 0.5) - gammaln(shape)) / np.sqrt(np.pi)

        tx = np.rint(packet_rate * window).astype(np.int64)
        rx = np.rint(tx * survive).astype(np.int64)
        flows: dict[str, np.ndarray] = {
            "delay": propagation + queue_mean,
            "jitter": mean_difference * np.sqrt(diff_var / (2.0 * queue_var)),
            "throughput": mean_rate * survive,
            "drops": (tx - rx).astype(float),
            "drop_rate": -np.expm1(log_survive),
            "delay_std": np.sqrt(queue_var),
        }
        for q in PERCENTILES:
            flows[f"delay_p{q}"] = propagation + scale * gammaincinv(shape, q / 100.0)
        flows.update(tx_packets=tx, rx_packets=rx, dropped=tx - rx)

        link_of = np.repeat(np.arange(network.n_links), np.diff(network.queue_ptr))
        fifo = network.policy[link_of] == FIFO
        utilisation = np.where(fifo, mm1b_utilisation(lam, mu, network.queue_buffer), lam * (1.0 - blocking) / mu)

        def per_link(values: np.ndarray) -> np.ndarray:
            """Sum over each link's queues of values given per queue."""
            return np.bincount(link_of, weights=values, minlength=network.n_links)

        links = {
            "utilisation": per_link(utilisation),
            "drops": np.rint(per_link(lam * blocking * window)).astype(np.int64),
            "mean_queue": per_link(waiting),
            "tx_packets": np.rint(per_link(lam * (1.0 - blocking) * window)).astype(np.int64),
        }
        meta = {
            "engine": self.name,
            "version": nettwin.__version__,
            "seed": sim.seed if seed is None else int(seed),
            "run": int(run),
            "wall_seconds": time.perf_counter() - t0,
            "iterations": fp.iterations,
            "converged": fp.converged,
            "residual": fp.residual,
        }
        return SimResult.from_network(network, flows, links, meta)


def _mixture_percentiles(network: Network, routes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each flow's delay percentiles: the quantiles of the mixture of its paths' delay laws (propagation plus the
    gamma law of the queueing, as :meth:`QueueingModel.simulate` gives them per path in ``routes``), each path weighed
    by the packets it delivers (:func:`~nettwin.sim.kpi.gamma_mixture_quantile`)."""
    flow, n = network.route_flow, network.n_flows
    hops = np.repeat(np.arange(len(flow)), np.diff(network.route_ptr))
    propagation = np.bincount(hops, weights=network.delay[network.route_links], minlength=len(flow))
    queueing, var = routes["delay"] - propagation, routes["delay_std"] ** 2
    weight = network.route_share * (1.0 - routes["drop_rate"])
    total = np.bincount(flow, weights=weight, minlength=n)
    weight = weight / np.where(total > 0, total, 1.0)[flow]
    shape, scale = queueing**2 / var, var / queueing
    return {
        f"delay_p{q}": gamma_mixture_quantile(q / 100.0, shape, scale, propagation, weight, flow, n)
        for q in PERCENTILES
    }


def _flow_inputs(network: Network) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean packet size (bytes) per flow, the flow of each entry of ``path_links``, and ``path_links``."""
    sizes = np.array([f.traffic.packet_size.mean_bytes for f in network.flows])
    lengths = np.diff(network.path_ptr)
    return sizes, np.repeat(np.arange(network.n_flows), lengths), network.path_links


def _entry_queues(network: Network, flow_of: np.ndarray, path: np.ndarray) -> np.ndarray:
    """The queue (index into the network's queue arrays) each entry of ``path_links`` uses: the link's one queue,
    or at a scheduled link the queue of the flow's class. With every link FIFO, queue ``l`` is link ``l``."""
    scheduled = network.policy[path] != FIFO
    return network.queue_ptr[path] + np.where(scheduled, network.tos[flow_of], 0)


def _offered(
    network: Network, rate: np.ndarray, flow_of: np.ndarray, queue: np.ndarray, blocking: np.ndarray
) -> np.ndarray:
    """Packets/s of each flow reaching each queue of its path (one value per entry of ``path_links``)."""
    log_pass = np.log1p(-blocking)[queue]
    cum = np.cumsum(log_pass) - log_pass  # sum over all earlier entries, other flows' included
    upstream = cum - cum[network.path_ptr[:-1]][flow_of]  # ... minus those of earlier flows
    return rate[flow_of] * np.exp(upstream)


def _queue_rates(
    network: Network,
    rate: np.ndarray,
    sizes: np.ndarray,
    flow_of: np.ndarray,
    queue: np.ndarray,
    blocking: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-queue arrival rate (thinned by upstream losses) and service rate, given blocking probabilities."""
    offered = _offered(network, rate, flow_of, queue, blocking)
    n = len(network.queue_buffer)
    capacity = network.capacity[np.repeat(np.arange(network.n_links), np.diff(network.queue_ptr))]
    lam = np.bincount(queue, weights=offered, minlength=n)
    bits = np.bincount(queue, weights=offered * 8.0 * sizes[flow_of], minlength=n)
    used = bits > 0
    # An unused queue gets an arbitrary finite service rate; with no arrivals it affects nothing.
    mu = np.where(used, capacity * lam / np.where(used, bits, 1.0), capacity)
    return lam, mu


STARVED = 1e-9
"""The share of the link a strict-priority class keeps when the classes above it carry the whole link: enough to
keep its blocking below 1, so that the losses along paths stay finite."""


def _left_by_higher(network: Network, lam: np.ndarray, mu: np.ndarray, blocking: np.ndarray) -> np.ndarray:
    """(Q,) share of its link a queue is left: 1 at FIFO links; at a strict-priority link, 1 − the load carried
    by the queues before it, at least :data:`STARVED`."""
    left = np.ones(len(lam))
    for link in np.nonzero(network.policy == SP)[0]:
        mine = slice(network.queue_ptr[link], network.queue_ptr[link + 1])
        carried = lam[mine] * (1.0 - blocking[mine]) / mu[mine]
        left[mine] = np.maximum(1.0 - (np.cumsum(carried) - carried), STARVED)
    return left


def _blocking(network: Network, lam: np.ndarray, mu: np.ndarray, blocking: np.ndarray) -> np.ndarray:
    """Blocking of every queue: M/M/1/b with the queue's buffer, served at the rate the classes above it leave
    (all of it at FIFO links), given the current estimate ``blocking`` of the higher classes' losses."""
    return mm1b_blocking(lam, mu * _left_by_higher(network, lam, mu, blocking), network.queue_buffer)


def _size_moment(network: Network, flow_of: np.ndarray, queue: np.ndarray, fp: FixedPoint) -> np.ndarray:
    """(Q,) second moment of the transmission time of each queue's packets (s²), weighted by the packets that
    reach it."""
    rate = np.array([f.traffic.packet_rate for f in network.flows])
    offered = _offered(network, rate, flow_of, queue, fp.blocking)
    size2 = np.array([f.traffic.packet_size.second_moment for f in network.flows])[flow_of]
    n = len(network.queue_buffer)
    link_of = np.repeat(np.arange(network.n_links), np.diff(network.queue_ptr))
    moment = np.bincount(queue, weights=offered * size2, minlength=n) / np.maximum(fp.arrival, 1e-300)
    return moment * (8.0 / network.capacity[link_of]) ** 2


def _sojourn(
    network: Network, lam: np.ndarray, mu: np.ndarray, blocking: np.ndarray, service_moment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per queue: mean and variance of the sojourn of accepted packets, and the mean number waiting.

    FIFO queues: M/M/1/b. Strict-priority classes whose offered load, with that of every class above them, is
    below 1: Cobham's non-preemptive priority M/G/1 mean waiting time ``W0 / ((1 − σ_{k−1})(1 − σ_k))`` with
    carried rates, the sojourn variance that of an exponential law of that mean; a class beyond that saturates its
    queue and is M/M/1/b served at the rate the classes above leave.
    """
    left = _left_by_higher(network, lam, mu, blocking)
    buf = network.queue_buffer
    mean = mm1b_sojourn_mean(lam, mu * left, buf)
    var = mm1b_sojourn_var(lam, mu * left, buf)
    waiting = mm1b_mean_waiting(lam, mu * left, buf)
    for link in np.nonzero(network.policy == SP)[0]:
        mine = slice(network.queue_ptr[link], network.queue_ptr[link + 1])
        carried = lam[mine] * (1.0 - blocking[mine])
        sigma = np.cumsum(carried / mu[mine])
        above = sigma - carried / mu[mine]
        residual = 0.5 * np.sum(carried * service_moment[mine])
        stable = np.cumsum(lam[mine] / mu[mine]) < 1.0  # by offered load: carried load nears 1 at any overload
        wait = residual / ((1.0 - above[stable]) * (1.0 - sigma[stable]))
        idx = np.arange(mine.start, mine.stop)[stable]
        mean[idx] = wait + 1.0 / mu[idx]
        var[idx] = mean[idx] ** 2
        waiting[idx] = carried[stable] * wait
    return mean, var, waiting


@dataclass(frozen=True, eq=False)
class Estimates:
    """The model's figures a learned twin reads as input features (:func:`estimates`).

    Per link (L,): ``utilisation`` (carried bits over capacity, summed over its queues), ``blocking`` (the share of
    the packets reaching it that it drops), ``sojourn`` (mean time an accepted packet spends there, waiting and
    being sent, s; 0 where no packet is carried), ``exact`` (False where the link's policy has no closed form and
    it was taken as one FIFO queue). Per flow (F,): ``queueing`` (the sum of the sojourns along its path, s,
    propagation left out) and ``loss`` (the probability that a packet of it is dropped on the way).
    """

    utilisation: np.ndarray
    blocking: np.ndarray
    sojourn: np.ndarray
    exact: np.ndarray
    queueing: np.ndarray
    loss: np.ndarray


def as_fifo(network: Network, links: np.ndarray) -> Network:
    """``network`` with ``links`` made one FIFO queue each, holding the sum of their queues' buffers."""
    merge = np.zeros(network.n_links, dtype=bool)
    merge[links] = True
    ptr = network.queue_ptr
    link_of = np.repeat(np.arange(network.n_links), np.diff(ptr))
    total = np.add.reduceat(network.queue_buffer, ptr[:-1])  # every link has at least one queue
    keep = ~merge[link_of] | (np.arange(len(link_of)) == ptr[link_of])  # a merged link keeps its first queue
    return replace(
        network,
        policy=np.where(merge, FIFO, network.policy),
        queue_ptr=np.concatenate([[0], np.cumsum(np.where(merge, 1, np.diff(ptr)))]).astype(np.int64),
        queue_buffer=np.where(merge[link_of], total[link_of], network.queue_buffer)[keep].astype(np.int64),
        queue_weight=np.where(merge[link_of], 0.0, network.queue_weight)[keep],
    )


def estimates(network: Network, model: QueueingModel | None = None) -> Estimates | None:
    """Per-link and per-flow figures of the fixed point (:class:`Estimates`), or None where the model cannot describe
    the network at all (wireless, no flows, link values it refuses).

    Links scheduled by a policy without a closed form (WFQ, DRR) are taken as one FIFO queue holding all their
    queues' buffers, and flagged ``exact = False``: the estimate of the link as a whole, blind to the classes.
    Flow figures are those :meth:`QueueingModel.simulate` gives (``delay`` = propagation + ``queueing``,
    ``drop_rate`` = ``loss``) wherever every link is exact; a split flow's aggregate its paths' as the model's do
    (:func:`~nettwin.sim.kpi.aggregate_routes`).
    """
    if network.medium == "wireless" or network.n_flows == 0:
        return None
    inexact = np.nonzero((network.policy != FIFO) & (network.policy != SP))[0]
    routes = network.subflows()
    solvable = as_fifo(routes, inexact) if len(inexact) else routes
    try:
        _check(solvable)
    except EngineError:
        return None
    model = model or QueueingModel()
    fp = model.solve(solvable)
    _, flow_of, path = _flow_inputs(solvable)
    queue = _entry_queues(solvable, flow_of, path)
    lam, mu, blocking = fp.arrival, fp.service, fp.blocking
    sojourn, _, _ = _sojourn(solvable, lam, mu, blocking, _size_moment(solvable, flow_of, queue, fp))
    log_survive = np.bincount(flow_of, weights=np.log1p(-blocking)[queue], minlength=routes.n_flows)
    link_of = np.repeat(np.arange(network.n_links), np.diff(solvable.queue_ptr))
    carried = lam * (1.0 - blocking)

    def per_link(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Weighted mean over each link's queues (0 where the weights are)."""
        total = np.bincount(link_of, weights=weights, minlength=network.n_links)
        summed = np.bincount(link_of, weights=values * weights, minlength=network.n_links)
        return np.divide(summed, total, out=np.zeros(network.n_links), where=total > 0)

    exact = np.ones(network.n_links, dtype=bool)
    exact[inexact] = False
    per_flow = aggregate_routes(
        {
            "delay": np.bincount(flow_of, weights=sojourn[queue], minlength=routes.n_flows),
            "drop_rate": -np.expm1(log_survive),
        },
        network.route_flow,
        network.route_share,
        network.n_flows,
    )
    return Estimates(
        utilisation=np.bincount(link_of, weights=carried / mu, minlength=network.n_links),
        blocking=per_link(blocking, lam),
        sojourn=per_link(sojourn, carried),
        exact=exact,
        queueing=per_flow["delay"],
        loss=per_flow["drop_rate"],
    )


def limitation(network: Network) -> str | None:
    """Why the analytic model cannot describe ``network`` at all, or None: what evaluations say when they leave
    queueing theory out."""
    if network.medium == "wireless":
        return "it treats links as independent point-to-point queues and cannot model a shared wireless medium"
    scheduled = np.nonzero((network.policy != FIFO) & (network.policy != SP))[0]
    if len(scheduled):
        i = int(scheduled[0])
        names = network.nodes
        return (
            f"it has no closed form for {SCHEDULING_POLICIES[network.policy[i]]} scheduling (link "
            f"{names[network.link_src[i]]}→{names[network.link_dst[i]]}; it models FIFO and strict-priority ports)"
        )
    return None


def _check(network: Network) -> None:
    if not isinstance(network, Network):
        raise EngineError(
            f"QueueingModel expects a resolved Network (nettwin.scenario.build_network), got {type(network).__name__}"
        )
    if why := limitation(network):
        instead = (
            "use a wired topology, or --engine ns3 for wireless"
            if network.medium == "wireless"
            else ("simulate it with --engine builtin")
        )
        raise EngineError(f"the analytic model: {why}; {instead}")
    if network.n_flows == 0:
        raise EngineError("the network has no flows; add at least one flow")
    for what, values, ok, expected in (
        ("capacity", network.capacity, network.capacity > 0, "> 0"),
        ("delay", network.delay, network.delay >= 0, ">= 0"),
        ("buffer", network.buffer, network.buffer >= 0, ">= 0"),
    ):
        bad = np.nonzero(~(np.isfinite(values) & ok))[0]
        if len(bad):
            i = int(bad[0])
            names = network.nodes
            raise EngineError(
                f"{what} must be finite and {expected}, got {values[i]} for link {i} "
                f"({names[network.link_src[i]]}→{names[network.link_dst[i]]})"
            )
    for i, flow in enumerate(network.flows):
        if len(flow.path) == 0:
            raise EngineError(f"flow {i} ({network.nodes[flow.src]}→{network.nodes[flow.dst]}) has an empty path")
