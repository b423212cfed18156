"""Comparing one set of KPI values with a reference: the error figures every report uses."""

from __future__ import annotations

import numpy as np

__all__ = ["relative_gap"]


def relative_gap(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Mean and median relative error ``|pred − ref| / ref`` over entries with ``ref > 0``, and the correlation.

    Entries where either value is NaN are skipped. Returns NaN figures when nothing is left to compare, and a NaN
    correlation when either side is constant.
    """
    pred, ref = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    ok = np.isfinite(pred) & np.isfinite(ref) & (ref > 0)
    if not ok.any():
        return {"mre": float("nan"), "median_re": float("nan"), "corr": float("nan"), "n": 0}
    re = np.abs(pred[ok] - ref[ok]) / ref[ok]
    both = np.isfinite(pred) & np.isfinite(ref)
    varies = both.sum() > 1 and np.std(ref[both]) > 0 and np.std(pred[both]) > 0
    corr = float(np.corrcoef(pred[both], ref[both])[0, 1]) if varies else float("nan")
    return {"mre": float(re.mean()), "median_re": float(np.median(re)), "corr": corr, "n": int(ok.sum())}
