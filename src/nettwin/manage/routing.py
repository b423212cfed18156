"""QoS-aware routing (RouteNet): one path per flow among k candidates, chosen through a twin for per-flow SLAs.

Each flow's candidates are its source–destination pair's k shortest loop-free paths over the network's links, as
traffic engineering computes them (:func:`~nettwin.te.network.network_instance`). A seeded local search starts from
shortest-path routing (every flow on its first candidate; further restarts from random assignments) and moves one
flow to another candidate at a time: each step's whole neighbourhood, built with the
:class:`~nettwin.scenario.edits.ChangePaths` edit, is predicted in one batched twin call, and the best neighbour is
taken while it improves (bounds missed, then worst SLA margin). :func:`compare_routings` judges shortest-path
routing, the min-MLU TE split (the LP applied with :func:`~nettwin.te.network.apply_split`) and the chosen routing
by simulation (:func:`~nettwin.manage.verify.verify`): SLA violations, worst margin, mean delay and MLU of each, so
that it shows where the least loaded routing is not the one that meets the SLAs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nettwin._files import atomic_write_png
from nettwin._json import plain, write_json
from nettwin.errors import ManageError, TEError
from nettwin.manage.sla import drop_rates, violations
from nettwin.manage.verify import Verification, verify
from nettwin.scenario.edits import ChangePaths, apply_edits
from nettwin.scenario.network import Network

__all__ = [
    "Candidates",
    "candidate_paths",
    "with_routes",
    "RouteSearch",
    "search_routes",
    "RoutingComparison",
    "compare_routings",
    "write_report",
]

Progress = Callable[[int], None]
"""Called with 1 after each restart of the local search."""

OPTIONS = ("shortest", "min_mlu", "chosen")
"""The routings :func:`compare_routings` judges, in report order."""


@dataclass(frozen=True)
class Candidates:
    """Per flow, its candidate paths as lists of node names (shortest first, fewest hops) and as link indices."""

    nodes: list[list[list[str]]]
    links: list[list[list[int]]]
    instance: Any
    """The TE instance over the network's links and flows they come from (:func:`~nettwin.te.network_instance`)."""

    @property
    def counts(self) -> np.ndarray:
        """(F,) number of candidates of each flow."""
        return np.array([len(c) for c in self.nodes], dtype=int)


def candidate_paths(network: Network, k: int = 4) -> Candidates:
    """Up to ``k`` candidate paths of every flow of ``network``: its pair's paths in the TE instance of the network.

    Raises
    ------
    ManageError
        If the network has no flows, or traffic engineering cannot route it (parallel links, a flow without a path,
        a bad ``k``).
    """
    from nettwin.te.network import network_instance

    if network.n_flows == 0:
        raise ManageError("network: has no flows to route")
    try:
        inst = network_instance(network, k=k)
    except TEError as err:
        raise ManageError(f"candidate paths: {err}") from err
    ps = inst.paths
    pair_of = {(int(s), int(t)): p for p, (s, t) in enumerate(ps.pairs.tolist())}
    nodes, links = [], []
    for i, f in enumerate(network.flows):
        p = pair_of.get((f.src, f.dst))
        if p is None:
            raise ManageError(f"flows[{i}]: sends nothing, so traffic engineering gives it no candidate path")
        paths = [ps.path(q) for q in range(ps.pair_ptr[p], ps.pair_ptr[p + 1])]
        links.append(paths)
        nodes.append(
            [[network.nodes[f.src], *(network.nodes[network.link_dst[link]] for link in path)] for path in paths]
        )
    return Candidates(nodes, links, inst)


def with_routes(network: Network, candidates: Candidates, choice: Sequence[int]) -> Network:
    """``network`` with flow i pinned to its candidate ``choice[i]`` (the :class:`ChangePaths` edit)."""
    return apply_edits(network, [ChangePaths(i, [candidates.nodes[i][int(c)]]) for i, c in enumerate(choice)])


def _judge(kpis: Mapping[str, np.ndarray], bounds: Mapping[str, np.ndarray], network: Network) -> tuple[int, float]:
    """(bounds missed, worst margin) of per-flow KPIs (a twin's drop counts read as rates)."""
    values = dict(kpis)
    if np.isfinite(np.asarray(bounds.get("drop_rate", np.nan), dtype=float)).any() and "drop_rate" not in values:
        values["drop_rate"] = drop_rates(values, network)
    judged = violations(values, dict(bounds))
    worst = judged.worst_margin
    return judged.count, (float("inf") if worst is None else worst)


def _better(a: tuple[int, float], b: tuple[int, float]) -> bool:
    """Whether score ``a`` beats ``b``: fewer bounds missed, or as many and a larger worst margin."""
    return a[0] < b[0] or (a[0] == b[0] and a[1] > b[1])


@dataclass
class RouteSearch:
    """The routing a local search chose and how it got there."""

    network: Network
    choice: np.ndarray
    """(F,) candidate index of each flow."""
    violations: int
    """Bounds the twin predicts missed."""
    worst_margin: float
    predicted: dict[str, np.ndarray]
    evaluations: int
    candidates: Candidates
    restarts: list[dict[str, Any]] = field(default_factory=list)
    """Per restart: its start, steps, and (violations, worst margin) after each step (``trace``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (a worst margin of −inf is null)."""
        return plain(
            {
                "choice": self.choice,
                "violations": self.violations,
                "worst_margin": self.worst_margin if np.isfinite(self.worst_margin) else None,
                "evaluations": self.evaluations,
                "restarts": self.restarts,
            }
        )


def _check(network: Network, twin: Any, bounds: Mapping[str, np.ndarray]) -> None:
    bounded = [k for k, v in bounds.items() if np.isfinite(np.asarray(v, dtype=float)).any()]
    if not bounded:
        raise ManageError("sla: bounds no KPI of any flow")
    for k in bounded:
        if np.asarray(bounds[k]).shape != (network.n_flows,):
            raise ManageError(f"sla.{k}: {np.asarray(bounds[k]).size} bounds for {network.n_flows} flows")
    predicts = getattr(twin, "kpis_", None)
    if predicts is not None:
        for k in bounded:
            need = "drops" if k == "drop_rate" and "drop_rate" not in predicts else k
            if need not in predicts:
                raise ManageError(
                    f"sla: bounds {k}, which the twin does not predict; it predicts {', '.join(predicts)}"
                )


def search_routes(
    network: Network,
    twin: Any,
    bounds: Mapping[str, np.ndarray],
    *,
    k: int = 4,
    restarts: int = 3,
    seed: int = 0,
    max_steps: int | None = None,
    candidates: Candidates | None = None,
    progress: Progress | None = None,
) -> RouteSearch:
    """Choose one candidate path per flow so that the twin predicts every SLA bound met, else the worst margin
    maximal.

    Restart 0 starts from shortest-path routing, the others from random assignments drawn with ``seed``; each moves
    one flow at a time to the best neighbour (all flows, all their other candidates, predicted in one batch) while
    it improves (fewer bounds missed, or as many with a larger worst margin). Same inputs and seed, same result.

    Raises
    ------
    ManageError
        If ``restarts`` is below 1, the SLA bounds nothing or what the twin does not predict, or the flows cannot be
        routed.
    """
    if restarts < 1:
        raise ManageError(f"restarts: must be at least 1, got {restarts}")
    _check(network, twin, bounds)
    cands = candidates if candidates is not None else candidate_paths(network, k)
    counts = cands.counts
    rng = np.random.default_rng(seed)
    evaluations = 0

    def evaluate(choices: list[np.ndarray]) -> tuple[list[tuple[int, float]], list[Network], list[dict]]:
        nonlocal evaluations
        nets = [with_routes(network, cands, c) for c in choices]
        preds = twin.predict(nets)
        evaluations += len(nets)
        return [_judge(p, bounds, n) for p, n in zip(preds, nets, strict=True)], nets, preds

    best: tuple[tuple[int, float], np.ndarray, Network, dict] | None = None
    log: list[dict[str, Any]] = []
    for r in range(restarts):
        current = np.zeros(network.n_flows, dtype=int) if r == 0 else rng.integers(0, counts)
        (score,), (net,), (pred,) = evaluate([current])
        trace = [score]
        start = current.copy()
        while max_steps is None or len(trace) <= max_steps:
            moves = [(i, c) for i in range(network.n_flows) for c in range(counts[i]) if c != current[i]]
            if not moves:
                break
            neighbours = []
            for i, c in moves:
                n = current.copy()
                n[i] = c
                neighbours.append(n)
            scores, nets, preds = evaluate(neighbours)
            j = 0
            for m in range(1, len(scores)):
                if _better(scores[m], scores[j]):
                    j = m
            if not _better(scores[j], score):
                break
            current, score, net, pred = neighbours[j], scores[j], nets[j], preds[j]
            trace.append(score)
        log.append({"start": start, "steps": len(trace) - 1, "trace": [list(s) for s in trace], "choice": current})
        if best is None or _better(score, best[0]):
            best = (score, current.copy(), net, pred)
        if progress is not None:
            progress(1)
    assert best is not None
    (count, worst), choice, net, pred = best
    return RouteSearch(net, choice, count, worst, pred, evaluations, cands, log)


@dataclass
class RoutingComparison:
    """Shortest-path routing, the min-MLU TE split and the chosen routing, each predicted and simulated."""

    networks: dict[str, Network]
    predicted: dict[str, dict[str, np.ndarray]]
    verifications: dict[str, Verification]
    bounds: dict[str, np.ndarray]
    search: RouteSearch
    candidates: Candidates
    twin: str = ""

    def figures(self) -> dict[str, dict[str, Any]]:
        """Per option: MLU; simulated and predicted bounds missed and worst margin; simulated and predicted mean
        delay (seconds); flows missing some bound (simulated)."""
        out: dict[str, dict[str, Any]] = {}
        for name, net in self.networks.items():
            ver = self.verifications.get(name)
            pred = self.predicted[name]
            p_count, p_worst = _judge(pred, self.bounds, net)
            row: dict[str, Any] = {
                "mlu": float(np.max(net.offered_load / net.capacity)) if net.n_links else 0.0,
                "twin_violations": p_count,
                "twin_worst_margin": p_worst,
                "twin_mean_delay": float(np.nanmean(pred["delay"])) if "delay" in pred else None,
            }
            if ver is not None:
                means = {k: ver.mean(k) for k in ver.kpis}
                judged = violations(means, self.bounds)
                row.update(
                    violations=judged.count,
                    flows_missing=int(judged.any.sum()),
                    worst_margin=judged.worst_margin,
                    mean_delay=float(np.nanmean(means["delay"])),
                )
            out[name] = {key: (v if v is None or np.isfinite(v) else None) for key, v in row.items()}
        return plain(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: each option's figures and paths, the search, the verifications."""
        paths = {
            name: [[[net.nodes[n] for n in route] for route in net.route_nodes(i)] for i in range(net.n_flows)]
            for name, net in self.networks.items()
        }
        return plain(
            {
                "network": self.networks["shortest"].name,
                "twin": self.twin,
                "options": self.figures(),
                "paths": paths,
                "candidates": self.candidates.counts,
                "search": self.search.to_dict(),
                "verification": {name: v.to_dict() for name, v in self.verifications.items()},
            }
        )


def compare_routings(
    network: Network,
    twin: Any,
    bounds: Mapping[str, np.ndarray],
    *,
    k: int = 4,
    restarts: int = 3,
    seed: int = 0,
    runs: int = 3,
    search: RouteSearch | None = None,
    progress: Progress | None = None,
) -> RoutingComparison:
    """Search a routing (:func:`search_routes`, unless ``search`` is one done already) and judge it beside
    shortest-path routing and the min-MLU TE split, each simulated ``runs`` times at the network's seed (``runs=0``:
    the twin's figures only).

    Raises
    ------
    ManageError
        As :func:`search_routes`, or if ``runs`` is negative.
    """
    from nettwin.te.lp import LPSolver
    from nettwin.te.network import apply_split

    if runs < 0:
        raise ManageError(f"runs: must be at least 0, got {runs}")
    bounds = {key: np.asarray(v, dtype=float) for key, v in bounds.items()}
    if search is None:
        search = search_routes(network, twin, bounds, k=k, restarts=restarts, seed=seed, progress=progress)
    cands = search.candidates
    try:
        min_mlu = apply_split(network, cands.instance, LPSolver().solve(cands.instance))
    except TEError as err:
        raise ManageError(f"min-MLU split: {err}") from err
    networks = {
        "shortest": with_routes(network, cands, np.zeros(network.n_flows, dtype=int)),
        "min_mlu": min_mlu,
        "chosen": search.network,
    }
    predicted = dict(zip(networks, twin.predict(list(networks.values())), strict=True))
    bounded = [key for key, v in bounds.items() if np.isfinite(v).any()]
    kpis = list(dict.fromkeys(["delay", *bounded]))
    verifications = {}
    if runs:
        for name, net in networks.items():
            verifications[name] = verify(net, runs=runs, predicted=predicted[name], bounds=bounds, kpis=kpis)
    return RoutingComparison(
        networks, predicted, verifications, bounds, search, cands, getattr(twin, "name", type(twin).__name__)
    )


def write_report(comparison: RoutingComparison, out: str | Path) -> tuple[Path, Path]:
    """Write ``routing.json`` (:meth:`RoutingComparison.to_dict`) and ``routing.png`` (per option: bounds missed,
    worst margin, mean delay and MLU, simulated where simulated, else by the twin) into the folder ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / "routing.json", out / "routing.png"
    write_json(json_path, comparison.to_dict())
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = comparison.figures()
    simulated = bool(comparison.verifications)
    panels = [
        ("violations" if simulated else "twin_violations", "SLA bounds missed", 1.0),
        ("worst_margin" if simulated else "twin_worst_margin", "worst SLA margin", 1.0),
        ("mean_delay" if simulated else "twin_mean_delay", "mean delay (ms)", 1e3),
        ("mlu", "MLU", 1.0),
    ]
    names = list(figures)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.4))
    for ax, (key, label, scale) in zip(axes, panels, strict=True):
        values = [scale * (figures[n].get(key) or 0.0) for n in names]
        ax.bar(names, values, color=[f"C{j}" for j in range(len(names))])
        ax.set_title(label, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    how = f"simulated {next(iter(comparison.verifications.values())).to_dict()['runs']} runs" if simulated else "twin"
    fig.suptitle(f"{comparison.networks['shortest'].name}: routings ({how})", fontsize=10)
    fig.tight_layout()
    atomic_write_png(png_path, fig, dpi=110)
    return json_path, png_path
