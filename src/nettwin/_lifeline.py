"""Processes that end on time: children that end with the process that started them, however it ends (``kill -9``
included), and an alarm for work that must not run past a deadline.

A *lifeline* is a pipe whose write end only the parent holds and never writes to. The kernel closes that end when
the parent ends, for whatever reason, and the child has asked the kernel to send it SIGKILL at that moment
(``O_ASYNC`` with ``F_SETSIG``). Nothing in the child has to run for this: not a thread that polls, which would wait
for the interpreter lock that a compiled simulation holds for minutes. Where the kernel cannot do it (not Linux), a
daemon thread reads the pipe and ends the process at end of file instead.

Process death signals (``PR_SET_PDEATHSIG``) would not do: they fire when the *thread* that started the child
ends, and they watch only the direct parent, while a pool's workers must end with the process that drives the pool.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["lifeline", "end_with", "alarm"]


def lifeline() -> tuple[int, int]:
    """A new lifeline pipe: ``(read end, write end)``.

    Hand the read end to the child (``subprocess.Popen(..., pass_fds=(read,))``) and close it here; keep the write
    end open as long as the child may live, and close it to end the child at once.
    """
    return os.pipe()


def end_with(fd: int) -> None:
    """End this process (SIGKILL) as soon as no process holds the write end of the pipe ``fd`` any more.

    Call it in the child, early. If the write end is already closed, the process ends here.
    """
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGKILL)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    except (ImportError, AttributeError, OSError):
        threading.Thread(target=_exit_at_end_of_file, args=(fd,), name="lifeline", daemon=True).start()
    # The parent may have ended before the signal was armed: the pipe is hung up already, and no signal will come.
    if _hung_up(fd):
        os._exit(1)


def _hung_up(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def _exit_at_end_of_file(fd: int) -> None:
    while os.read(fd, 4096):
        pass
    os._exit(1)


@contextlib.contextmanager
def alarm(seconds: float, action: Callable[[int, Any], None] | signal.Handlers = signal.SIG_DFL) -> Iterator[None]:
    """Deliver SIGALRM to this process after ``seconds`` unless the block ends first; ``action`` handles it.

    With the default action the kernel ends the process without running any Python code, so the alarm works even
    while compiled code holds the interpreter lock (a timer thread would wait for that code to return). Only the
    main thread can set it; the previous handler is restored afterwards.
    """
    previous = signal.signal(signal.SIGALRM, action)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
