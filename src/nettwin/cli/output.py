"""Console output shared by the commands: tables, JSON, progress bars, status lines, one-line errors.

Text printed here is never read as rich markup: names from scenarios, file paths and library messages may hold
brackets (``nettwin[ns3]``, a node called ``[red]x``) that must reach the user as written. The consoles are built
with ``markup=False``; the few places that build rich objects from text (status spinners, progress descriptions)
escape it first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from nettwin._json import dumps

__all__ = [
    "kpi_display",
    "progress_callback",
    "Format",
    "console",
    "err_console",
    "print_table",
    "print_json",
    "progress_bar",
    "status",
    "error_line",
    "warning_line",
]


def _console(stderr: bool = False) -> Console:
    con = Console(stderr=stderr, markup=False)
    if not con.is_terminal:
        # Piped output (logs, CI): wide enough that KPI tables are not folded.
        con.width = 160
    return con


console = _console()
err_console = _console(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str | None = None) -> None:
    """A rich table; numbers right-aligned. Title, caption, headers and cells are shown as plain text."""
    from rich.table import Table

    table = Table(title=Text(title), caption=Text(caption) if caption else None, header_style="bold")
    first = rows[0] if rows else [""] * len(columns)
    for name, cell in zip(columns, first, strict=False):
        table.add_column(Text(name), justify="right" if isinstance(cell, int | float) or _numeric(cell) else "left")
    for row in rows:
        table.add_row(*(Text(_cell(c)) for c in row))
    console.print(table)


def _numeric(cell: Any) -> bool:
    return isinstance(cell, str) and cell.replace(".", "", 1).replace("-", "", 1).replace("%", "").isdigit()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout: standard JSON, a missing value (NaN) as ``null``."""
    sys.stdout.write(dumps(data) + "\n")


@contextmanager
def status(text: str) -> Iterator[None]:
    """A spinner on stdout's console with ``text`` (as written) while the block runs."""
    with console.status(escape(text)):
        yield


@contextmanager
def progress_bar(description: str, total: int, unit: str = "samples", enabled: bool = True) -> Iterator[Any]:
    """A progress bar with count, rate and ETA; yields ``advance(n=1)``."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task(escape(description), total=total, rate="")

        def advance(n: int = 1) -> None:
            progress.advance(task, n)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:.1f} {unit}/s" if speed else "")

        yield advance


ProgressCallback = Callable[[int, int | None], None]


@contextmanager
def progress_callback(
    description: str, unit: str = "samples", on_start: ProgressCallback | None = None
) -> Iterator[ProgressCallback]:
    """A ``progress(done, total)`` callback for a library job, showing :func:`progress_bar`.

    The bar opens at the first call, when the job knows its total; ``on_start(done, total)`` runs just before (e.g.
    to say that a run resumes). ``done`` counts the units finished so far.
    """
    with ExitStack() as stack:
        advance: Callable[[int], None] | None = None
        shown = 0

        def progress(done: int, total: int | None) -> None:
            nonlocal advance, shown
            if advance is None:
                if on_start is not None:
                    on_start(done, total)
                advance = stack.enter_context(progress_bar(description, total, unit))  # type: ignore[arg-type]
            advance(done - shown)
            shown = done

        yield progress


def error_line(message: str) -> None:
    """Print an error on stderr, one line per problem, the message exactly as written."""
    for line in str(message).strip().splitlines() or ["unknown error"]:
        err_console.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)


def warning_line(message: str) -> None:
    """Print a warning on stderr, on one line, the message exactly as written."""
    line = " ".join(str(message).split())
    err_console.print(Text.assemble(("warning:", "bold yellow"), " ", line), highlight=False, soft_wrap=True)


_DISPLAY = {"s": ("ms", 1e3), "bit/s": ("kbps", 1e-3), "packets": ("pkts", 1.0), "": ("%", 100.0)}
"""How each SI unit of :data:`~nettwin.sim.kpi.FLOW_KPIS` is shown: its display unit and the factor to it."""

_SHORT = {"throughput": "thr"}


def kpi_display(kpi: str, short: bool = False) -> tuple[str, float]:
    """A KPI's column label in tables (``"delay ms"``, ``"thr kbps"`` when ``short``) and the factor from its SI
    value (:data:`~nettwin.sim.kpi.FLOW_KPIS`) to the displayed one."""
    from nettwin.sim.kpi import FLOW_KPIS

    unit, scale = _DISPLAY.get(FLOW_KPIS.get(kpi, ""), ("", 1.0))
    name = _SHORT.get(kpi, kpi) if short else kpi
    return f"{name} {unit}".strip(), scale
