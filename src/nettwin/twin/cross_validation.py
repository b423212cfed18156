"""k-fold cross-validation of a twin's settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from nettwin._estimator import clone
from nettwin.errors import TwinError
from nettwin.twin.base import BaseTwin
from nettwin.twin.inputs import as_items

__all__ = ["cross_validate"]


def cross_validate(
    twin: BaseTwin, samples: Iterable[Any], folds: int = 5, seed: int = 0, iqr: Mapping[str, float] | None = None
) -> list[dict[str, float]]:
    """k-fold cross-validation: NMAE per KPI of a fresh copy of ``twin`` trained on k−1 folds, scored on the last.

    Each fold's training part also supplies the early-stopping set (10 % of it). Returns one dict per fold.

    Raises
    ------
    TwinError
        If there are fewer samples than folds, or fewer than 2 folds.
    """
    items = as_items(samples)
    if folds < 2 or len(items) < folds:
        raise TwinError(f"cross_validate: need 2 ≤ folds ≤ samples, got folds={folds} for {len(items)} samples")
    perm = np.random.default_rng(seed).permutation(len(items))
    parts = np.array_split(perm, folds)
    scores = []
    for i in range(folds):
        train = [items[j] for p in parts[:i] + parts[i + 1 :] for j in p]
        test = [items[j] for j in parts[i]]
        model = clone(twin).fit(train, iqr=iqr)
        scores.append(model.score(test, iqr=iqr))
    return scores
