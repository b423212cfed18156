"""The one definition of every statistic and error figure nettwin reports: distribution summaries, the IQR that
normalises KPIs, and the errors of a prediction against a reference (NMAE, MRE, relative gaps).

Every function skips values that are not finite, so a flow that received nothing (NaN delay) neither counts nor
poisons a figure; a figure with nothing left to compute from is NaN (or None in a JSON-ready summary).
"""

from __future__ import annotations

import numpy as np

__all__ = ["describe", "iqr", "nmae", "mre", "relative_gap", "summary", "r2", "spearman"]


def _finite(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    return v[np.isfinite(v)]


def describe(values: np.ndarray) -> dict[str, float | int | None]:
    """``n``, ``mean``, ``std``, ``min``, ``p25``, ``median``, ``p75``, ``max`` and ``iqr`` of the finite values,
    JSON-ready (every figure None when there are none).

    Examples
    --------
    >>> describe(np.array([1.0, 2.0, 3.0, np.nan]))["iqr"]
    1.0
    """
    v = _finite(values)
    if len(v) == 0:
        return {"n": 0, **dict.fromkeys(("mean", "std", "min", "p25", "median", "p75", "max", "iqr"))}
    q = np.percentile(v, [0, 25, 50, 75, 100])
    return {
        "n": int(len(v)),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "min": float(q[0]),
        "p25": float(q[1]),
        "median": float(q[2]),
        "p75": float(q[3]),
        "max": float(q[4]),
        "iqr": float(q[3] - q[1]),
    }


def iqr(values: np.ndarray) -> float:
    """Inter-quartile range of the finite values, safe to divide by: where it is zero (most flows drop nothing),
    the mean absolute deviation from the median, else the median's magnitude, else 1.

    Examples
    --------
    >>> iqr(np.array([1.0, 2.0, 3.0, 4.0, 5.0])), iqr(np.zeros(4))
    (2.0, 1.0)
    """
    v = _finite(values)
    if len(v) == 0:
        return 1.0
    q1, q3 = np.percentile(v, [25, 75])
    spread = float(q3 - q1)
    if spread > 0:
        return spread
    deviation = float(np.mean(np.abs(v - np.median(v))))
    return deviation if deviation > 0 else (float(abs(np.median(v))) or 1.0)


def summary(values: np.ndarray) -> dict[str, float]:
    """``avg``, ``p50``, ``p75``, ``p99`` and ``max`` of the finite values (NaN when there are none): the tail
    figures a solver's quality is judged by."""
    v = _finite(values)
    if v.size == 0:
        return dict.fromkeys(("avg", "p50", "p75", "p99", "max"), float("nan"))
    return {
        "avg": float(v.mean()),
        "p50": float(np.quantile(v, 0.5)),
        "p75": float(np.quantile(v, 0.75)),
        "p99": float(np.quantile(v, 0.99)),
        "max": float(v.max()),
    }


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
    """Mean relative error ``mean |pred − ref| / ref`` over entries with ``ref > floor``.

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


def r2(pred: np.ndarray, ref: np.ndarray) -> float:
    """Coefficient of determination ``1 − Σ(ref − pred)² / Σ(ref − mean ref)²`` over entries where both are finite
    (NaN when fewer than two are left or ``ref`` is constant there).

    Examples
    --------
    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])), r2(np.array([2.0, 2.0]), np.array([1.0, 3.0]))
    (1.0, 0.0)
    """
    pred, ref = np.asarray(pred, dtype=float).ravel(), np.asarray(ref, dtype=float).ravel()
    ok = np.isfinite(pred) & np.isfinite(ref)
    if ok.sum() < 2:
        return float("nan")
    total = float(np.sum((ref[ok] - ref[ok].mean()) ** 2))
    if total == 0:
        return float("nan")
    return 1.0 - float(np.sum((ref[ok] - pred[ok]) ** 2)) / total


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation over entries where both are finite, ties ranked by their mean rank (NaN when fewer
    than two are left or either side is constant there).

    Examples
    --------
    >>> spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 25.0]))
    1.0
    """
    from scipy.stats import rankdata

    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    ra, rb = rankdata(a[ok]), rankdata(b[ok])
    if np.std(ra) == 0 or np.std(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])
