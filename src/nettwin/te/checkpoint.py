"""Learned-solver checkpoints: the estimator layout of :mod:`nettwin._checkpoint`, in one file.

A checkpoint is a ``torch.save`` dictionary::

    {"format": "nettwin-te-checkpoint", "format_version": 3, "nettwin_version": "...", "kind": "te-solver",
     "name": "geminet" | "dote" | another registered learned solver, "params": {constructor arguments},
     "state": {"weights": state_dict, "history": [...], ...the solver's other learned state},
     "digest": "sha256:..."}

It loads with ``weights_only=True`` (no code runs on load) and on any device. Format 3 is the layout twins and
solvers share; files of formats 1 and 2 (``kind`` the solver's name, ``config``, ``state``, ``weights`` and
``history`` side by side) still load, read into it. Format 2 added the digest (see :mod:`nettwin._checkpoint`);
format 1 files load with a warning that their integrity cannot be checked. Loading a file of another format, a
damaged one, a newer format version, an unknown solver, parameters outside the solver's declared ranges or weights
that do not fit it raises :class:`~nettwin.errors.TEError` saying why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nettwin._checkpoint import read_estimator, write_estimator
from nettwin._validation import check_known, short_repr, validate_params
from nettwin.errors import TEError
from nettwin.te.base import TESolver
from nettwin.te.registry import learned_names, solver_class

__all__ = ["save_solver", "load_solver", "FORMAT", "FORMAT_VERSION", "KIND"]

FORMAT = "nettwin-te-checkpoint"
FORMAT_VERSION = 3
KIND = "te-solver"


def save_solver(solver: TESolver, path: str | Path) -> Path:
    """Write a fitted learned solver to ``path`` atomically; returns the path.

    Raises
    ------
    TEError
        If the solver is not a learned solver; NotFittedError if it is not fitted.
    """
    if not solver.needs_fit:
        raise TEError(
            f"only learned solvers ({', '.join(learned_names())}) have checkpoints, got {type(solver).__name__}"
        )
    state = solver.learned_state()
    path = Path(path)
    write_estimator(path, FORMAT, FORMAT_VERSION, KIND, solver.name, solver.get_params(), state)
    return path


def load_solver(path: str | Path, device: str | None = None) -> TESolver:
    """Read a checkpoint written by :func:`save_solver`; the solver is ready to ``solve``.

    Every field is checked before the network is built: the parameters against the solver's declared ranges
    (``PARAMS``), the learned state by the solver (:meth:`~nettwin.te.base.TESolver.restore_state`: weights for
    finite values and for the shapes the parameters give).

    Parameters
    ----------
    path : the checkpoint file.
    device : where to put the network; None for CUDA when available, else CPU.

    Raises
    ------
    TEError
        If the file is missing, unreadable, damaged, or not a compatible checkpoint, naming the field at fault.
    """
    payload = read_estimator(path, FORMAT, FORMAT_VERSION, KIND, "TE", TEError, upgrade=_upgrade)
    owner = str(path)
    learned = learned_names()
    if payload.name not in learned:
        raise TEError(
            f"checkpoint '{path}' holds an unknown solver {short_repr(payload.name)}; expected {' or '.join(learned)}"
        )
    cls = solver_class(payload.name)
    check_known(owner, payload.params, cls.param_names(), TEError, prefix="params")
    validate_params(owner, payload.params, cls.PARAMS, TEError, prefix="params", given_only=True)
    params = {**payload.params, "device": device} if "device" in cls.param_names() else payload.params
    return cls(**params).restore_state(payload.state, owner)


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """The content of a format 1 or 2 file in the format 3 layout (nothing checked yet, nothing dropped)."""
    state = data.get("state", {})
    moved = {k: data[k] for k in ("weights", "history") if k in data}
    return {
        **{k: v for k, v in data.items() if k not in ("kind", "config", "state", "weights", "history")},
        "kind": KIND,
        "name": data.get("kind"),
        "params": data.get("config", {}),
        "state": {**state, **moved} if isinstance(state, dict) else state,
    }
