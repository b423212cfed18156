"""Traffic engineering: min-MLU split ratios over k candidate paths.

Instances (:class:`TEInstance`: a :class:`TEGraph`, demands, a :class:`PathSet`), built from topologies or from the
shared :class:`~nettwin.scenario.network.Network` (:func:`network_instance`, whose solutions :func:`apply_split`
turns back into split flows and :func:`simulate_split` simulates); the exact LP (:class:`LPSolver`), a
Geminet-style learned dual-update solver (:class:`GeminetSolver`), DOTE (:class:`DOTESolver`), classic baselines,
topology changes and evaluation. Your own topologies and traffic matrices: :mod:`nettwin.te.files`; split ratios by
node name: :mod:`nettwin.te.splits`. Every solver follows one contract: ``fit(instances) -> self``,
``solve(instance) -> split ratios`` (:mod:`nettwin.te.base`), and is registered by name in
:mod:`nettwin.te.registry` (:func:`make_solver`, :func:`solver_names`).

Examples
--------
>>> from nettwin.te import LPSolver, ECMPSolver, make_instances
>>> inst = make_instances("sndlib/abilene", steps=1)[0]
>>> inst.mlu(LPSolver().solve(inst)) <= inst.mlu(ECMPSolver().solve(inst)) + 1e-9
True
"""

from nettwin.errors import NotFittedError, TEError
from nettwin.te.base import TESolver
from nettwin.te.baselines import ECMPSolver, RescaleSolver, ShortestPathSolver
from nettwin.te.changes import dynamic_sequence, fail_links, random_failures, scale_capacity
from nettwin.te.checkpoint import load_solver, save_solver
from nettwin.te.datasets import sequence_instances
from nettwin.te.dote import DOTESolver
from nettwin.te.evaluate import Evaluation, evaluate, plot_cdf
from nettwin.te.files import file_instances, read_demands, read_network, read_topology
from nettwin.te.geminet import GeminetNet, GeminetSolver
from nettwin.te.graph import TEGraph, te_graph
from nettwin.te.instance import TEInstance
from nettwin.te.lp import LPSolver, solve_lp
from nettwin.te.network import apply_split, flow_demands, network_graph, network_instance
from nettwin.te.paths import PathSet, compute_paths
from nettwin.te.registry import SOLVERS, learned_names, make_solver, solver_class, solver_names
from nettwin.te.simulate import SplitSimulation, simulate_split
from nettwin.te.splits import apply_splits, read_splits, write_splits
from nettwin.te.suite import make_instances

__all__ = [
    "DOTESolver",
    "ECMPSolver",
    "Evaluation",
    "GeminetNet",
    "GeminetSolver",
    "LPSolver",
    "NotFittedError",
    "PathSet",
    "RescaleSolver",
    "SOLVERS",
    "ShortestPathSolver",
    "SplitSimulation",
    "TEError",
    "TEGraph",
    "TEInstance",
    "TESolver",
    "compute_paths",
    "apply_split",
    "apply_splits",
    "dynamic_sequence",
    "evaluate",
    "fail_links",
    "learned_names",
    "flow_demands",
    "file_instances",
    "load_solver",
    "make_instances",
    "make_solver",
    "network_graph",
    "network_instance",
    "plot_cdf",
    "random_failures",
    "read_demands",
    "read_network",
    "read_splits",
    "read_topology",
    "save_solver",
    "scale_capacity",
    "sequence_instances",
    "simulate_split",
    "solve_lp",
    "solver_class",
    "solver_names",
    "te_graph",
    "write_splits",
]
