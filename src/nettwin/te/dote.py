"""DOTE: a multilayer perceptron from the demand matrix straight to split ratios, for one fixed topology.

After Perry et al., *DOTE: Rethinking (Predictive) WAN Traffic Engineering* (NSDI 2023). The demand vector of the
fixed pair list, divided by its sum (optimal split ratios do not change when every demand is scaled), goes
through an MLP to one logit per candidate path; a softmax within each pair gives the split:

.. math::

    x = \\operatorname{softmax}_{\\text{pair}}\\big(\\mathrm{MLP}(P \\cdot d / \\textstyle\\sum d)\\big).

This is the "omniscient" variant: it sees the demand it routes (the paper's predictive variant sees past
demands). Trained end to end on the same differentiable MLU loss as the other learned solvers. Its input and
output sizes are those of the training topology's pair and path lists, so it cannot run on another topology or
on a snapshot whose candidate paths changed; :meth:`DOTESolver.solve` says so.

Parameters
----------
hidden : width of the two hidden layers (default 128).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nettwin._checkpoint import check_weights
from nettwin._estimator import pick_device
from nettwin._validation import WIDTH, Check, Interval, OneOf, Text, check_known, validate_params
from nettwin.errors import TEError
from nettwin.scenario.limits import MAX_SEED
from nettwin.te.base import TESolver, checked_history
from nettwin.te.instance import TEInstance
from nettwin.te.paths import PathSet
from nettwin.te.tensors import TEBatch, equal_split, graph_mlu, link_loads, pair_softmax, utilisation
from nettwin.te.training import train_model

__all__ = ["DOTENet", "DOTESolver", "layout_key"]


def layout_key(paths: PathSet) -> str:
    """A fingerprint of a pair and path layout; two instances DOTE can share have the same one."""
    h = hashlib.sha256()
    for arr in (paths.pairs, paths.path_pair, paths.ptr, paths.link_ids):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


class DOTENet(nn.Module):
    """``forward(batch) -> (Q,)`` split ratios; every instance of the batch must share the fitted layout."""

    def __init__(self, n_pairs: int, n_paths: int, hidden: int = 128) -> None:
        super().__init__()
        self.n_pairs, self.n_paths, self.hidden = n_pairs, n_paths, hidden
        self.mlp = nn.Sequential(
            nn.Linear(n_pairs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_paths)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, batch: TEBatch) -> torch.Tensor:
        g = batch.n_graphs
        first = torch.ones(batch.n_paths, dtype=torch.bool, device=batch.path_pair.device)
        first[1:] = batch.path_pair[1:] != batch.path_pair[:-1]
        demand = batch.path_demand[first].reshape(g, self.n_pairs)
        demand = demand / demand.sum(1, keepdim=True).clamp_min(1e-12) * self.n_pairs
        logits = self.mlp(demand).reshape(-1)
        return pair_softmax(batch, torch.where(batch.path_alive, logits, -torch.inf))

    def extra_repr(self) -> str:
        return f"pairs={self.n_pairs}, paths={self.n_paths}, hidden={self.hidden}"


def _loss(model: nn.Module, batch: TEBatch) -> torch.Tensor:
    x = model(batch)
    m = graph_mlu(batch, utilisation(batch, link_loads(batch, x)))
    r = graph_mlu(batch, utilisation(batch, link_loads(batch, equal_split(batch)))).clamp_min(1e-12)
    return (m / r).mean()


class DOTESolver(TESolver):
    """Estimator around :class:`DOTENet` for one topology and path layout.

    Parameters
    ----------
    hidden : MLP width.
    train_steps, batch_size, lr, seed, device : as for :class:`~nettwin.te.geminet.GeminetSolver`.

    Attributes
    ----------
    net_ : the trained network.
    layout_ : :func:`layout_key` of the training instances.
    history_ : training loss per step.

    Examples
    --------
    >>> DOTESolver()
    DOTESolver(hidden=128, train_steps=600, batch_size=8, lr=0.001, seed=0, device=None)
    """

    name = "dote"
    needs_fit = True

    PARAMS: ClassVar[dict[str, Check]] = {
        "hidden": WIDTH,
        "train_steps": Interval(int, 0),
        "batch_size": Interval(int, 1),
        "lr": Interval(float, 0, 1, open_low=True),
        "seed": Interval(int, 0, MAX_SEED),
        "device": OneOf(("cpu", "cuda", "mps"), none_ok=True),
    }
    """The declared range of every constructor argument (checked by ``fit`` and when a checkpoint is read)."""

    def __init__(
        self,
        hidden: int = 128,
        train_steps: int = 600,
        batch_size: int = 8,
        lr: float = 1e-3,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        self.hidden = hidden
        self.train_steps = train_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _device(self) -> torch.device:
        return pick_device(self.device)

    def fit(self, instances: Sequence[TEInstance], callback: Callable[[int, float], None] | None = None) -> DOTESolver:
        self.check_params()
        instances = list(instances)
        if not instances:
            raise TEError("fit needs at least one training instance")
        keys = {layout_key(i.paths) for i in instances}
        if len(keys) != 1:
            raise TEError("DOTE learns one fixed topology: all training instances must share their pairs and paths")
        device = self._device()
        torch.manual_seed(self.seed)
        first = instances[0]
        net = DOTENet(first.n_pairs, first.n_paths, self.hidden).to(device)
        self.history_ = train_model(
            net, instances, _loss, self.train_steps, self.batch_size, self.lr, self.seed, device, callback
        )
        self.net_ = net
        self.layout_ = keys.pop()
        return self

    def check_layout(self, instance: TEInstance) -> None:
        """Raise :class:`TEError` unless ``instance`` has the fitted pair and path layout."""
        self._check_fitted("net_")
        if layout_key(instance.paths) != self.layout_:
            raise TEError(
                f"DOTE was fitted on another topology or path set than '{instance.name}' "
                f"({instance.n_pairs} pairs, {instance.n_paths} paths; fitted {self.net_.n_pairs}, "
                f"{self.net_.n_paths}); it cannot run on changed topologies — fit it again or use geminet"
            )

    def solve(self, instance: TEInstance) -> np.ndarray:
        self.check_layout(instance)
        with torch.inference_mode():
            batch = TEBatch.from_instances([instance], self._device())
            return batch.split_paths(self.net_(batch))[0]

    def learned_state(self) -> dict[str, Any]:
        """The network's weights (on the CPU), its layout and sizes, and the training history, for a checkpoint."""
        self._check_fitted("net_")
        return {
            "layout": self.layout_,
            "n_pairs": self.net_.n_pairs,
            "n_paths": self.net_.n_paths,
            "weights": {k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
            "history": [float(x) for x in getattr(self, "history_", [])],
        }

    def restore_state(self, state: Mapping[str, Any], owner: str) -> DOTESolver:
        """The network from checked sizes and weights, on this solver's device; returns ``self``."""
        check_known(owner, state, [*_STATE, "weights", "history"], TEError, prefix="state")
        validate_params(owner, state, _STATE, TEError, prefix="state")
        pairs, paths, hidden = state["n_pairs"], state["n_paths"], self.hidden
        build = functools.partial(DOTENet, pairs, paths, hidden)
        net = check_weights(build, state.get("weights"), "state.weights", owner, TEError)
        self.history_ = checked_history(state.get("history", []), owner)
        self.layout_ = state["layout"]
        self.net_ = net.to(self._device()).eval()
        return self


_STATE = {"layout": Text(), "n_pairs": Interval(int, 1), "n_paths": Interval(int, 1)}
"""The declared range of DOTE's learned sizes and layout in a checkpoint."""
