"""Flow destinations chosen by the twin (GLANCE's Alg. 2): sources stay, each flow's destination is searched.

Hill climbing with random restarts: each restart draws ``starts`` random destination lists, keeps the one the twin
rates best, then moves one flow's destination at a time to the best neighbour (every flow, every other node: the
whole neighbourhood of one step predicted in one batch) until no neighbour is strictly better. Candidates are built
with the :class:`~nettwin.scenario.edits.ChangeDestination` edit, so every flow is rerouted by the scenario's own
routing and no path length is capped. The goal is a :class:`Goal`: per-flow target KPIs (:class:`TargetProfile`),
every flow within its SLA (:class:`SLAGoal`), or anything else that scores predicted KPIs.
:func:`choose_destinations` adds what judges the choice: random search at the same number of twin evaluations, and
the simulated truth of the network before and after (:func:`~nettwin.manage.verify.verify`).

Everything is seeded: the same network, twin, goal and seed give the same destinations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nettwin._files import atomic_write_png
from nettwin._json import plain, write_json
from nettwin.errors import ManageError
from nettwin.manage.sla import drop_rates, violations
from nettwin.manage.verify import Verification, qos_failures, verify
from nettwin.scenario.edits import ChangeDestination, apply_edits
from nettwin.scenario.network import Network
from nettwin.sim.kpi import FLOW_KPIS

__all__ = [
    "Goal",
    "TargetProfile",
    "SLAGoal",
    "DestinationSearch",
    "SearchResult",
    "search_destinations",
    "random_search",
    "exhaustive_search",
    "reachable_destinations",
    "DestinationChoice",
    "choose_destinations",
    "write_report",
    "with_destinations",
    "destination_lists",
]

Progress = Callable[[int], None]
"""Called with work just done: a restart finished (hill climbing), configurations evaluated (random and exhaustive
search)."""

UNMET = 10.0
"""The shortfall counted for a bounded KPI a flow has no value of (it received nothing)."""


class Goal(Protocol):
    """What a destination search aims at: a score of one configuration's predicted per-flow KPIs (SI units), lower
    is better, 0 perfect."""

    kpis: tuple[str, ...]

    def loss(self, kpis: Mapping[str, np.ndarray]) -> float: ...


@dataclass(frozen=True)
class TargetProfile:
    """Per-flow target KPIs (``{kpi: (F,)}``, SI units, NaN where a flow has none: what
    :func:`~nettwin.manage.loads.read_targets` reads).

    The loss is the mean relative error of the predicted KPIs against the targets, each flow and KPI with a target
    counting once; ``floor`` keeps a zero target (no drops) from dividing by zero.
    """

    targets: Mapping[str, np.ndarray]
    floor: Mapping[str, float] = field(default_factory=lambda: {"drops": 1.0, "drop_rate": 1e-3})

    def __post_init__(self) -> None:
        if not self.targets:
            raise ManageError("targets: no KPI given")
        unknown = [k for k in self.targets if k not in FLOW_KPIS]
        if unknown:
            raise ManageError(f"targets: unknown KPI {unknown[0]!r}; one of {', '.join(FLOW_KPIS)}")
        object.__setattr__(self, "targets", {k: np.asarray(v, dtype=float) for k, v in self.targets.items()})

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def check(self, network: Network) -> None:
        """Raise one line if the targets do not give one value per flow of ``network``."""
        for k, v in self.targets.items():
            if v.shape != (network.n_flows,):
                raise ManageError(f"targets.{k}: {v.size} values for {network.n_flows} flows")

    def loss(self, kpis: Mapping[str, np.ndarray]) -> float:
        errors = []
        for k, t in self.targets.items():
            has = np.isfinite(t)
            value = np.asarray(kpis[k], dtype=float)[has]
            scale = np.maximum(np.abs(t[has]), self.floor.get(k, 1e-12))
            errors.append(np.where(np.isfinite(value), np.abs(value - t[has]) / scale, UNMET))
        both = np.concatenate(errors)
        return float(both.mean()) if both.size else 0.0


@dataclass(frozen=True)
class SLAGoal:
    """Every flow within its SLA bounds (``{kpi: (F,)}``, :meth:`~nettwin.manage.sla.SLA.bounds`).

    The loss is the share of bounds missed plus the mean relative shortfall (the negative margins of
    :func:`~nettwin.manage.sla.violations`), so a configuration that misses fewer bounds always scores better, and
    among equals the one that misses them by less. ``network`` gives a twin's drop counts their rates
    (:func:`~nettwin.manage.sla.drop_rates`); destinations leave every flow's traffic, hence its packets, as it is.
    """

    bounds: Mapping[str, np.ndarray]
    network: Network

    def __post_init__(self) -> None:
        bounds = {k: np.asarray(v, dtype=float) for k, v in self.bounds.items()}
        bounds = {k: v for k, v in bounds.items() if np.isfinite(v).any()}
        if not bounds:
            raise ManageError("sla: bounds no KPI of any flow")
        object.__setattr__(self, "bounds", bounds)

    @property
    def kpis(self) -> tuple[str, ...]:
        return tuple("drops" if k == "drop_rate" else k for k in self.bounds)

    def check(self, network: Network) -> None:
        for k, v in self.bounds.items():
            if v.shape != (network.n_flows,):
                raise ManageError(f"sla.{k}: {v.size} bounds for {network.n_flows} flows")

    def loss(self, kpis: Mapping[str, np.ndarray]) -> float:
        values = dict(kpis)
        if "drop_rate" in self.bounds and "drop_rate" not in values:
            values["drop_rate"] = drop_rates(values, self.network)
        judged = violations(values, self.bounds)
        margins = np.concatenate([m[~np.isnan(m)] for m in judged.margin.values()])
        shortfall = np.minimum(np.maximum(-margins, 0.0), UNMET)
        return float(judged.count / margins.size + shortfall.mean())


def reachable_destinations(network: Network) -> list[np.ndarray]:
    """Per flow, the nodes its source reaches over the network's links, itself excluded (sorted)."""
    adjacency: list[list[int]] = [[] for _ in range(network.n_nodes)]
    for s, d in zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True):
        adjacency[s].append(d)
    reach: dict[int, np.ndarray] = {}
    for f in network.flows:
        if f.src not in reach:
            seen, stack = {f.src}, [f.src]
            while stack:
                for nxt in adjacency[stack.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            reach[f.src] = np.array(sorted(seen - {f.src}), dtype=int)
    return [reach[f.src] for f in network.flows]


def destination_lists(network: Network) -> int:
    """How many destination lists ``network``'s flows have (what :func:`exhaustive_search` enumerates)."""
    return int(np.prod([len(r) for r in reachable_destinations(network)], dtype=float))


def with_destinations(network: Network, destinations: Sequence[int]) -> Network:
    """``network`` with flow i sent to node ``destinations[i]`` (rerouted by its routing); unchanged flows kept."""
    edits = [ChangeDestination(i, int(d)) for i, d in enumerate(destinations) if int(d) != network.flows[i].dst]
    return apply_edits(network, edits) if edits else network


@dataclass
class SearchResult:
    """The best configuration a search found and how it got there."""

    network: Network
    destinations: np.ndarray
    """(F,) node index of each flow's destination."""
    loss: float
    predicted: dict[str, np.ndarray]
    """The twin's per-flow KPIs (SI) of :attr:`network`."""
    evaluations: int
    """Configurations the twin evaluated."""
    history: list[float] = field(default_factory=list)
    """The best loss after each evaluated batch (non-increasing)."""
    restarts: list[dict[str, Any]] = field(default_factory=list)
    """Per restart: its start's loss, its hill-climbing steps, the loss after each (``trace``) and its final loss."""
    optima: list[tuple[np.ndarray, Network, float]] = field(default_factory=list)
    """Each restart's final configuration: its destinations, network and loss."""


class _Evaluator:
    """Scores destination lists with the twin in batches, counting evaluations and keeping the best seen."""

    def __init__(self, network: Network, twin: Any, goal: Goal, batch_size: int, progress: Progress | None) -> None:
        self.network, self.twin, self.goal = network, twin, goal
        self.batch_size, self.progress = batch_size, progress
        self.evaluations = 0
        self.best: tuple[float, np.ndarray, Network, dict[str, np.ndarray]] | None = None
        self.history: list[float] = []

    def __call__(
        self, candidates: Sequence[np.ndarray], nets: list[Network] | None = None
    ) -> tuple[np.ndarray, list[Network]]:
        """Losses and networks of ``candidates`` (destination lists; ``nets``: their networks, if built already),
        predicted batch by batch."""
        if nets is None:
            nets = [with_destinations(self.network, c) for c in candidates]
        preds: list[dict] = []
        for lo in range(0, len(nets), self.batch_size):
            chunk = nets[lo : lo + self.batch_size]
            preds.extend(self.twin.predict(chunk))
            self.evaluations += len(chunk)
            if self.progress:
                self.progress(len(chunk))
        losses = np.array([self.goal.loss(p) for p in preds])
        if len(losses):
            i = int(np.argmin(losses))
            if self.best is None or losses[i] < self.best[0]:
                self.best = (float(losses[i]), np.asarray(candidates[i]).copy(), nets[i], preds[i])
            self.history.append(self.best[0])
        return losses, nets

    def result(self, restarts: list[dict[str, Any]] | None = None) -> SearchResult:
        assert self.best is not None
        loss, dst, net, pred = self.best
        return SearchResult(net, dst, loss, pred, self.evaluations, list(self.history), restarts or [])


def _random_lists(rng: np.random.Generator, reach: list[np.ndarray], count: int) -> list[np.ndarray]:
    return [np.array([r[rng.integers(len(r))] for r in reach], dtype=int) for _ in range(count)]


def _checked(network: Network, twin: Any, goal: Goal) -> list[np.ndarray]:
    if network.n_flows == 0:
        raise ManageError("network: has no flows whose destinations to choose")
    check = getattr(goal, "check", None)
    if check is not None:
        check(network)
    missing = [k for k in goal.kpis if k not in getattr(twin, "kpis_", goal.kpis)]
    if missing:
        raise ManageError(f"goal: the twin does not predict {missing[0]!r}; it predicts {', '.join(twin.kpis_)}")
    reach = reachable_destinations(network)
    stuck = [i for i, r in enumerate(reach) if len(r) == 0]
    if stuck:
        raise ManageError(f"flows[{stuck[0]}]: its source {network.nodes[network.flows[stuck[0]].src]} reaches no node")
    return reach


@dataclass(frozen=True)
class DestinationSearch:
    """Hill climbing with random restarts over flow destinations (GLANCE's Alg. 2).

    Parameters
    ----------
    restarts : hill climbs, each from the best of its own random start lists (GLANCE: 5).
    starts : random destination lists drawn per restart (GLANCE: 100).
    max_steps : steps per climb at most (None: until no neighbour is better).
    batch_size : configurations per twin call.
    seed : seed of the random start lists.
    """

    restarts: int = 5
    starts: int = 100
    max_steps: int | None = None
    batch_size: int = 512
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("restarts", "starts", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ManageError(f"{name}: must be a whole number >= 1, got {value!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 0):
            raise ManageError(f"max_steps: must be a whole number >= 0, got {self.max_steps!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ManageError(f"seed: must be a whole number >= 0, got {self.seed!r}")

    def run(self, network: Network, twin: Any, goal: Goal, progress: Progress | None = None) -> SearchResult:
        """The best destinations found for ``network``'s flows by ``twin``'s predictions against ``goal``."""
        reach = _checked(network, twin, goal)
        rng = np.random.default_rng(self.seed)
        evaluate = _Evaluator(network, twin, goal, self.batch_size, None)
        restarts: list[dict[str, Any]] = []
        optima: list[tuple[np.ndarray, Network, float]] = []
        for _ in range(self.restarts):
            starts = _random_lists(rng, reach, self.starts)
            losses, nets = evaluate(starts)
            first = int(np.argmin(losses))
            current, net, loss = starts[first], nets[first], float(losses[first])
            record: dict[str, Any] = {"start_loss": loss, "steps": 0, "trace": [loss]}
            while self.max_steps is None or record["steps"] < self.max_steps:
                moves = [(i, int(d)) for i, r in enumerate(reach) for d in r if d != current[i]]
                if not moves:
                    break
                candidates = []
                for i, d in moves:
                    c = current.copy()
                    c[i] = d
                    candidates.append(c)
                # one edit away from the current network: only the moved flow is rerouted
                losses, nets = evaluate(candidates, [ChangeDestination(i, d).apply(net) for i, d in moves])
                best = int(np.argmin(losses))
                if not losses[best] < loss:  # a local optimum: no neighbour is strictly better
                    break
                current, net, loss = candidates[best], nets[best], float(losses[best])
                record["steps"] += 1
                record["trace"].append(loss)
            record["loss"] = loss
            restarts.append(record)
            optima.append((current, net, loss))
            if progress:
                progress(1)
        result = evaluate.result(restarts)
        result.optima = optima
        return result


def search_destinations(
    network: Network, twin: Any, goal: Goal, *, progress: Progress | None = None, **params: Any
) -> SearchResult:
    """:meth:`DestinationSearch.run` with ``params`` (restarts, starts, max_steps, batch_size, seed)."""
    return DestinationSearch(**params).run(network, twin, goal, progress)


def random_search(
    network: Network,
    twin: Any,
    goal: Goal,
    evaluations: int,
    *,
    seed: int = 0,
    batch_size: int = 512,
    progress: Progress | None = None,
) -> SearchResult:
    """The best of ``evaluations`` random destination lists (the baseline at an equal twin budget)."""
    if isinstance(evaluations, bool) or not isinstance(evaluations, int) or evaluations < 1:
        raise ManageError(f"evaluations: must be a whole number >= 1, got {evaluations!r}")
    reach = _checked(network, twin, goal)
    evaluate = _Evaluator(network, twin, goal, batch_size, progress)
    rng = np.random.default_rng(seed)
    for lo in range(0, evaluations, batch_size):
        evaluate(_random_lists(rng, reach, min(batch_size, evaluations - lo)))
    return evaluate.result()


def exhaustive_search(
    network: Network,
    twin: Any,
    goal: Goal,
    *,
    limit: int = 20_000,
    batch_size: int = 512,
    progress: Progress | None = None,
) -> SearchResult:
    """The best of every destination list, by the twin; refused in one line above ``limit`` configurations."""
    reach = _checked(network, twin, goal)
    total = destination_lists(network)
    if total > limit:
        raise ManageError(f"exhaustive search: {total} configurations, more than the limit of {limit}")
    evaluate = _Evaluator(network, twin, goal, batch_size, progress)
    grids = np.meshgrid(*reach, indexing="ij")
    every = np.stack([g.ravel() for g in grids], axis=1)
    for lo in range(0, len(every), batch_size):
        evaluate(list(every[lo : lo + batch_size]))
    return evaluate.result()


@dataclass
class DestinationChoice:
    """A destination search's choice, the random-search baseline at its budget, and both judged by simulation."""

    original: Network
    twin: Any
    goal: Goal
    found: SearchResult
    search: DestinationSearch
    baseline: SearchResult | None = None
    before: Verification | None = None
    """The simulated original network (with the twin's prediction of it)."""
    after: Verification | None = None
    """The simulated chosen network (with the twin's prediction of it)."""
    optimum: SearchResult | None = None
    """The best destination lists by the twin, from :meth:`compare_exhaustive`."""
    selection: list[dict[str, Any]] | None = None
    """Per distinct restart optimum simulated by :meth:`select_by_simulation`: its twin and simulated loss."""

    @property
    def target(self) -> dict[str, np.ndarray] | None:
        return dict(self.goal.targets) if isinstance(self.goal, TargetProfile) else None

    @property
    def bounds(self) -> dict[str, np.ndarray] | None:
        return dict(self.goal.bounds) if isinstance(self.goal, SLAGoal) else None

    def compare_exhaustive(self, limit: int = 20_000, progress: Progress | None = None) -> SearchResult:
        """Every destination list evaluated by the twin (refused above ``limit``), kept as :attr:`optimum`: the
        search's and random search's regret are their twin losses above its loss."""
        self.optimum = exhaustive_search(
            self.original, self.twin, self.goal, limit=limit, batch_size=self.search.batch_size, progress=progress
        )
        return self.optimum

    def compare_random(self, progress: Progress | None = None) -> SearchResult:
        """Random search at the search's number of twin evaluations and seed (kept as :attr:`baseline`)."""
        budget, search = self.found.evaluations, self.search
        self.baseline = random_search(
            self.original,
            self.twin,
            self.goal,
            budget,
            seed=search.seed,
            batch_size=search.batch_size,
            progress=progress,
        )
        return self.baseline

    def select_by_simulation(self, runs: int = 1, seed: int | None = None, progress: Progress | None = None) -> None:
        """Replace the twin's choice by the restarts' optimum whose simulated KPIs (``runs`` runs of ``seed``) score
        best against the goal, ties to the twin's order: the twin finds the candidates, simulation decides. ``seed``
        defaults to the scenario's plus one, so that :meth:`verify` at the scenario's seed reports figures the choice
        was not made on."""
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ManageError(f"runs: must be a whole number >= 1, got {runs!r}")
        goal = {"target": self.target, "bounds": self.bounds}
        seed = self.original.simulation.seed + 1 if seed is None else seed
        distinct: dict[tuple[int, ...], int] = {}
        for i, (dst, _, loss) in enumerate(self.found.optima):
            key = tuple(dst.tolist())
            if key not in distinct or loss < self.found.optima[distinct[key]][2]:
                distinct[key] = i
        rows = []
        for i in sorted(distinct.values()):
            _, net, loss = self.found.optima[i]
            v = verify(net, runs=runs, seed=seed, **goal)
            rows.append(
                {"restart": i, "twin_loss": loss, "simulated_loss": self.goal.loss({k: v.mean(k) for k in v.kpis})}
            )
            if progress:
                progress(1)
        best = min(rows, key=lambda r: (r["simulated_loss"], r["twin_loss"]))
        for r in rows:
            r["chosen"] = r is best
        dst, net, loss = self.found.optima[best["restart"]]
        self.found = dataclasses.replace(
            self.found, network=net, destinations=dst, loss=loss, predicted=self.twin.predict(net)
        )
        self.selection = rows

    def verify(self, runs: int = 3, seed: int | None = None) -> None:
        """Simulate the network before and after ``runs`` times (built-in engine, runs 0.. of ``seed``, default the
        scenario's), each beside the twin's prediction and the goal (kept as :attr:`before` and :attr:`after`)."""
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ManageError(f"runs: must be a whole number >= 1, got {runs!r}")
        goal = {"target": self.target, "bounds": self.bounds}
        self.before = verify(self.original, runs=runs, seed=seed, predicted=self.twin.predict(self.original), **goal)
        self.after = verify(self.network, runs=runs, seed=seed, predicted=self.found.predicted, **goal)

    @property
    def network(self) -> Network:
        """The chosen configuration."""
        return self.found.network

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each flow's source and old and new destination, the search's and the baseline's loss and
        evaluations, and the verification before and after (per-KPI QoS-failure ratios, ε, R², the twin against
        the simulated truth)."""
        nodes = self.original.nodes
        flows = [
            {"flow": i, "src": nodes[f.src], "dst_before": nodes[f.dst], "dst_after": nodes[int(d)]}
            for i, (f, d) in enumerate(zip(self.original.flows, self.found.destinations, strict=True))
        ]
        out: dict[str, Any] = {
            "twin": getattr(self.twin, "name", type(self.twin).__name__),
            "goal": "target" if self.target is not None else "sla",
            "flows": flows,
            "moved": int(sum(r["dst_before"] != r["dst_after"] for r in flows)),
            "search": {
                "loss": self.found.loss,
                "evaluations": self.found.evaluations,
                "restarts": self.found.restarts,
            },
        }
        if self.selection is not None:
            out["selection"] = self.selection
        if self.baseline is not None:
            out["random_search"] = {"loss": self.baseline.loss, "evaluations": self.baseline.evaluations}
        if self.optimum is not None:
            best = self.optimum.loss
            out["exhaustive"] = {"loss": best, "evaluations": self.optimum.evaluations}
            out["search"]["regret"] = self.found.loss - best
            if self.baseline is not None:
                out["random_search"]["regret"] = self.baseline.loss - best
        for name, v in (("before", self.before), ("after", self.after)):
            if v is not None:
                out[name] = v.to_dict() | {"predicted_qos_failure": self.predicted_failures(v)}
        return plain(out)

    def predicted_failures(self, verification: Verification) -> dict[str, float | None]:
        """Per KPI, the share of flows the twin predicts to miss the goal in a verified network (the simulated
        share is ``verification.metrics()[kpi]['qos_failure']``)."""
        return qos_failures(verification.predicted, self.target, self.bounds)

    def failure_ratios(self) -> dict[str, dict[str, float | None]]:
        """Per KPI judged: the QoS-failure ratio simulated before and after, and the twin's prediction of each."""
        out: dict[str, dict[str, float | None]] = {}
        for name, v in (("before", self.before), ("after", self.after)):
            if v is None:
                continue
            simulated, predicted = v.metrics(), self.predicted_failures(v)
            for k in v.kpis:
                if simulated[k]["qos_failure"] is not None:
                    row = out.setdefault(k, {})
                    row[f"{name}_simulated"] = simulated[k]["qos_failure"]
                    row[f"{name}_twin"] = predicted.get(k)
        return out


def choose_destinations(
    network: Network,
    twin: Any,
    *,
    target: Mapping[str, np.ndarray] | None = None,
    bounds: Mapping[str, np.ndarray] | None = None,
    runs: int = 3,
    verify_seed: int | None = None,
    baseline: bool = True,
    select_runs: int = 0,
    progress: Progress | None = None,
    baseline_progress: Progress | None = None,
    **search: Any,
) -> DestinationChoice:
    """Choose ``network``'s flow destinations for per-flow ``target`` KPIs or SLA ``bounds`` (one of them) with
    :class:`DestinationSearch` (``search``: restarts, starts, max_steps, batch_size, seed), run random search at the
    same number of twin evaluations (``baseline``), pick among the restarts' optima by ``select_runs`` simulation
    runs each (0: take the twin's best; :meth:`DestinationChoice.select_by_simulation`), and simulate the network
    before and after ``runs`` times (0: no simulation). ``progress`` hears of each restart finished,
    ``baseline_progress`` of the configurations random search evaluated.

    Raises
    ------
    ManageError
        One line naming the bad argument: neither or both goals, targets or bounds not one per flow, a KPI the twin
        does not predict, a flow whose source reaches no other node, a search parameter out of range.
    """
    if (target is None) == (bounds is None):
        raise ManageError("goal: give per-flow targets or SLA bounds, one of them")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
        raise ManageError(f"runs: must be a whole number >= 0, got {runs!r}")
    goal: Goal = TargetProfile(target) if target is not None else SLAGoal(bounds, network)  # type: ignore[arg-type]
    searcher = DestinationSearch(**search)
    choice = DestinationChoice(network, twin, goal, searcher.run(network, twin, goal, progress), searcher)
    if baseline:
        choice.compare_random(baseline_progress)
    if select_runs:
        choice.select_by_simulation(select_runs)
    if runs:
        choice.verify(runs, verify_seed)
    return choice


def write_report(choice: DestinationChoice, out: str | Path) -> tuple[Path, Path | None]:
    """Write ``destinations.json`` (:meth:`DestinationChoice.to_dict`) and, when the choice was simulated,
    ``destinations.png`` (per KPI, the share of flows missing the goal before and after, simulated and by the twin)
    into the folder ``out``; returns both paths (None for a plot not drawn)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / "destinations.json", out / "destinations.png"
    write_json(json_path, choice.to_dict())
    ratios = choice.failure_ratios()
    if not ratios:
        return json_path, None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kpis = list(ratios)
    bars = [
        ("before_simulated", "before, simulated"),
        ("before_twin", "before, twin"),
        ("after_simulated", "after, simulated"),
        ("after_twin", "after, twin"),
    ]
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(kpis), 3.8))
    x = np.arange(len(kpis))
    for j, (key, label) in enumerate(bars):
        values = [100 * (ratios[k].get(key) or 0.0) for k in kpis]
        ax.bar(
            x + (j - 1.5) * width,
            values,
            width,
            label=label,
            hatch="//" if key.endswith("twin") else None,
            color=f"C{0 if key.startswith('before') else 1}",
            alpha=0.55 if key.endswith("twin") else 1.0,
        )
    ax.set_xticks(x, kpis)
    ax.set_ylabel("flows missing the goal (%)")
    runs = choice.after.to_dict()["runs"] if choice.after is not None else 0
    twin = getattr(choice.twin, "name", type(choice.twin).__name__)
    ax.set_title(f"{choice.original.name}: destinations by twin {twin}, simulated {runs} runs", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write_png(png_path, fig, dpi=110)
    return json_path, png_path
