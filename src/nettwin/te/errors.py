"""The traffic-engineering error type."""

from __future__ import annotations

from nettwin.errors import NettwinError

__all__ = ["TEError", "NotFittedError"]


class TEError(NettwinError, ValueError):
    """A traffic-engineering instance, solver, checkpoint or option is invalid; the message says which and why."""


class NotFittedError(TEError):
    """A learned solver was asked to solve before :meth:`fit` (or before a checkpoint was loaded)."""
