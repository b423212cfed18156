r"""Queueing theory's estimates (:func:`nettwin.sim.analytic.estimates`) in torch: batched over B settings of the
flows' packet rates and the links' capacities, differentiable (for
:class:`~nettwin.twin.differentiable.DifferentiableTwin`).

The same model as :mod:`nettwin.sim.analytic.model`: every queue M/M/1/b (:mod:`nettwin.sim.analytic.mm1b`, its
numerically stable forms), coupled by the losses along the paths, strict-priority classes served at the rate the
classes above them leave (Cobham's waiting time where stable), WFQ and DRR links taken as one FIFO queue. The
fixed point of the blocking probabilities is found as there (damped iteration from 0, the same damping), without
gradients, to a tighter tolerance; its gradient is the implicit one, :math:`(I - \partial T/\partial P)^{-1}`
applied by a damped iteration in the backward pass, so that it is the derivative of the fixed point itself, not of
the iterations that found it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from nettwin.scenario.network import FIFO, SP, Network
from nettwin.sim.analytic.mm1b import SERIES_BELOW, SERIES_C, SERIES_DC
from nettwin.sim.analytic.model import STARVED, QueueingModel, as_fifo, estimates

__all__ = ["QueueingEstimates", "QT_TOL"]

QT_TOL = 1e-12
"""Convergence tolerance of the fixed point (largest change of a blocking probability in an undamped update)."""

_MAX_ITER = 5000
_C = SERIES_C.tolist()
_DC = SERIES_DC.tolist()


def _poly(coef: list[float], z: Tensor) -> Tensor:
    out = torch.zeros_like(z)
    for c in coef[::-1]:
        out = out * z + c
    return out


def _f(y: Tensor) -> Tensor:
    """1/(e^y − 1) − 1/y, smooth at 0; y ≥ 0 (as :mod:`~nettwin.sim.analytic.mm1b`'s)."""
    small = y < SERIES_BELOW
    ys = torch.where(small, y, 0.0)
    yl = torch.where(small, 1.0, y)
    return torch.where(small, -0.5 + ys * _poly(_C, ys * ys), torch.exp(-yl) / -torch.expm1(-yl) - 1.0 / yl)


def _log_ratio(lam: Tensor, mu: Tensor) -> tuple[Tensor, Tensor]:
    """x = |ln ρ| (inf where ρ = 0, without a gradient there) and whether ρ > 1."""
    rho = lam / mu
    some = rho > 0
    log_rho = torch.log(torch.where(some, rho, 1.0))
    return torch.where(some, log_rho.abs(), torch.inf), log_rho > 0


def _end_mass(x: Tensor, k: Tensor) -> Tensor:
    """(1 − s)/(1 − s^{K+1}), s = e^{−x}."""
    zero = x == 0.0
    xs = torch.where(zero, 1.0, x)
    return torch.where(zero, 1.0 / (k + 1.0), torch.expm1(-xs) / torch.expm1(-(k + 1.0) * xs))


def mm1b_blocking(lam: Tensor, mu: Tensor, k: Tensor) -> Tensor:
    """Blocking probability of M/M/1/b queues holding at most ``k`` = b + 1 packets."""
    x, up = _log_ratio(lam, mu)
    far = torch.where(up, 0.0, k * torch.where(up, 0.0, x))  # the full state counted from the end holding most mass
    return _end_mass(x, k) * torch.exp(-far)


def mm1b_sojourn_mean(lam: Tensor, mu: Tensor, k: Tensor) -> Tensor:
    """Mean sojourn (s) of the packets M/M/1/b queues accept: (1 + the mean number an accepted arrival finds) / μ."""
    x, up = _log_ratio(lam, mu)
    m1 = k  # the number found is a truncated geometric on 0..K−1
    near = x < SERIES_BELOW
    xn = torch.where(near, x, 0.0)
    mean_near = _f(xn) - m1 * _f(xn * m1)
    xf = torch.where(near, 1.0, x)
    yf = xf * m1
    mean_far = torch.exp(-xf) / -torch.expm1(-xf) - m1 * torch.exp(-yf) / -torch.expm1(-yf)
    mean = torch.minimum(torch.where(near, mean_near, mean_far).clamp_min(0.0), k - 1.0)
    return (1.0 + torch.where(up, k - 1.0 - mean, mean)) / mu


@dataclass(frozen=True)
class _Queues:
    """The fixed structure of the network's queues and of the path entries that use them (index tensors)."""

    queue: Tensor  # (E,) the queue of each path entry
    flow_of: Tensor  # (E,) the path of each entry
    first: Tensor  # (E,) the first entry of the entry's path
    link_of: Tensor  # (Q,) the link of each queue
    start: Tensor  # (Q,) the first queue of the queue's link
    end: Tensor  # (Q,) the last queue of the queue's link
    sp: Tensor  # (Q,) whether the queue is a class of a strict-priority link
    k: Tensor  # (Q,) the most packets a queue holds (buffer + 1)


class QueueingEstimates:
    """Queueing theory's per-link and per-path figures of one network's structure as a torch function of the paths'
    packet rates and the links' capacities (what :func:`~nettwin.sim.analytic.estimates` gives for the network
    those describe; ``network`` is the one-path-per-flow form a twin's graph is built from).

    ``None`` from :meth:`of` where the model cannot describe the network (wireless, no flows): its estimates are
    then none, and the graph's queueing-theory columns constant.
    """

    def __init__(self, network: Network, device: torch.device) -> None:
        inexact = np.nonzero((network.policy != FIFO) & (network.policy != SP))[0]
        net = as_fifo(network, inexact) if len(inexact) else network
        self.damping = QueueingModel().damping
        self.n_links, self.n_paths = network.n_links, network.n_flows
        lengths = np.diff(net.path_ptr)
        flow_of = np.repeat(np.arange(net.n_flows), lengths)
        path = np.asarray(net.path_links)
        queue = net.queue_ptr[path] + np.where(net.policy[path] != FIFO, net.tos[flow_of], 0)
        link_of = np.repeat(np.arange(net.n_links), np.diff(net.queue_ptr))

        def i(a: np.ndarray) -> Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=device)

        self._q = _Queues(
            queue=i(queue),
            flow_of=i(flow_of),
            first=i(net.path_ptr[:-1][flow_of]),
            link_of=i(link_of),
            start=i(net.queue_ptr[:-1][link_of]),
            end=i(net.queue_ptr[1:][link_of] - 1),
            sp=torch.as_tensor(net.policy[link_of] == SP, device=device),
            k=torch.as_tensor(net.queue_buffer + 1.0, dtype=torch.float64, device=device),
        )
        sizes = [(8.0 * f.traffic.packet_size.mean_bytes, f.traffic.packet_size.second_moment) for f in net.flows]
        self._size, self._size2 = torch.as_tensor(sizes, dtype=torch.float64, device=device).reshape(-1, 2).T
        self._any_sp = bool(np.any(net.policy == SP))

    @classmethod
    def of(cls, network: Network, device: torch.device) -> QueueingEstimates | None:
        """The function for ``network``, or None where queueing theory gives it no estimates."""
        return None if estimates(network) is None else cls(network, device)

    def _offered(self, rate: Tensor, blocking: Tensor) -> Tensor:
        """(B, E) packets/s of each path reaching each queue of it, thinned by the losses before."""
        q = self._q
        log_pass = torch.log1p(-blocking[:, q.queue])
        before = torch.cumsum(log_pass, 1) - log_pass
        return rate[:, q.flow_of] * torch.exp(before - before[:, q.first])

    def _segment(self, values: Tensor) -> Tensor:
        """(B, Q) sums of ``values`` over the queues of the same link up to each queue (inclusive)."""
        total = torch.cumsum(values, 1)
        return total - (total - values)[:, self._q.start]

    def _rates(self, rate: Tensor, capacity: Tensor, blocking: Tensor) -> tuple[Tensor, Tensor]:
        """(B, Q) arrival and service rates given the blocking probabilities."""
        q = self._q
        offered = self._offered(rate, blocking)
        n = len(q.link_of)
        lam = offered.new_zeros(offered.shape[0], n).index_add(1, q.queue, offered)
        bits = offered.new_zeros(offered.shape[0], n).index_add(1, q.queue, offered * self._size[q.flow_of])
        cap = capacity[:, q.link_of]
        used = bits > 0
        return lam, torch.where(used, cap * lam / torch.where(used, bits, 1.0), cap)

    def _left(self, lam: Tensor, mu: Tensor, blocking: Tensor) -> Tensor:
        """(B, Q) share of its link a queue is left: 1 − the load carried by the classes above (strict priority)."""
        if not self._any_sp:
            return torch.ones_like(lam)
        carried = lam * (1.0 - blocking) / mu
        above = self._segment(carried) - carried
        return torch.where(self._q.sp, (1.0 - above).clamp_min(STARVED), 1.0)

    def _update(self, rate: Tensor, capacity: Tensor, blocking: Tensor) -> Tensor:
        """The undamped map T of the fixed point: blocking from the rates the blocking gives."""
        lam, mu = self._rates(rate, capacity, blocking)
        return mm1b_blocking(lam, mu * self._left(lam, mu, blocking), self._q.k)

    def _fixed_point(self, rate: Tensor, capacity: Tensor) -> Tensor:
        """(B, Q) the blocking probabilities, with the implicit gradient."""
        a = self.damping
        with torch.no_grad():
            r, c = rate.detach(), capacity.detach()
            p = torch.zeros(rate.shape[0], len(self._q.link_of), dtype=rate.dtype, device=rate.device)
            for _ in range(_MAX_ITER):
                new = self._update(r, c, p)
                moved = (new - p).abs().max()
                p = (1.0 - a) * p + a * new
                if moved <= QT_TOL:
                    break
        out = self._update(rate, capacity, p)
        if not out.requires_grad:
            return out
        p0 = p.clone().requires_grad_(True)
        with torch.enable_grad():
            t0 = self._update(rate.detach(), capacity.detach(), p0)

        def implicit(grad: Tensor | None) -> Tensor | None:
            # Solve g = grad + Jᵀ g by the damped iteration that converged forward (J = ∂T/∂P at the fixed point).
            if grad is None or not torch.any(grad):
                return grad
            g = grad
            for _ in range(_MAX_ITER):
                step = torch.autograd.grad(t0, p0, g, retain_graph=True)[0] + grad - g
                g = g + a * step
                if step.abs().max() <= QT_TOL * max(1.0, float(g.abs().max())):
                    break
            return g

        out.register_hook(implicit)
        return out

    def __call__(self, rate: Tensor, capacity: Tensor) -> dict[str, Tensor]:
        """(B, L) ``utilisation``, ``blocking``, ``sojourn`` per link and (B, P) ``queueing``, ``loss`` per path, as
        :class:`~nettwin.sim.analytic.model.Estimates` holds them; ``rate`` (B, P) packets/s, ``capacity`` (B, L)."""
        q = self._q
        blocking = self._fixed_point(rate, capacity)
        lam, mu = self._rates(rate, capacity, blocking)
        left = self._left(lam, mu, blocking)
        sojourn = mm1b_sojourn_mean(lam, mu * left, q.k)
        if self._any_sp:
            sojourn = self._priority(rate, capacity, lam, mu, blocking, sojourn)
        carried = lam * (1.0 - blocking)
        b = rate.shape[0]

        def per_link(values: Tensor) -> Tensor:
            return values.new_zeros(b, self.n_links).index_add(1, q.link_of, values)

        def mean_per_link(values: Tensor, weights: Tensor) -> Tensor:
            total = per_link(weights)
            some = total > 0
            return torch.where(some, per_link(values * weights) / torch.where(some, total, 1.0), 0.0)

        def per_path(values: Tensor) -> Tensor:
            return values.new_zeros(b, self.n_paths).index_add(1, q.flow_of, values[:, q.queue])

        return {
            "utilisation": per_link(carried / mu),
            "blocking": mean_per_link(blocking, lam),
            "sojourn": mean_per_link(sojourn, carried),
            "queueing": per_path(sojourn),
            "loss": -torch.expm1(per_path(torch.log1p(-blocking))),
        }

    def _priority(
        self, rate: Tensor, capacity: Tensor, lam: Tensor, mu: Tensor, blocking: Tensor, sojourn: Tensor
    ) -> Tensor:
        """Strict-priority classes whose offered load, with that of the classes above, is below 1: Cobham's waiting
        time with carried rates plus the service (see :func:`nettwin.sim.analytic.model._sojourn`)."""
        q = self._q
        offered = self._offered(rate, blocking)
        moment = lam.new_zeros(lam.shape).index_add(1, q.queue, offered * self._size2[q.flow_of])
        moment = moment / lam.clamp_min(1e-300) * (8.0 / capacity[:, q.link_of]) ** 2
        carried = lam * (1.0 - blocking)
        sigma = self._segment(carried / mu)
        above = sigma - carried / mu
        residual = 0.5 * self._segment(carried * moment)[:, q.end]
        stable = q.sp & (self._segment(lam / mu) < 1.0)
        safe = torch.where(stable, (1.0 - above) * (1.0 - sigma), 1.0)
        return torch.where(stable, residual / safe + 1.0 / mu, sojourn)
