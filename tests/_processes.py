"""Helpers for tests about processes: descendants and liveness read from /proc, and waiting for a condition."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

LAST_GUARD = 300.0
"""Seconds after which a wait gives up: only a guard against hanging forever, never the expected duration."""


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def descendants(pid: int) -> set[int]:
    """Process ids of every living descendant of ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and alive(child):
                found.add(child)
                todo.append(child)
    return found


def wait_until(condition: Callable[[], object], what: str, limit: float = LAST_GUARD, interval: float = 0.05) -> None:
    """Poll ``condition`` every ``interval`` seconds until it holds; fail naming ``what`` if it still does not after
    ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {limit:g} s for {what}"
        time.sleep(interval)


def session(pid: int) -> set[int]:
    """Process ids of every living process of the session led by ``pid`` (children that outlived it included)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[3]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def command_line(pid: int) -> str:
    """The command line of ``pid`` ('' once it has ended)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""
