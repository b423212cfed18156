"""Torch's intra-op thread count, set for one block only where a caller asks for a number of threads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["torch_threads"]


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch limited to ``n`` intra-op threads (``None``: unchanged), restoring the setting after.

    Torch's thread count is process-wide: this is the one place nettwin changes it, and only for the block of a
    caller that passed a thread count (a ``threads`` argument or option).
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
