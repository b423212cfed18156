"""Learned-solver checkpoints: weights, configuration and version in one file.

A checkpoint is a ``torch.save`` dictionary::

    {"format": "nettwin-te-checkpoint", "format_version": 1, "nettwin_version": "...", "kind": "geminet" | "dote",
     "config": {constructor arguments}, "state": {extra learned state}, "weights": state_dict, "history": [...]}

It loads with ``weights_only=True`` (no code runs on load) and on any device. Loading a file of another format,
a newer format version or an unknown kind raises :class:`~nettwin.errors.TEError` saying why.
"""

from __future__ import annotations

from pathlib import Path

import torch

from nettwin._checkpoint import read_tagged, write_tagged
from nettwin.errors import TEError
from nettwin.te.dote import DOTENet, DOTESolver
from nettwin.te.geminet import GeminetNet, GeminetSolver

__all__ = ["save_solver", "load_solver", "FORMAT", "FORMAT_VERSION"]

FORMAT = "nettwin-te-checkpoint"
FORMAT_VERSION = 1


def save_solver(solver: GeminetSolver | DOTESolver, path: str | Path) -> Path:
    """Write a fitted learned solver to ``path`` atomically; returns the path.

    Raises
    ------
    TEError
        If the solver is not a fitted learned solver.
    """
    if isinstance(solver, GeminetSolver):
        kind, state = "geminet", {}
    elif isinstance(solver, DOTESolver):
        kind = "dote"
        state = {"layout": getattr(solver, "layout_", None)}
        if hasattr(solver, "net_"):
            state.update(n_pairs=solver.net_.n_pairs, n_paths=solver.net_.n_paths)
    else:
        raise TEError(f"only learned solvers (geminet, dote) have checkpoints, got {type(solver).__name__}")
    solver._check_fitted("net_")
    payload = {
        "kind": kind,
        "config": solver.get_params(),
        "state": state,
        "weights": {k: v.detach().cpu() for k, v in solver.net_.state_dict().items()},
        "history": [float(x) for x in getattr(solver, "history_", [])],
    }
    path = Path(path)
    write_tagged(path, FORMAT, FORMAT_VERSION, payload)
    return path


def load_solver(path: str | Path, device: str | None = None) -> GeminetSolver | DOTESolver:
    """Read a checkpoint written by :func:`save_solver`; the solver is ready to ``solve``.

    Parameters
    ----------
    path : the checkpoint file.
    device : where to put the network; None for CUDA when available, else CPU.

    Raises
    ------
    TEError
        If the file is missing, unreadable, or not a compatible checkpoint.
    """
    payload = read_tagged(path, FORMAT, FORMAT_VERSION, "TE", TEError)
    kind, config, state = payload.get("kind"), dict(payload.get("config", {})), payload.get("state", {})
    config["device"] = device
    try:
        if kind == "geminet":
            solver: GeminetSolver | DOTESolver = GeminetSolver(**config)
            net: torch.nn.Module = GeminetNet(solver.hidden, solver.steps)
        elif kind == "dote":
            solver = DOTESolver(**config)
            net = DOTENet(int(state["n_pairs"]), int(state["n_paths"]), solver.hidden)
            solver.layout_ = state["layout"]
        else:
            raise TEError(f"checkpoint '{path}' holds an unknown solver kind {kind!r}; expected geminet or dote")
        net.load_state_dict(payload["weights"])
    except (TypeError, KeyError, RuntimeError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise TEError(f"checkpoint '{path}' does not match its {kind} configuration: {first}") from err
    solver.net_ = net.to(solver._device()).eval()
    solver.history_ = list(payload.get("history", []))
    return solver
