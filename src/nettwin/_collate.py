"""Several samples stacked into one: arrays concatenated, indices shifted by the running count of what they index.

A sample is a mapping of NumPy arrays whose rows describe entities (nodes, links, paths, ...). Stacking samples
concatenates each array along its first axis, and the samples become one disjoint whole: an array that *indexes*
an entity (a link's source node, a path's links) gets the number of those entities in the samples before it added,
and a CSR pointer array (``ptr[i]:ptr[i + 1]`` delimits row ``i``'s entries of some entity) is joined into one
pointer over all of them.

This is the scheme of PyTorch Geometric's ``Batch`` (its ``__inc__``), declared per call as data rather than per
class as methods. ``Batch`` itself is not used: it stacks its own ``Data`` objects of tensors, while both batches
of the package stack NumPy arrays (they normalise and pack paths before making tensors), and it would concatenate
CSR pointers rather than join them.

>>> a = {"x": np.array([1.0, 2.0]), "src": np.array([1, 0])}
>>> b = {"x": np.array([3.0, 4.0, 5.0]), "src": np.array([2])}
>>> c = collate([a, b], sizes={"node": "x"}, index={"src": "node"})
>>> c.arrays["src"].tolist(), c.offsets["node"].tolist(), c.membership("node").tolist()
([1, 0, 4], [0, 2, 5], [0, 0, 1, 1, 1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Collated", "collate"]


@dataclass(frozen=True, eq=False)
class Collated:
    """Samples stacked by :func:`collate`.

    ``arrays`` maps each key to its concatenation over the samples (indices shifted, pointers joined);
    ``offsets`` maps each entity to its ``(B + 1,)`` int64 running count: sample ``b``'s entities are
    ``offsets[e][b]:offsets[e][b + 1]`` of the whole, and ``offsets[e][-1]`` is their total.
    """

    arrays: dict[str, np.ndarray]
    offsets: dict[str, np.ndarray]

    @property
    def n_samples(self) -> int:
        return len(next(iter(self.offsets.values()))) - 1 if self.offsets else 0

    def counts(self, entity: str) -> np.ndarray:
        """``(B,)`` how many of ``entity`` each sample has."""
        return np.diff(self.offsets[entity])

    def membership(self, entity: str) -> np.ndarray:
        """``(n,)`` int64 sample of each ``entity`` of the whole."""
        return np.repeat(np.arange(self.n_samples), self.counts(entity))


def collate(
    samples: Sequence[Mapping[str, np.ndarray]],
    sizes: Mapping[str, str | Sequence[int]],
    index: Mapping[str, str] | None = None,
    pointer: Mapping[str, str] | None = None,
    empty: Mapping[str, np.ndarray] | None = None,
) -> Collated:
    """Stack ``samples`` into one (see the module docstring).

    Parameters
    ----------
    samples : per-sample arrays, all with the same keys.
    sizes : for each entity, how many each sample has: the key of an array with one row per entity, or the counts.
    index : keys whose values index an entity (``{"link_src": "node"}``): each sample's are shifted by the number of
        that entity in the samples before it.
    pointer : keys that are CSR pointers into an entity (``{"path_ptr": "hop"}``), each sample's starting at 0 and
        ending at its count of that entity: joined into one pointer, one longer than the sum of their rows.
    empty : arrays to take the keys, dtypes and trailing shapes from when there are no samples.

    Returns
    -------
    The concatenated arrays and each entity's offsets.

    Raises
    ------
    ValueError
        With no samples and no ``empty`` arrays: nothing says what the result holds.
    """
    if not samples and empty is None:
        raise ValueError("nothing to stack: no samples, and no empty arrays to stand for them")
    index, pointer = index or {}, pointer or {}
    offsets = {
        entity: _running(
            [len(s[by]) for s in samples] if isinstance(by, str) else np.asarray(by, dtype=np.int64), len(samples)
        )
        for entity, by in sizes.items()
    }
    arrays = {}
    for key in samples[0] if samples else empty:
        if not samples:
            arrays[key] = np.zeros(1, np.int64) if key in pointer else np.asarray(empty[key])[:0]
        elif key in index:
            arrays[key] = _shifted([s[key] for s in samples], offsets[index[key]][:-1])
        elif key in pointer:
            arrays[key] = _joined([s[key] for s in samples], offsets[pointer[key]][:-1])
        else:
            arrays[key] = np.concatenate([s[key] for s in samples])
    return Collated(arrays, offsets)


def _running(counts: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _shifted(parts: list[np.ndarray], shifts: np.ndarray) -> np.ndarray:
    """``concatenate([p + s for p, s in zip(parts, shifts)])``, written in place."""
    out = np.empty((sum(len(p) for p in parts), *parts[0].shape[1:]), np.result_type(*parts, np.int64))
    start = 0
    for part, shift in zip(parts, shifts, strict=True):
        np.add(part, shift, out=out[start : start + len(part)])
        start += len(part)
    return out


def _joined(parts: list[np.ndarray], shifts: np.ndarray) -> np.ndarray:
    """One CSR pointer from per-sample ones: each sample's rows after the previous', its entries shifted."""
    return np.concatenate([np.zeros(1, np.int64), _shifted([p[1:] for p in parts], shifts)])
