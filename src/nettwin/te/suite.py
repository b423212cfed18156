"""One entry point from a short description to a list of instances — used by the CLI and the benchmarks."""

from __future__ import annotations

import numpy as np

from nettwin.errors import TEError
from nettwin.te.changes import dynamic_sequence, random_failures
from nettwin.te.datasets import sequence_instances
from nettwin.te.instance import TEInstance
from nettwin.te.paths import check_k
from nettwin.te.traffic import split_by_time

__all__ = ["make_instances", "SPLITS"]

SPLITS = ("all", "train", "test")


def make_instances(
    topology: str,
    steps: int = 96,
    traffic: str | None = None,
    seed: int = 0,
    k: int = 4,
    method: str = "yen",
    endpoints: int | None = None,
    dynamic: bool = False,
    failures: int = 0,
    split: str = "all",
    train_fraction: float = 0.75,
) -> list[TEInstance]:
    """Instances of one topology over time.

    Parameters
    ----------
    topology : topohub key or built-in name.
    steps : time steps (demand matrices).
    traffic : ``"sndlib"``, ``"gravity"`` or ``"bimodal"``; None picks ``"sndlib"`` for SNDlib topologies and
        ``"gravity"`` otherwise.
    seed : seeds traffic, changes and failures.
    k, method : candidate paths.
    endpoints : route only among this many sampled nodes.
    dynamic : a changing-topology sequence (:func:`~nettwin.te.changes.dynamic_sequence`) instead of a fixed
        topology.
    failures : fail this many random links in every instance (different links per instance, paths pruned).
    split : ``"all"``, or the ``"train"``/``"test"`` part of a split by time at ``train_fraction``.

    Examples
    --------
    >>> test = make_instances("sndlib/abilene", steps=8, split="test")
    >>> [i.meta["step"] for i in test]
    [6, 7]
    """
    if split not in SPLITS:
        raise TEError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    check_k(k)  # before any topology is read or path computed
    if traffic is None:
        traffic = "sndlib" if topology.startswith("sndlib/") else "gravity"
    if dynamic:
        if endpoints is not None:
            raise TEError("endpoints cannot be combined with dynamic sequences")
        out = dynamic_sequence(topology, steps, seed=seed, traffic=traffic, k=k, method=method)
    else:
        out = sequence_instances(topology, steps, traffic, seed, k, method, endpoints)
    if split != "all":
        train, test = split_by_time(out, train_fraction)
        out = train if split == "train" else test
    if failures:
        rng = np.random.default_rng(seed + 7)
        out = [random_failures(inst, failures, rng) for inst in out]
    return out
