"""Conformance batteries a new twin or TE solver runs on itself (as scikit-learn's ``check_estimator``).

:func:`check_solver` checks a TE solver against the estimator contract and the TE rules (valid split ratios,
determinism, checkpoints that survive a new process, one-line errors); :func:`check_twin` does the same for a twin
(predictions of every flow and KPI, scores, checkpoints, one-line errors). Each takes a function that makes a new,
unfitted estimator with small settings, runs on tiny built-in inputs (or yours), and raises ``AssertionError``
naming the estimator and the rule it breaks.

Examples
--------
>>> from nettwin.te import ECMPSolver
>>> check_solver(ECMPSolver)
"""

from nettwin.testing.solvers import check_solver, te_instances
from nettwin.testing.twins import check_twin, twin_data

__all__ = ["check_solver", "check_twin", "te_instances", "twin_data"]
