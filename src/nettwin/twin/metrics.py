"""Error figures of twins: NMAE (errors in units of the training set's IQR) and MRE.

Both skip flows where the reference or the prediction is not finite; MRE also skips references ≤ 0.
"""

from __future__ import annotations

import numpy as np

from nettwin.sim.compare import relative_gap

__all__ = ["nmae", "mre"]


def nmae(pred: np.ndarray, ref: np.ndarray, iqr: float) -> float:
    """Normalised mean absolute error ``mean |pred − ref| / iqr`` (NaN when nothing can be compared).

    Examples
    --------
    >>> nmae(np.array([1.0, 3.0]), np.array([2.0, 2.0]), iqr=2.0)
    0.5
    """
    pred, ref = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    ok = np.isfinite(pred) & np.isfinite(ref)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.abs(pred[ok] - ref[ok])) / iqr)


def mre(pred: np.ndarray, ref: np.ndarray, floor: float = 1e-12) -> float:
    """Mean relative error ``mean |pred − ref| / ref`` over flows with ``ref > floor``.

    ``floor`` drops references that are zero up to rounding (the jitter of a flow sending at a constant rate comes
    out of a simulator as 1e-17 s, not 0), which would otherwise dominate the mean.

    Examples
    --------
    >>> round(mre(np.array([1.1, 0.0, 5.0]), np.array([1.0, 0.0, 1e-17])), 6)
    0.1
    """
    pred, ref = np.asarray(pred, dtype=float), np.asarray(ref, dtype=float)
    keep = ~(np.isfinite(ref) & (ref <= floor))
    return relative_gap(pred[keep], ref[keep])["mre"]
