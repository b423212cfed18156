"""Learned-solver checkpoints: weights, configuration and version in one file.

A checkpoint is a ``torch.save`` dictionary::

    {"format": "nettwin-te-checkpoint", "format_version": 2, "nettwin_version": "...", "kind": "geminet" | "dote",
     "config": {constructor arguments}, "state": {extra learned state}, "weights": state_dict, "history": [...],
     "digest": "sha256:..."}

It loads with ``weights_only=True`` (no code runs on load) and on any device. Format 2 added the digest (see
:mod:`nettwin._checkpoint`); format 1 files load with a warning that their integrity cannot be checked. Loading a
file of another format, a damaged one, a newer format version, an unknown kind, a configuration outside the
solver's declared ranges or weights that do not fit it raises :class:`~nettwin.errors.TEError` saying why.
"""

from __future__ import annotations

from pathlib import Path

from nettwin._checkpoint import check_weights, read_tagged, write_tagged
from nettwin._validation import Interval, Text, check_known, short_repr, string_keyed, validate_params
from nettwin.errors import TEError
from nettwin.te.dote import DOTENet, DOTESolver
from nettwin.te.geminet import GeminetNet, GeminetSolver

__all__ = ["save_solver", "load_solver", "FORMAT", "FORMAT_VERSION"]

FORMAT = "nettwin-te-checkpoint"
FORMAT_VERSION = 2


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

    Every field is checked before the network is built: the configuration against the solver's declared ranges
    (``PARAMS``), the weights for finite values and for the shapes the configuration gives.

    Parameters
    ----------
    path : the checkpoint file.
    device : where to put the network; None for CUDA when available, else CPU.

    Raises
    ------
    TEError
        If the file is missing, unreadable, damaged, or not a compatible checkpoint, naming the field at fault.
    """
    payload = read_tagged(path, FORMAT, FORMAT_VERSION, "TE", TEError)
    owner = str(path)
    kind = payload.get("kind")
    classes: dict[str, type[GeminetSolver] | type[DOTESolver]] = {"geminet": GeminetSolver, "dote": DOTESolver}
    if not isinstance(kind, str) or kind not in classes:
        raise TEError(f"checkpoint '{path}' holds an unknown solver kind {short_repr(kind)}; expected geminet or dote")
    cls = classes[kind]
    config, state = payload.get("config", {}), payload.get("state", {})
    for where, value in (("config", config), ("state", state)):
        if not string_keyed(value):
            raise TEError(f"{owner}: '{where}' must be a mapping; got {short_repr(value)}")
    check_known(owner, config, list(cls.PARAMS), TEError, prefix="config")
    validate_params(owner, config, cls.PARAMS, TEError, prefix="config", given_only=True)
    solver = cls(**{**config, "device": device})
    if isinstance(solver, GeminetSolver):
        hidden, steps = solver.hidden, solver.steps
        net = check_weights(lambda: GeminetNet(hidden, steps), payload.get("weights"), "weights", owner, TEError)
    else:
        validate_params(owner, state, _DOTE_STATE, TEError, prefix="state")
        pairs, paths, hidden = state["n_pairs"], state["n_paths"], solver.hidden
        net = check_weights(lambda: DOTENet(pairs, paths, hidden), payload.get("weights"), "weights", owner, TEError)
        solver.layout_ = state["layout"]
    history = payload.get("history", [])
    if not isinstance(history, list) or not all(Interval(float).ok(x) for x in history):
        raise TEError(f"{owner}: 'history' must be a list of losses; got {short_repr(history)}")
    solver.net_ = net.to(solver._device()).eval()
    solver.history_ = list(history)
    return solver


_DOTE_STATE = {"layout": Text(), "n_pairs": Interval(int, 1), "n_paths": Interval(int, 1)}
