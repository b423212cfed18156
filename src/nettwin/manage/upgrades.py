"""Link-upgrade planning: which links to give more capacity, within a budget, for the lowest mean delay or the fewest
SLA violations.

An **upgrade** multiplies one link's capacity (both directions of a bidirectional link as one upgrade) by a step
``factor``; the same link may be upgraded again (``factor``² and so on), so the plan says which links and by how
much. The search is greedy through a twin: at each of the ``budget`` steps every candidate upgrade of the current
network is built with the :class:`~nettwin.scenario.edits.ChangeLink` edit and all are predicted in one batched
``twin.predict``; the best is taken. The objective after 1, 2, ..., ``budget`` upgrades is the cost/benefit front.

Three rules at the same budget serve as baselines: the links with the highest utilisation (offered load over
capacity), the links between the best-connected nodes (degree), and links drawn at random (seeded). The plan and the
baselines are simulated (:func:`~nettwin.manage.verify.verify`, built-in engine) and each simulated objective is
reported beside the twin's.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nettwin._files import atomic_write_bytes
from nettwin._json import plain, write_json
from nettwin.errors import ManageError, ScenarioError
from nettwin.manage.sla import SLA, violations
from nettwin.manage.verify import verify
from nettwin.manage.whatif import kpi_names, link_units, with_drop_rate
from nettwin.scenario.edits import ChangeLink, Edits
from nettwin.scenario.network import Network

__all__ = ["Upgrade", "UpgradePlan", "plan_upgrades", "write_report", "OBJECTIVES", "BASELINES"]

OBJECTIVES = ("delay", "sla")
"""What a plan minimises: the mean flow delay, or the number of (flow, KPI) SLA bounds missed."""

BASELINES = ("utilisation", "degree", "random")
"""Rules a plan is compared with at the same budget."""


@dataclass(frozen=True)
class Upgrade:
    """One upgrade unit: a node pair and the links between them (one or both directions)."""

    name: str
    links: tuple[int, ...]


def _units(network: Network) -> list[Upgrade]:
    units = []
    for (u, v), links in link_units(network, bidirectional=True):
        both = len({int(network.link_src[i]) for i in links}) > 1
        units.append(Upgrade(f"{network.nodes[u]}{'–' if both else '→'}{network.nodes[v]}", links))
    return units


def _apply(network: Network, unit: Upgrade, factor: float) -> Network:
    """``network`` with the capacity of each link of ``unit`` multiplied by ``factor``."""
    edits = [
        ChangeLink(
            network.nodes[int(network.link_src[i])],
            network.nodes[int(network.link_dst[i])],
            capacity=float(network.capacity[i]) * factor,
        )
        for i in unit.links
    ]
    try:
        return Edits(tuple(edits)).apply(network)
    except ScenarioError as err:
        raise ManageError(f"upgrade {unit.name}: {err}") from err


class _Objective:
    """The objective of per-flow KPIs: mean delay, or SLA bounds missed (mean delay breaking ties)."""

    def __init__(self, kind: str, bounds: dict[str, np.ndarray] | None, names: Sequence[str]) -> None:
        self.kind, self.bounds, self.names = kind, bounds, tuple(names)

    def score(self, kpis: dict[str, np.ndarray]) -> tuple[float, float]:
        delay = np.asarray(kpis["delay"], dtype=float)
        mean = float(np.nanmean(delay)) if np.isfinite(delay).any() else float("inf")
        if self.kind == "sla":
            return float(violations(kpis, self.bounds or {}).count), mean
        return mean, 0.0


@dataclass
class PlanResult:
    """One plan (the greedy search's or a baseline's): its upgrades in order, the twin's objective, and the simulated
    objective (mean and spread over runs) once verified."""

    rule: str
    upgrades: list[str]
    network: Network
    twin: float
    simulated: float | None = None
    simulated_std: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "rule": self.rule,
                "upgrades": self.upgrades,
                "twin": self.twin,
                "simulated": self.simulated,
                "simulated_std": self.simulated_std,
            }
        )


@dataclass
class UpgradePlan:
    """The greedy plan, its cost/benefit front, the baselines at the same budget, and their verification."""

    network: Network
    objective: str
    budget: int
    factor: float
    before: PlanResult
    plan: PlanResult
    front: list[dict[str, Any]]
    """Per step 0..budget: the upgrade taken and the twin's objective after it (``simulated`` and
    ``simulated_std`` once verified)."""
    baselines: list[PlanResult] = field(default_factory=list)
    evaluations: int = 0
    twin_seconds: float = 0.0
    runs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return plain(
            {
                "network": self.network.name,
                "objective": self.objective,
                "unit": "s" if self.objective == "delay" else "bounds missed",
                "budget": self.budget,
                "factor": self.factor,
                "runs": self.runs,
                "evaluations": self.evaluations,
                "twin_seconds": self.twin_seconds,
                "before": self.before.to_dict(),
                "plan": self.plan.to_dict(),
                "front": self.front,
                "baselines": [b.to_dict() for b in self.baselines],
            }
        )


def _baseline_units(network: Network, units: list[Upgrade], rule: str, budget: int, seed: int) -> list[Upgrade]:
    """The ``budget`` units a rule picks (fewer when the network has fewer), each once."""
    if rule == "random":
        rng = np.random.default_rng(seed)
        return [units[i] for i in rng.permutation(len(units))[:budget]]
    if rule == "utilisation":
        use = network.offered_load / network.capacity
        key = [max(float(use[i]) for i in u.links) for u in units]
    else:
        degree = np.bincount(np.concatenate([network.link_src, network.link_dst]), minlength=network.n_nodes)
        ends = [(int(network.link_src[u.links[0]]), int(network.link_dst[u.links[0]])) for u in units]
        key = [float(degree[a] + degree[b]) for a, b in ends]
    order = sorted(range(len(units)), key=lambda i: -key[i])  # stable: ties keep the network's link order
    return [units[i] for i in order[:budget]]


def plan_upgrades(
    twin: Any,
    network: Network,
    *,
    budget: int,
    factor: float = 2.0,
    objective: str = "delay",
    sla: SLA | None = None,
    runs: int = 3,
    seed: int = 0,
    baselines: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> UpgradePlan:
    """Choose ``budget`` link upgrades (capacity × ``factor`` each) greedily by ``twin`` to minimise ``objective``
    (``delay``: mean flow delay; ``sla``: SLA bounds missed, which needs ``sla``); compare with the
    :data:`BASELINES` at the same budget (``seed`` draws the random one) and, with ``runs`` ≥ 1, simulate each plan.

    ``progress(stage, done, total)`` is called per greedy step (``"twin"``) and per simulated plan
    (``"simulation"``).

    Raises
    ------
    ManageError
        For a bad option, an SLA the twin cannot judge, or a network without links or flows.
    """
    if budget < 0:
        raise ManageError(f"budget: must be at least 0, got {budget}")
    if not factor > 1.0 or not np.isfinite(factor):
        raise ManageError(f"factor: an upgrade must multiply capacity by more than 1, got {factor:g}")
    if objective not in OBJECTIVES:
        raise ManageError(f"objective: must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective == "sla" and sla is None:
        raise ManageError("objective sla: give an SLA")
    if runs < 0:
        raise ManageError(f"runs: must be at least 0, got {runs}")
    if network.n_flows == 0:
        raise ManageError("the network has no flows to judge upgrades by")
    units = _units(network)
    if not units:
        raise ManageError("the network has no links to upgrade")
    bounds = sla.bounds(network) if sla is not None else None
    names = kpi_names(twin, bounds)
    if "delay" not in names:
        raise ManageError(f"the twin does not predict delay (it predicts {', '.join(twin.kpis_)})")
    goal = _Objective(objective, bounds, names)

    def predict(nets: list[Network]) -> list[dict[str, np.ndarray]]:
        return [with_drop_rate(p, n, names) for p, n in zip(twin.predict(nets), nets, strict=True)]

    start = time.perf_counter()
    base_kpis = predict([network])[0]
    base_score = goal.score(base_kpis)
    current, taken, score, evaluations = network, [], base_score, 1
    front = [{"upgrades": 0, "upgrade": None, "twin": base_score[0]}]
    steps = [network]
    for step in range(budget):
        candidates = [_apply(current, u, factor) for u in units]
        scores = [goal.score(k) for k in predict(candidates)]
        evaluations += len(candidates)
        best = min(range(len(units)), key=lambda i: scores[i])  # ties: the first in the network's link order
        current, score = candidates[best], scores[best]
        steps.append(current)
        taken.append(units[best].name)
        front.append({"upgrades": step + 1, "upgrade": units[best].name, "twin": score[0]})
        if progress is not None:
            progress("twin", step + 1, budget)
    plan = PlanResult("twin (greedy)", taken, current, score[0])
    rivals = []
    if baselines:
        for rule in BASELINES:
            chosen = _baseline_units(network, units, rule, budget, seed)
            net = network
            for u in chosen:
                net = _apply(net, u, factor)
            rivals.append(PlanResult(rule, [u.name for u in chosen], net, goal.score(predict([net])[0])[0]))
            evaluations += 1
    twin_seconds = time.perf_counter() - start
    report = UpgradePlan(
        network,
        objective,
        budget,
        float(factor),
        PlanResult("none", [], network, base_score[0]),
        plan,
        front,
        rivals,
        evaluations,
        twin_seconds,
    )
    if runs:
        report.runs = runs
        # Every step of the front is simulated: its first and last are the network before and the plan.
        judged = [*steps, *(r.network for r in rivals)]
        simulated = []
        for i, net in enumerate(judged):
            v = verify(net, runs=runs, bounds=bounds, kpis=names)
            per_run = [goal.score({k: v.runs[k][r] for k in names})[0] for r in range(runs)]
            simulated.append((goal.score({k: v.mean(k) for k in names})[0], float(np.std(per_run))))
            if progress is not None:
                progress("simulation", i + 1, len(judged))
        for point, (mean, std) in zip(front, simulated[: len(steps)], strict=True):
            point["simulated"], point["simulated_std"] = mean, std
        results = [report.before, plan, *rivals]
        for result, (mean, std) in zip(results, [simulated[0], *simulated[len(steps) - 1 :]], strict=True):
            result.simulated, result.simulated_std = mean, std
    return report


def plot_front(report: UpgradePlan, path: str | Path) -> Path:
    """Write a PNG of the cost/benefit front (objective after 0..budget upgrades, by the twin and simulated) with
    each baseline's at the full budget. Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale, unit = (1e3, "mean flow delay (ms)") if report.objective == "delay" else (1.0, "SLA bounds missed")
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    steps = [p["upgrades"] for p in report.front]
    ax.plot(steps, [p["twin"] * scale for p in report.front], "o-", color="#36c", label="greedy plan, twin")
    if report.runs:
        ax.errorbar(
            steps,
            [p["simulated"] * scale for p in report.front],
            yerr=[p["simulated_std"] * scale for p in report.front],
            fmt="s--",
            color="#c33",
            capsize=3,
            label=f"greedy plan, simulated ({report.runs} runs)",
        )
    for marker, result in zip("^vD", report.baselines, strict=False):
        ax.plot(report.budget, result.twin * scale, marker, mfc="none", color="#777", label=f"{result.rule}, twin")
        if result.simulated is not None:
            ax.plot(report.budget, result.simulated * scale, marker, color="#777", label=f"{result.rule}, simulated")
    ax.set_xlabel(f"upgrades (capacity × {report.factor:g} each)")
    ax.set_ylabel(unit)
    ax.set_xticks(steps)
    ax.set_title(f"{report.network.name}: link upgrades, cost/benefit front")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def write_report(report: UpgradePlan, out: str | Path) -> tuple[Path, Path]:
    """Write ``upgrades.json`` and ``upgrades.png`` into ``out``; return both paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "upgrades.json"
    write_json(json_path, report.to_dict())
    return json_path, plot_front(report, out / "upgrades.png")
