"""The TE solver battery: :func:`check_solver`."""

from __future__ import annotations

import pickle
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from nettwin._estimator import clone
from nettwin.errors import NettwinError, NotFittedError
from nettwin.te.base import TESolver
from nettwin.te.checkpoint import load_solver, save_solver
from nettwin.te.graph import TEGraph
from nettwin.te.instance import TEInstance, pair_sums
from nettwin.te.paths import compute_paths
from nettwin.testing._battery import Battery, in_new_process

__all__ = ["check_solver", "te_instances"]

SUM_TOLERANCE = 1e-5
"""How far a pair's ratios may sum from 1 (learned solvers compute in float32)."""


class _Bad:
    """A parameter value no declared range accepts."""

    def __repr__(self) -> str:
        return "<bad value>"


def te_instances(count: int = 4, seed: int = 0, nodes: int = 6, k: int = 3) -> list[TEInstance]:
    """``count`` tiny instances of one random connected topology (``nodes`` nodes, twice as many links, random
    capacities, ``k`` candidate paths per pair), each with its own random all-pairs demand."""
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(nodes)]
    links = [(names[i], names[i + 1], float(rng.uniform(5, 20))) for i in range(nodes - 1)]
    seen = {(i, i + 1) for i in range(nodes - 1)}
    while len(links) < 2 * nodes:
        u, v = sorted(rng.choice(nodes, 2, replace=False).tolist())
        if (u, v) not in seen:
            seen.add((u, v))
            links.append((names[u], names[v], float(rng.uniform(5, 20))))
    graph = TEGraph.from_links(names, links, name=f"testing{seed}")
    paths = compute_paths(graph, k=k)
    return [TEInstance(graph, paths, rng.exponential(1.0, paths.n_pairs), f"testing{seed}-{i}") for i in range(count)]


def check_solver(make_solver: Callable[[], TESolver], instances: Sequence[TEInstance] | None = None) -> None:
    """Check that the solvers ``make_solver()`` makes follow the TE solver contract.

    ``make_solver`` makes a new, unfitted solver each call, with the same (small) settings: a learned solver
    should train for a step or two. ``instances`` are the inputs (default :func:`te_instances`: one tiny topology
    under four demands); the first three train, all are solved. The rules:

    * ``__init__`` only stores its arguments; ``get_params`` gives them, and a solver made of them has the same;
      ``set_params`` and ``clone`` work;
    * ``fit`` returns the solver, leaves its parameters alone and adds learned state ending in ``_``;
    * a solver that needs fitting (``needs_fit``) raises :class:`~nettwin.errors.NotFittedError` naming it when
      asked to solve first; any other solves at once;
    * ratios: one per candidate path, finite, non-negative, summing to 1 per pair;
    * the same settings (and seed) on the same instances give the same ratios;
    * a learned solver saved and loaded in a new Python process gives the same ratios; any other is refused by
      ``save_solver`` in one line;
    * bad input is one line (a :class:`~nettwin.errors.NettwinError`): every declared parameter (``PARAMS``) out
      of range, an unknown parameter, and for a learned solver, fitting on nothing.

    Raises
    ------
    AssertionError
        Naming the solver and the first rule it breaks.
    """
    instances = list(instances) if instances is not None else te_instances()
    train = instances[: max(1, len(instances) - 1)]
    solver = make_solver()
    b = Battery(f"{type(solver).__name__} '{solver.name}'")
    b.init_stores_parameters(solver)
    with b.rule("set_params and clone keep the parameters"):
        params = solver.get_params()
        b.require(solver.set_params(**params) is solver, "set_params returns self", "it did not")
        b.require(repr(clone(solver)) == repr(solver), "clone keeps the parameters", repr(clone(solver)))
    if solver.needs_fit:
        with b.rule("solve before fit raises NotFittedError"):
            b.one_line_error(
                "solve before fit raises NotFittedError naming the solver",
                lambda: make_solver().solve(instances[0]),
                NotFittedError,
                type(solver).__name__,
            )
    b.fit_returns_self(solver, lambda s: s.fit(train), solver.needs_fit)
    ratios = _solve_all(b, solver, instances)
    with b.rule("the same settings on the same instances give the same ratios"):
        again = _solve_all(b, make_solver().fit(train), instances)
        for i, (x, y) in enumerate(zip(ratios, again, strict=True)):
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-6, err_msg=f"instance {i}")
    _checkpoint(b, solver, instances, ratios)
    _bad_input(b, make_solver, train)


def _solve_all(b: Battery, solver: TESolver, instances: Sequence[TEInstance]) -> list[np.ndarray]:
    """Every instance's ratios, each checked: one per path, finite, non-negative, summing to 1 per pair."""
    out = []
    for inst in instances:
        rule = f"ratios are valid (instance {inst.name!r})"
        with b.rule(rule):
            x = np.asarray(solver.solve(inst), dtype=float)
        b.require(x.shape == (inst.n_paths,), rule, f"shape {x.shape}, expected ({inst.n_paths},)")
        b.require(bool(np.all(np.isfinite(x))), rule, "a ratio is not finite")
        b.require(bool(np.all(x >= 0)), rule, f"a ratio is negative ({x.min()})")
        sums = pair_sums(inst.paths, x)
        worst = int(np.argmax(np.abs(sums - 1)))
        b.require(
            bool(abs(sums[worst] - 1) <= SUM_TOLERANCE), rule, f"pair {worst}'s ratios sum to {sums[worst]}, not 1"
        )
        out.append(x)
    return out


def _checkpoint(b: Battery, solver: TESolver, instances: Sequence[TEInstance], ratios: list[np.ndarray]) -> None:
    if not solver.needs_fit:
        b.one_line_error(
            "save_solver refuses a solver without learned state in one line",
            lambda: save_solver(solver, Path(tempfile.gettempdir()) / "never-written.pt"),
            NettwinError,
        )
        return
    rule = "saved and loaded in a new process, it gives the same ratios"
    with tempfile.TemporaryDirectory() as tmp:
        with b.rule(rule):
            path = save_solver(solver, Path(tmp) / "solver.pt")
            (Path(tmp) / "instances.pkl").write_bytes(pickle.dumps(list(instances)))
        script = textwrap.dedent(f"""
            import json, pickle, sys
            from pathlib import Path
            from nettwin.te.checkpoint import load_solver
            solver = load_solver({str(path)!r})
            instances = pickle.loads(Path({str(Path(tmp) / "instances.pkl")!r}).read_bytes())
            json.dump({{"name": solver.name, "ratios": [solver.solve(i).tolist() for i in instances]}}, sys.stdout)
        """)
        other = in_new_process(b, rule, script)
        with b.rule(rule):
            b.require(other["name"] == solver.name, rule, f"it loads as {other['name']!r}")
            for i, (mine, theirs) in enumerate(zip(ratios, other["ratios"], strict=True)):
                np.testing.assert_allclose(theirs, mine, rtol=0, atol=1e-6, err_msg=f"instance {i}")
            loaded = load_solver(path)
            b.require(type(loaded) is type(solver), rule, f"it loads as a {type(loaded).__name__}")


def _bad_input(b: Battery, make_solver: Callable[[], TESolver], train: Sequence[TEInstance]) -> None:
    solver = make_solver()
    b.one_line_error(
        "an unknown parameter is refused in one line naming it",
        lambda: solver.set_params(no_such_parameter=1),
        NettwinError,
        "no_such_parameter",
    )
    for name in solver.PARAMS:
        bad = make_solver().set_params(**{name: _Bad()})
        rule = f"parameter '{name}' out of its declared range is refused in one line naming it"
        b.one_line_error(rule, bad.check_params, NettwinError, name)
        if bad.needs_fit:
            b.one_line_error(rule + " by fit", lambda s=bad: s.fit(train), NettwinError, name)
    if solver.needs_fit:
        b.one_line_error("fitting on no instances is refused in one line", lambda: make_solver().fit([]), NettwinError)
