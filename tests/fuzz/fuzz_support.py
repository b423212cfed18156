"""Running ``nettwin`` in-process on generated input and checking the command-line contract on every outcome.

The contract: a command exits 0, or exits 1 (2 for usage errors) having printed one ``error: ...`` line per
problem on stderr — never a traceback, never a hang. :func:`run_cli` calls the console entry point with a patched
``sys.argv`` (fast: no interpreter start-up per case) and :func:`check` enforces the contract, recording each case
in :data:`TALLY` so that the session ends with the counts (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nettwin._lifeline import alarm
from nettwin.cli.app import main

__all__ = [
    "Outcome",
    "Tally",
    "TALLY",
    "HANG_SECONDS",
    "PACKET_BUDGET",
    "run_cli",
    "check",
    "breach",
    "scenario_packets",
]

HANG_SECONDS = 30.0
"""A case still running after this long counts as a hang. Generated cases take milliseconds to about a second; this
limit is only the last guard against a loop that never ends, far above what a loaded machine adds."""

PACKET_BUDGET = 20_000
"""Largest number of packets a generated scenario may send on the packet-level engine; costlier (but valid)
scenarios run on the analytic engine instead, so that every case stays cheap by construction."""


class Hang(BaseException):
    """Raised in the command by the watchdog (a BaseException, so no ``except Exception`` in nettwin swallows it)."""


@dataclass
class Outcome:
    """What one in-process run of ``nettwin ARGV`` did."""

    argv: list[str]
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    escaped: BaseException | None = None
    escaped_trace: str = ""
    hang: bool = False
    seconds: float = 0.0

    @property
    def command(self) -> str:
        return "nettwin " + " ".join(_quote(a) for a in self.argv)


@dataclass
class Tally:
    """Counts of the cases run this session, and the distinct ways the contract was broken."""

    cases: int = 0
    ok: int = 0
    clean_errors: int = 0
    tracebacks: int = 0
    hangs: int = 0
    other: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    def record(self, kind: str, signature: str, reproduction: str) -> None:
        """Keep the shortest reproduction of each distinct failure."""
        if kind == "traceback":
            self.tracebacks += 1
        elif kind == "hang":
            self.hangs += 1
        else:
            self.other += 1
        known = self.failures.get(signature)
        if known is None or len(reproduction) < len(known):
            self.failures[signature] = reproduction

    def summary(self) -> str:
        return (
            f"fuzz: {self.cases} cases, {self.ok} exit 0, {self.clean_errors} clean errors, "
            f"{self.tracebacks} tracebacks, {self.hangs} hangs, {self.other} other contract breaches"
        )


TALLY = Tally()

KEEP_GOING = os.environ.get("NETTWIN_FUZZ_KEEP_GOING") == "1"
"""With ``NETTWIN_FUZZ_KEEP_GOING=1`` a broken contract is recorded, not raised: one run lists every distinct failure
(at the end of the session) instead of stopping each test at its first."""


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./=:,@" for c in arg) else repr(arg)


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:g} s")

    with alarm(seconds, expire):
        yield


@contextlib.contextmanager
def _interpreter_warnings(stream: io.StringIO) -> Iterator[None]:
    """Show warnings on the captured stderr as a plain ``python`` run would (pytest records them instead)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: stream.write(
            warnings.formatwarning(message, category, filename, lineno, line)
        )
        yield


@contextlib.contextmanager
def _native_output(fd: int, sink: io.StringIO) -> Iterator[None]:
    """Also capture what native code (C libraries such as solvers) writes straight to file descriptor ``fd``."""
    import tempfile

    with tempfile.TemporaryFile() as spool:
        saved = os.dup(fd)
        os.dup2(spool.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            spool.seek(0)
            sink.write(spool.read().decode("utf-8", "replace"))


def run_cli(argv: Sequence[str], *, hang_seconds: float = HANG_SECONDS) -> Outcome:
    """Run ``nettwin ARGV`` in this process, capturing stdout, stderr, the exit status and any escaped exception.

    Output written by native code straight to the process's descriptors is captured too (after Python's own).
    """
    outcome = Outcome([str(a) for a in argv])
    out, err = io.StringIO(), io.StringIO()
    native_out, native_err = io.StringIO(), io.StringIO()
    saved_argv = sys.argv
    sys.argv = ["nettwin", *outcome.argv]
    start = time.perf_counter()
    try:
        with (
            _native_output(1, native_out),
            _native_output(2, native_err),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _interpreter_warnings(err),
            _watchdog(hang_seconds),
        ):
            main()
        outcome.code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            outcome.code = exc.code or 0
        else:  # sys.exit("text") prints the text and exits 1
            err.write(f"{exc.code}\n")
            outcome.code = 1
    except Hang:
        outcome.hang = True
    except BaseException as exc:  # anything else reaching the interpreter is a traceback for the user
        outcome.escaped = exc
        outcome.escaped_trace = traceback.format_exc()
    finally:
        sys.argv = saved_argv
        outcome.seconds = time.perf_counter() - start
    outcome.stdout = native_out.getvalue() + out.getvalue()
    outcome.stderr = native_err.getvalue() + err.getvalue()
    return outcome


def _strict_json(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"bare {token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _last_line(trace: str) -> str:
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _origin(exc: BaseException) -> str:
    """``file:line`` of the innermost frame inside nettwin that the exception passed through."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/nettwin/" in f.filename.replace("\\", "/")]
    if not frames:
        return "outside nettwin"
    f = frames[-1]
    return f"{f.filename.split('/nettwin/', 1)[1]}:{f.lineno}"


def check(
    outcome: Outcome,
    *,
    inputs: str = "",
    json_stdout: bool = False,
    must_fail: bool = False,
    must_pass: bool = False,
    must_name: Sequence[str] = (),
) -> Outcome:
    """Assert the command-line contract on ``outcome`` and count it.

    Parameters
    ----------
    outcome : a run from :func:`run_cli`.
    inputs : the generated input (file text, bytes summary) shown in a failure message.
    json_stdout : exit 0 must leave standard JSON on stdout (no ``NaN``/``Infinity`` tokens).
    must_fail : the input is known to be wrong: exit 0 breaks the contract.
    must_pass : the input is known to be right: an error breaks the contract.
    must_name : on failure, some ``error:`` line must contain each of these texts (the field or key at fault).
    """
    TALLY.cases += 1
    problem = _breach(outcome, json_stdout=json_stdout, must_fail=must_fail, must_name=must_name)
    if problem is None and must_pass and outcome.code != 0:
        problem = ("refused", f"{outcome.argv[0]}: valid input refused", f"stderr:\n{outcome.stderr[-800:]}")
    if problem is None:
        if outcome.code == 0:
            TALLY.ok += 1
        else:
            TALLY.clean_errors += 1
        return outcome
    kind, signature, detail = problem
    breach(kind, signature, outcome, detail, inputs)
    return outcome


def breach(kind: str, signature: str, outcome: Outcome, detail: str, inputs: str = "") -> None:
    """Record a broken contract (grouped by ``signature``) and fail, unless ``NETTWIN_FUZZ_KEEP_GOING=1``."""
    shown_inputs = inputs if len(inputs) <= 2000 else inputs[:2000] + f"... ({len(inputs)} characters)"
    reproduction = f"{outcome.command}\n{detail}" + (f"\ninput:\n{shown_inputs}" if shown_inputs else "")
    TALLY.record(kind, signature, reproduction)
    if not KEEP_GOING:
        raise AssertionError(f"{kind}: {signature}\n{reproduction}")


def _breach(
    outcome: Outcome, *, json_stdout: bool, must_fail: bool, must_name: Sequence[str]
) -> tuple[str, str, str] | None:
    """None when the contract holds, else (kind, signature for grouping, details)."""
    command = outcome.argv[0] if outcome.argv else ""
    if outcome.hang:
        return "hang", f"{command}: still running after {HANG_SECONDS:g} s", f"hang after {outcome.seconds:.0f} s"
    if outcome.escaped is not None:
        last = _last_line(outcome.escaped_trace)
        return "traceback", f"{type(outcome.escaped).__name__} at {_origin(outcome.escaped)}", f"traceback: {last}"
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    if any("Traceback (most recent call last)" in line for line in lines):
        return "traceback", f"{command}: a traceback printed on stderr", "stderr:\n" + outcome.stderr[-1500:]
    if outcome.code == 0:
        if must_fail:
            return "accepted", f"{command}: wrong input accepted (exit 0)", f"stdout:\n{outcome.stdout[-600:]}"
        if json_stdout:
            try:
                _strict_json(outcome.stdout)
            except ValueError as err:
                return "json", f"{command}: --format json output is not JSON ({err})", outcome.stdout[:600]
        return None
    if outcome.code not in (1, 2):
        return "status", f"{command}: exit status {outcome.code}", f"stderr:\n{outcome.stderr[-800:]}"
    first = next((i for i, line in enumerate(lines) if line.startswith("error: ")), None)
    if first is None:
        return (
            "message",
            f"{command}: exit {outcome.code} without an 'error:' line",
            f"stderr:\n{outcome.stderr[-800:]}",
        )
    # Lines before the first error are the work the command did before failing (a progress bar); after it, only
    # error lines. Warnings are never part of a clean error.
    stray = [line for line in lines[first:] if not line.startswith("error: ")]
    stray += [line for line in lines[:first] if "Warning:" in line]
    if stray:
        return "message", f"{command}: stderr lines that are not 'error:' lines", f"stderr:\n{outcome.stderr[-800:]}"
    errors = "\n".join(lines[first:])
    missing = [name for name in must_name if name not in errors]
    if missing:
        return (
            "message",
            f"{command}: the error does not name the field at fault",
            f"expected {missing!r} in:\n{errors[-800:]}",
        )
    return None


def scenario_packets(path: Path) -> float | None:
    """Packets a scenario file would send on a packet-level engine, or None when it does not load and validate.

    Counts ``duration × Σ packet rate`` over flows. A file that does not load fails before simulating anything.
    """
    from nettwin.scenario import load_scenario

    try:
        sc = load_scenario(path)
        total = float(sc.simulation.duration * sum(f.traffic.packet_rate for f in sc.flows))
    except Exception:  # any failure to load: the command stops before simulating
        return None
    return total if math.isfinite(total) else math.inf
