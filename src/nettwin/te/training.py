"""The training loop shared by the learned solvers: minimise the differentiable MLU over random mini-batches.

Each step draws ``batch_size`` training instances, stacks them (:class:`~nettwin.te.tensors.TEBatch`), runs the
model to split ratios and minimises the mean over the batch of ``MLU / MLU_ECMP`` — every instance's MLU relative
to splitting equally over its candidate paths, so that instances of different scale weigh alike. Adam with a
cosine-decaying learning rate and gradient clipping at norm 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from nettwin.errors import TEError
from nettwin.te.instance import TEInstance
from nettwin.te.tensors import TEBatch

__all__ = ["train_model"]


def train_model(
    model: torch.nn.Module,
    instances: Sequence[TEInstance],
    loss_fn: Callable[[torch.nn.Module, TEBatch], torch.Tensor],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    device: torch.device,
    callback: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` in place; returns the loss of every step.

    Parameters
    ----------
    model : the network; its parameters are optimised.
    instances : training instances (drawn uniformly with replacement).
    loss_fn : ``(model, batch) -> scalar loss``.
    steps, batch_size, lr : optimisation budget.
    seed : seeds the draws and torch.
    device : where the batches live.
    callback : called as ``callback(step, loss)`` after each step (progress bars).
    """
    if not instances:
        raise TEError("fit needs at least one training instance")
    if steps < 0 or batch_size < 1 or not lr > 0:
        raise TEError(f"need steps ≥ 0, batch_size ≥ 1 and lr > 0, got {steps}, {batch_size}, {lr}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def cosine(s: int) -> float:
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * s / max(steps, 1)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine)
    model.train()
    history = []
    for step in range(steps):
        chosen = rng.integers(len(instances), size=min(batch_size, len(instances)))
        batch = TEBatch.from_instances([instances[i] for i in chosen], device)
        loss = loss_fn(model, batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        history.append(float(loss.detach()))
        if callback is not None:
            callback(step, history[-1])
    model.eval()
    return history
