"""A Geminet-style learned solver: a topology-agnostic update operator on link dual variables.

After Liu et al., *Geminet: Learning the Duality-based Iterative Process for Lightweight Traffic Engineering
in Changing Topologies* (2025). The solver keeps one dual variable ``λ_e ≥ 0`` per link; a path costs the sum of
its links' duals and each pair splits its demand by a softmin over its candidate paths' costs:

.. math::

    c_q = \\sum_{e \\in q} λ_e, \\qquad x_q = \\frac{\\exp(-β c_q)}{\\sum_{q' \\in Q(p)} \\exp(-β c_{q'})}.

**Initial duals.** Per path, ``φ(log(1 + a_q), log b̃_q)`` with ``a_q = d_q / (b_q r)`` (the share of the
bottleneck capacity ``b_q`` the whole demand would take, relative to ``r``, the instance's MLU under equal
splitting) is averaged over the paths crossing each link and, with the link's own quantities (equal-split
utilisation ``u⁰_e / r``, ``log(1 + Σ_{q∋e} d_q / (c_e r))``, ``log c̃_e``), mapped by ``ψ`` to ``z⁰_e``.

**Updates.** For ``t = 1 … T``, with ``λ = softplus(z)``, loads ``ℓ_e = Σ_{q∋e} d_q x_q`` and
``u_e = ℓ_e / c_e``, ``M = max_e u_e``:

.. math::

    z^{t}_e = z^{t-1}_e + f\\big(u_e / M,\\; \\log(M / r),\\; λ_e,\\; \\log c̃_e,\\; u⁰_e / r,\\; t / T\\big)

with one small MLP ``f`` shared by every link and every step. The network only ever sees these per-link and
per-path quantities, never the topology's shape or size, so one trained model runs on any topology.
Sums along the path–link incidences (path costs, link loads, the aggregation of path embeddings to links)
are sparse incidence-matrix products, the rest gathers and segment reductions (see :mod:`nettwin.te.tensors`):
memory grows with links + incidences, not with pairs × paths × hidden size. Trained end to end on the
differentiable MLU (:mod:`nettwin.te.training`).

Parameters
----------
hidden : width of the MLPs (default 32).
steps : dual-update steps T (default 8).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nettwin._checkpoint import check_weights
from nettwin._estimator import pick_device
from nettwin._validation import WIDTH, Check, Interval, OneOf, check_known
from nettwin.errors import TEError
from nettwin.scenario.limits import MAX_SEED
from nettwin.te.base import TESolver, checked_history
from nettwin.te.instance import TEInstance
from nettwin.te.tensors import (
    TEBatch,
    equal_split,
    graph_mlu,
    link_loads,
    link_sums,
    pair_softmax,
    path_sums,
    utilisation,
)
from nettwin.te.training import train_model

__all__ = ["GeminetNet", "GeminetSolver"]


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class GeminetNet(nn.Module):
    """The dual-update network (module docstring). ``forward(batch) -> (Q,)`` split ratios."""

    def __init__(self, hidden: int = 32, steps: int = 8) -> None:
        super().__init__()
        if hidden < 1 or steps < 0:
            raise TEError(f"GeminetNet needs hidden ≥ 1 and steps ≥ 0, got {hidden}, {steps}")
        self.hidden = hidden
        self.steps = steps
        self.path_enc = _mlp([2, hidden, hidden])
        # "edge_init", not "link_init": its weights are stored under this name in checkpoints already written
        self.edge_init = _mlp([hidden + 3, hidden, 1])
        self.update = _mlp([6, hidden, hidden, 1])
        self.beta_raw = nn.Parameter(torch.zeros(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        nn.init.zeros_(self.update[-1].weight)
        nn.init.zeros_(self.update[-1].bias)
        with torch.no_grad():
            self.beta_raw.fill_(math.log(math.expm1(4.0)))

    @property
    def beta(self) -> torch.Tensor:
        return nn.functional.softplus(self.beta_raw)

    def _ratios(self, batch: TEBatch, lam: torch.Tensor) -> torch.Tensor:
        cost = path_sums(batch, lam)
        return pair_softmax(batch, torch.where(batch.path_alive, -self.beta * cost, -torch.inf))

    def forward(self, batch: TEBatch, trace: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Split ratios ``(Q,)``; with ``trace``, appends each step's per-instance MLU to it."""
        alive = batch.path_alive
        u0 = utilisation(batch, link_loads(batch, equal_split(batch)))
        r = graph_mlu(batch, u0).clamp_min(1e-12)
        r_link = r.index_select(0, batch.link_graph)
        path_graph = batch.pair_graph.index_select(0, batch.path_pair)
        log_cap = torch.log(batch.cap.clamp_min(1e-6))
        # initial duals from per-path (demand, bottleneck) aggregated to links
        bottleneck = torch.full((batch.n_paths,), torch.inf, device=batch.cap.device)
        bottleneck = bottleneck.scatter_reduce(
            0, batch.nnz_path, batch.cap.index_select(0, batch.nnz_link), "amin", include_self=True
        )
        bottleneck = bottleneck.clamp_min(1e-6)
        a = torch.where(alive, batch.path_demand / (bottleneck * r.index_select(0, path_graph)), 0.0)
        # φ ends in an affine layer, which commutes with the mean over the paths crossing a link: apply it to the
        # L means instead of the Q paths (same values, and no (Q, hidden) output to write)
        s = self.path_enc[0](torch.stack([torch.log1p(a), torch.log(bottleneck)], dim=1))
        if s.requires_grad:
            s = self.path_enc[1](s) * alive.unsqueeze(1)
        else:  # nothing to differentiate: keep to the one (Q, hidden) buffer, which is costly to allocate
            nn.functional.silu(s, inplace=True).mul_(alive.unsqueeze(1))
        count = link_sums(batch, alive.float())
        agg = self.path_enc[-1](link_sums(batch, s) / count.clamp_min(1).unsqueeze(1)) * (count > 0).unsqueeze(1)
        pot = utilisation(batch, link_sums(batch, batch.path_demand * alive)) / r_link
        u0r = u0 / r_link
        x0 = torch.cat([agg, torch.stack([u0r, torch.log1p(pot), log_cap], 1)], 1)
        z = self.edge_init(x0).squeeze(1)
        for t in range(self.steps):
            lam = nn.functional.softplus(z)
            x = self._ratios(batch, lam)
            u = utilisation(batch, link_loads(batch, x))
            m = graph_mlu(batch, u).clamp_min(1e-12)
            if trace is not None:
                trace.append(m / r)
            m_link = m.index_select(0, batch.link_graph)
            feats = torch.stack(
                [
                    u / m_link,
                    torch.log(m_link / r_link),
                    lam,
                    log_cap,
                    u0r,
                    torch.full_like(u, (t + 1) / max(self.steps, 1)),
                ],
                dim=1,
            )
            z = z + self.update(feats).squeeze(1)
        return self._ratios(batch, nn.functional.softplus(z))

    def extra_repr(self) -> str:
        return f"hidden={self.hidden}, T={self.steps}"


def relative_mlu_loss(model: nn.Module, batch: TEBatch, trace_weight: float = 0.0) -> torch.Tensor:
    """Mean over the batch of MLU ÷ equal-split MLU (plus ``trace_weight`` × the same at every step)."""
    trace: list[torch.Tensor] = []
    x = model(batch, trace=trace if trace_weight else None)
    u = utilisation(batch, link_loads(batch, x))
    m = graph_mlu(batch, u)
    r = graph_mlu(batch, utilisation(batch, link_loads(batch, equal_split(batch)))).clamp_min(1e-12)
    loss = (m / r).mean()
    if trace:
        loss = loss + trace_weight * torch.stack(trace).mean()
    return loss


class GeminetSolver(TESolver):
    """Estimator around :class:`GeminetNet`: ``fit`` trains it, ``solve`` runs it.

    Parameters
    ----------
    hidden : MLP width.
    steps : dual-update steps T.
    train_steps : optimisation steps of :meth:`fit`.
    batch_size : instances per optimisation step.
    lr : Adam learning rate.
    trace_weight : weight of the per-step MLU terms in the loss.
    seed : seeds initialisation and batch draws.
    device : ``"cpu"``, ``"cuda"``, or None for CUDA when available.

    Attributes
    ----------
    net_ : the trained :class:`GeminetNet`.
    history_ : training loss per step.

    Examples
    --------
    >>> GeminetSolver(steps=4)
    GeminetSolver(hidden=32, steps=4, train_steps=600, batch_size=8, lr=0.003, trace_weight=0.1, seed=0, device=None)
    """

    name = "geminet"
    needs_fit = True

    PARAMS: ClassVar[dict[str, Check]] = {
        "hidden": WIDTH,
        "steps": Interval(int, 0, 64),
        "train_steps": Interval(int, 0),
        "batch_size": Interval(int, 1),
        "lr": Interval(float, 0, 1, open_low=True),
        "trace_weight": Interval(float, 0),
        "seed": Interval(int, 0, MAX_SEED),
        "device": OneOf(("cpu", "cuda", "mps"), none_ok=True),
    }
    """The declared range of every constructor argument (checked by ``fit`` and when a checkpoint is read)."""

    def __init__(
        self,
        hidden: int = 32,
        steps: int = 8,
        train_steps: int = 600,
        batch_size: int = 8,
        lr: float = 3e-3,
        trace_weight: float = 0.1,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        self.hidden = hidden
        self.steps = steps
        self.train_steps = train_steps
        self.batch_size = batch_size
        self.lr = lr
        self.trace_weight = trace_weight
        self.seed = seed
        self.device = device

    def _device(self) -> torch.device:
        return pick_device(self.device)

    def fit(
        self, instances: Sequence[TEInstance], callback: Callable[[int, float], None] | None = None
    ) -> GeminetSolver:
        """Train a fresh network on ``instances`` (any mix of topologies); returns ``self``."""
        self.check_params()
        device = self._device()
        torch.manual_seed(self.seed)
        net = GeminetNet(self.hidden, self.steps).to(device)
        tw = self.trace_weight
        self.history_ = train_model(
            net,
            list(instances),
            lambda m, b: relative_mlu_loss(m, b, tw),
            self.train_steps,
            self.batch_size,
            self.lr,
            self.seed,
            device,
            callback,
        )
        self.net_ = net
        return self

    def solve(self, instance: TEInstance) -> np.ndarray:
        self._check_fitted("net_")
        with torch.inference_mode():
            batch = TEBatch.from_instances([instance], self._device())
            return batch.split_paths(self.net_(batch))[0]

    def learned_state(self) -> dict[str, Any]:
        """The network's weights (on the CPU) and the training history, for a checkpoint."""
        self._check_fitted("net_")
        return {
            "weights": {k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
            "history": [float(x) for x in getattr(self, "history_", [])],
        }

    def restore_state(self, state: Mapping[str, Any], owner: str) -> GeminetSolver:
        """The network from checked weights of the configured shape, on this solver's device; returns ``self``."""
        check_known(owner, state, ["weights", "history"], TEError, prefix="state")
        hidden, steps = self.hidden, self.steps
        net = check_weights(lambda: GeminetNet(hidden, steps), state.get("weights"), "state.weights", owner, TEError)
        self.history_ = checked_history(state.get("history", []), owner)
        self.net_ = net.to(self._device()).eval()
        return self
