"""``nettwin manage``: decide with the twin — what-if failures and searches over configurations, each verified by
simulation."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Manage a network with a twin: what-if failures and configuration searches, verified by simulation.",
    no_args_is_help=True,
)
