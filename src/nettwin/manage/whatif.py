"""What-if failures: every single link and node failure, and sampled k-link failures, judged by a twin.

Each failure is a network edit (:mod:`nettwin.scenario.edits`): the scenario's routing moves the flows that lose a
link, and a flow whose destination becomes unreachable leaves the network (``unreachable="drop"``) and is reported
as **lost**. The twin predicts every failed network (in batches); per failure the report holds each flow's KPI
changes against the intact network, the flows missing their SLA and the lost flows, and ranks failures by
**criticality**: first the flows hurt (lost, or missing a bound of the SLA), then the mean delay increase of the
flows that remain.

On request the failed networks are simulated (:func:`~nettwin.manage.verify.verify`) and the twin's ranking is
compared with the simulated one (Spearman's correlation) together with the share of simulated SLA violations the
twin predicted.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nettwin import metrics
from nettwin._files import atomic_write_png
from nettwin._json import plain
from nettwin.errors import ManageError, ScenarioError
from nettwin.manage.sla import SLA, drop_rates, violations
from nettwin.manage.verify import verify
from nettwin.scenario.edits import Edit, Edits, FailLink, FailNode, stranded_flows
from nettwin.scenario.network import Network

__all__ = ["Failure", "failures", "WhatIf", "whatif", "plot_criticality", "link_units", "with_drop_rate", "kpi_names"]

BATCH = 64
"""Failed networks the twin predicts per call."""


@dataclass(frozen=True)
class Failure:
    """One failure: its kind (``link``, ``node`` or ``links`` for a sampled k-link failure), a name, the edit that
    makes it, and the indices of the intact network's links it takes down."""

    kind: str
    name: str
    edit: Edit
    links: tuple[int, ...]


def link_units(network: Network, bidirectional: bool) -> list[tuple[tuple[int, int], tuple[int, ...]]]:
    """The failure units among the network's links: node pairs ``(u, v)`` with the links between them (both
    directions of a bidirectional link as one unit, unless ``bidirectional`` is False)."""
    units: dict[tuple[int, int], list[int]] = {}
    for i, (u, v) in enumerate(zip(network.link_src.tolist(), network.link_dst.tolist(), strict=True)):
        key = (min(u, v), max(u, v)) if bidirectional else (u, v)
        units.setdefault(key, []).append(i)
    return [(key, tuple(links)) for key, links in units.items()]


def _fail_pair(network: Network, u: int, v: int, links: Sequence[int]) -> FailLink:
    both = any(network.link_src[i] == v for i in links) and any(network.link_src[i] == u for i in links)
    # Node names, not indices: a number names a node by name in topologies whose nodes are named by numbers.
    return FailLink(network.nodes[u], network.nodes[v], bidirectional=both and u != v, unreachable="drop")


def _edit_name(edit: FailLink) -> str:
    """``a–b`` for both directions of a link, ``a→b`` for one."""
    return f"{edit.src}{'–' if edit.bidirectional else '→'}{edit.dst}"


def failures(
    network: Network,
    *,
    links: bool = True,
    nodes: bool = True,
    k: int = 2,
    samples: int = 0,
    seed: int = 0,
    bidirectional: bool = True,
) -> list[Failure]:
    """The failures a what-if analysis tries: every single link (both directions of a bidirectional link as one,
    unless ``bidirectional`` is False), every node with links, and ``samples`` distinct sets of ``k`` links drawn
    with ``seed`` (all of them when there are fewer).

    Raises
    ------
    ManageError
        If ``k`` is below 2 while samples are asked for, or exceeds the number of links.
    """
    if samples < 0:
        raise ManageError(f"samples: must be at least 0, got {samples}")
    units = link_units(network, bidirectional)
    if samples and not 2 <= k <= len(units):
        raise ManageError(f"k: must be between 2 and {len(units)} (the links that can fail), got {k}")
    out = []
    if links:
        for (u, v), ids in units:
            edit = _fail_pair(network, u, v, ids)
            out.append(Failure("link", _edit_name(edit), edit, ids))
    if nodes:
        for u in range(network.n_nodes):
            ids = tuple(np.flatnonzero((network.link_src == u) | (network.link_dst == u)).tolist())
            if ids:
                out.append(Failure("node", network.nodes[u], FailNode(network.nodes[u], unreachable="drop"), ids))
    if samples:
        total = math.comb(len(units), k)
        if total <= samples:
            chosen = list(itertools.combinations(range(len(units)), k))
        else:
            rng = np.random.default_rng(seed)
            seen: dict[tuple[int, ...], None] = {}
            while len(seen) < samples:
                seen[tuple(sorted(rng.choice(len(units), size=k, replace=False).tolist()))] = None
            chosen = list(seen)
        for combo in chosen:
            picked = [units[j] for j in combo]
            edits = tuple(_fail_pair(network, u, v, ids) for (u, v), ids in picked)
            name = " + ".join(_edit_name(e) for e in edits)
            out.append(Failure("links", name, Edits(edits), tuple(i for _, ids in picked for i in ids)))
    return out


@dataclass
class _Judged:
    """One network's KPIs in the intact network's flow order (NaN for lost flows) and its SLA verdict."""

    kpis: dict[str, np.ndarray]
    lost: np.ndarray
    missed: np.ndarray
    """(F,) whether each remaining flow misses a bound of the SLA."""


def _judge(
    kpis: dict[str, np.ndarray], index: np.ndarray, lost: np.ndarray, n: int, bounds: dict[str, np.ndarray] | None
) -> _Judged:
    """Place a failed network's per-flow ``kpis`` at the intact network's flow positions ``index``; ``lost`` holds
    the positions of the flows it stranded."""
    full = {}
    for name, v in kpis.items():
        x = np.full(n, np.nan)
        x[index] = v
        full[name] = x
    lost_mask = np.zeros(n, dtype=bool)
    lost_mask[lost] = True
    missed = np.zeros(n, dtype=bool)
    if bounds is not None:
        sub = {name: b[index] for name, b in bounds.items()}
        missed[index] = violations(kpis, sub).any
    return _Judged(full, lost_mask, missed)


def _criticality(base: _Judged, judged: _Judged) -> tuple[int, float]:
    """(flows hurt: lost or missing their SLA, mean delay increase of the remaining flows in seconds)."""
    delta = judged.kpis["delay"] - base.kpis["delay"]
    finite = delta[np.isfinite(delta)]
    return int(judged.lost.sum() + judged.missed.sum()), float(finite.mean()) if finite.size else 0.0


def _scores(keys: Sequence[tuple[int, float]]) -> np.ndarray:
    """One number per failure that orders them as their (flows hurt, delay increase) keys do."""
    hurt = np.array([k[0] for k in keys], dtype=float)
    delay = np.array([k[1] for k in keys], dtype=float)
    span = float(delay.max() - delay.min()) if delay.size else 0.0
    return hurt * (span + 1.0) + (delay - (delay.min() if delay.size else 0.0))


@dataclass
class WhatIf:
    """A what-if analysis of one network; :meth:`to_dict` is its JSON report."""

    network: Network
    failures: list[Failure]
    kpis: tuple[str, ...]
    base: _Judged
    judged: list[_Judged]
    twin: str
    twin_seconds: float
    sla: bool
    simulated: list[_Judged] | None = None
    sim_base: _Judged | None = None
    runs: int = 0
    sim_seconds: float = 0.0
    verifications: list[dict[str, Any]] = field(default_factory=list)

    def criticality(self, simulated: bool = False) -> list[tuple[int, float]]:
        """Each failure's (flows hurt, mean delay increase in seconds), by the twin or by simulation."""
        judged, base = (self.simulated, self.sim_base) if simulated else (self.judged, self.base)
        if judged is None or base is None:
            raise ManageError("the failures were not simulated; run with verification")
        return [_criticality(base, j) for j in judged]

    def ranking(self, simulated: bool = False) -> list[int]:
        """Failure indices, most critical first (ties in the order failures were listed)."""
        scores = _scores(self.criticality(simulated))
        return sorted(range(len(scores)), key=lambda i: -scores[i])

    def agreement(self) -> dict[str, float | None]:
        """How well the twin's judgement matches simulation's: Spearman's correlation of the criticality rankings
        (over all failures, and over single-link failures), the share of simulated SLA violations (failure, flow)
        the twin predicted, and the share of its predicted violations simulation confirms."""
        if self.simulated is None:
            raise ManageError("the failures were not simulated; run with verification")
        twin, sim = _scores(self.criticality()), _scores(self.criticality(simulated=True))
        single = np.array([f.kind == "link" for f in self.failures])
        pred = np.concatenate([j.missed for j in self.judged]) if self.judged else np.zeros(0, bool)
        true = np.concatenate([j.missed for j in self.simulated]) if self.simulated else np.zeros(0, bool)
        both = int((pred & true).sum())
        return plain(
            {
                "spearman": metrics.spearman(twin, sim),
                "spearman_links": metrics.spearman(twin[single], sim[single]),
                "violations_simulated": int(true.sum()),
                "violations_predicted": int(pred.sum()),
                "violations_found": both / int(true.sum()) if true.any() else None,
                "violations_confirmed": both / int(pred.sum()) if pred.any() else None,
            }
        )

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready report: per failure (most critical first, at most ``top``) its name, kind, lost flows (by the
        intact network's flow index), flows missing the SLA, the twin's per-flow KPI changes and, when simulated,
        the simulated ones; the agreement with simulation and the speeds."""
        order = self.ranking()
        keys = self.criticality()
        sim_keys = self.criticality(simulated=True) if self.simulated is not None else None
        sim_rank = {j: r + 1 for r, j in enumerate(self.ranking(simulated=True))} if self.simulated else {}
        rows = []
        for rank, i in enumerate(order[:top] if top else order, start=1):
            f, j = self.failures[i], self.judged[i]
            row: dict[str, Any] = {
                "rank": rank,
                "failure": f.name,
                "kind": f.kind,
                "links": list(f.links),
                "lost_flows": np.flatnonzero(j.lost).tolist(),
                "sla_flows_missing": np.flatnonzero(j.missed).tolist(),
                "flows_hurt": keys[i][0],
                "mean_delay_increase": keys[i][1],
                "change": {k: j.kpis[k] - self.base.kpis[k] for k in self.kpis},
            }
            if self.simulated is not None and sim_keys is not None:
                s = self.simulated[i]
                row["simulated"] = {
                    "rank": sim_rank[i],
                    "lost_flows": np.flatnonzero(s.lost).tolist(),
                    "sla_flows_missing": np.flatnonzero(s.missed).tolist(),
                    "flows_hurt": sim_keys[i][0],
                    "mean_delay_increase": sim_keys[i][1],
                    "change": {k: s.kpis[k] - self.sim_base.kpis[k] for k in self.kpis},  # type: ignore[union-attr]
                }
                row["verification"] = self.verifications[i]
            rows.append(row)
        n = len(self.failures) + 1  # the intact network is evaluated too
        out: dict[str, Any] = {
            "network": self.network.name,
            "twin": self.twin,
            "flows": self.network.n_flows,
            "failures": len(self.failures),
            "kinds": {kind: sum(f.kind == kind for f in self.failures) for kind in ("link", "node", "links")},
            "sla": self.sla,
            "base": {"sla_flows_missing": np.flatnonzero(self.base.missed).tolist(), "kpis": self.base.kpis},
            "speed": {
                "twin_seconds": self.twin_seconds,
                "twin_configs_per_s": n / self.twin_seconds if self.twin_seconds > 0 else None,
            },
            "ranking": rows,
        }
        if self.simulated is not None:
            out["speed"] |= {
                "runs": self.runs,
                "sim_seconds": self.sim_seconds,
                "sim_configs_per_s": n / self.sim_seconds if self.sim_seconds > 0 else None,
            }
            out["agreement"] = self.agreement()
        return plain(out)


def _flow_index(base: Network, failed: Network) -> np.ndarray:
    """Each flow of ``failed`` as its index in ``base`` (matched by flow id)."""
    position = {int(fid): i for i, fid in enumerate(base.flow_id.tolist())}
    return np.array([position[int(fid)] for fid in failed.flow_id.tolist()], dtype=np.int64)


def with_drop_rate(kpis: dict[str, np.ndarray], network: Network, kpi_names: Sequence[str]) -> dict[str, np.ndarray]:
    """The predicted KPIs of ``kpi_names`` as float arrays, with ``drop_rate`` derived from predicted drops when it
    is asked for and the twin does not predict it."""
    out = {k: np.asarray(v, dtype=float) for k, v in kpis.items() if k in kpi_names}
    if "drop_rate" in kpi_names and "drop_rate" not in out:
        out["drop_rate"] = drop_rates(kpis, network)
    return out


def kpi_names(twin: Any, bounds: dict[str, np.ndarray] | None) -> tuple[str, ...]:
    """The KPIs to judge by: those ``twin`` predicts and those ``bounds`` (an SLA's per-flow bounds) bound, with
    ``drop_rate`` derivable from predicted drops.

    Raises
    ------
    ManageError
        If the bounds name a KPI the twin does not predict.
    """
    bounded = [k for k, b in (bounds or {}).items() if np.isfinite(b).any()]
    missing = [b for b in bounded if b not in twin.kpis_ and not (b == "drop_rate" and "drops" in twin.kpis_)]
    if missing:
        raise ManageError(f"the SLA bounds {', '.join(missing)}, which the twin does not predict")
    return tuple(dict.fromkeys([*twin.kpis_, *bounded]))


def whatif(
    twin: Any,
    network: Network,
    *,
    sla: SLA | None = None,
    links: bool = True,
    nodes: bool = True,
    k: int = 2,
    samples: int = 0,
    seed: int = 0,
    bidirectional: bool = True,
    runs: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> WhatIf:
    """Judge every failure of :func:`failures` with ``twin`` (a fitted twin) and, with ``runs`` ≥ 1, by simulating
    each failed network ``runs`` times.

    ``progress(stage, done, total)`` is called as failures are predicted (``"twin"``) and simulated
    (``"simulation"``).

    Raises
    ------
    ManageError
        For a bad option, an SLA naming flows or nodes the network lacks, or a failure the network refuses.
    """
    if runs < 0:
        raise ManageError(f"runs: must be at least 0, got {runs}")
    if network.n_flows == 0:
        raise ManageError("the network has no flows to judge failures by")
    found = failures(network, links=links, nodes=nodes, k=k, samples=samples, seed=seed, bidirectional=bidirectional)
    if not found:
        raise ManageError("no failures to try: the network has no links")
    bounds = sla.bounds(network) if sla is not None else None
    names = kpi_names(twin, bounds)
    if "delay" not in names:
        raise ManageError(f"the twin does not predict delay, which ranks failures (it predicts {', '.join(names)})")

    nets: list[Network] = []
    for f in found:
        try:
            nets.append(f.edit.apply(network))
        except ScenarioError as err:
            raise ManageError(f"failure {f.name}: {err}") from err
    index = [_flow_index(network, n) for n in nets]
    position = {int(fid): i for i, fid in enumerate(network.flow_id.tolist())}
    lost = [np.array([position[fid] for fid in stranded_flows(n)], dtype=np.int64) for n in nets]

    start = time.perf_counter()
    everything = [network, *nets]
    # A failure that strands every flow leaves nothing to predict or simulate.
    empty = {name: np.zeros(0) for name in [*twin.kpis_, *names]}
    preds: list[dict[str, np.ndarray]] = []
    for lo in range(0, len(everything), BATCH):
        chunk = everything[lo : lo + BATCH]
        live = iter(twin.predict([n for n in chunk if n.n_flows]) if any(n.n_flows for n in chunk) else [])
        preds.extend(next(live) if n.n_flows else empty for n in chunk)
        if progress is not None:
            progress("twin", min(lo + BATCH, len(everything)), len(everything))
    twin_seconds = time.perf_counter() - start
    everything_index = [np.arange(network.n_flows), *index]
    everything_lost = [np.zeros(0, dtype=np.int64), *lost]
    preds = [with_drop_rate(p, n, names) for p, n in zip(preds, everything, strict=True)]
    judged = [
        _judge(p, idx, gone, network.n_flows, bounds)
        for p, idx, gone in zip(preds, everything_index, everything_lost, strict=True)
    ]
    report = WhatIf(
        network, found, names, judged[0], judged[1:], getattr(twin, "name", "twin"), twin_seconds, bool(bounds)
    )
    if runs:
        sims, checks = [], []
        start = time.perf_counter()
        for i, (n, idx, gone, p) in enumerate(zip(everything, everything_index, everything_lost, preds, strict=True)):
            if n.n_flows:
                b = {name: v[idx] for name, v in bounds.items()} if bounds is not None else None
                v = verify(n, runs=runs, predicted=p, bounds=b, kpis=names)
                sims.append(_judge({name: v.mean(name) for name in names}, idx, gone, network.n_flows, bounds))
                check = {name: m["twin_mre"] for name, m in v.metrics().items()}
            else:
                sims.append(_judge(empty, idx, gone, network.n_flows, bounds))
                check = dict.fromkeys(names)
            if i:
                checks.append(check)
            if progress is not None:
                progress("simulation", i + 1, len(everything))
        report.sim_seconds = time.perf_counter() - start
        report.sim_base, report.simulated, report.runs = sims[0], sims[1:], runs
        report.verifications = [{"twin_mre": c} for c in checks]
    return report


def plot_criticality(report: WhatIf, path: str | Path, top: int = 15) -> Path:
    """Write a PNG of the twin's criticality: each link of the topology drawing coloured and labelled by the flows
    its failure hurts (width: mean delay increase) where the topology has node positions, else a bar chart of the
    ``top`` most critical failures. Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = report.criticality()
    net = report.network
    if net.positions is not None:
        fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
        pos = np.asarray(net.positions, dtype=float)
        singles = [(f, keys[i]) for i, f in enumerate(report.failures) if f.kind == "link"]
        hurt = np.array([h for _, (h, _) in singles], dtype=float)
        delay = np.array([d for _, (_, d) in singles], dtype=float)
        cmap = plt.get_cmap("Reds")
        top_hurt = max(float(hurt.max()) if hurt.size else 0.0, 1.0)
        top_delay = max(float(np.abs(delay).max()) if delay.size else 0.0, 1e-12)
        for f, (h, d) in singles:
            u, v = int(net.link_src[f.links[0]]), int(net.link_dst[f.links[0]])
            ax.plot(
                pos[[u, v], 0],
                pos[[u, v], 1],
                color=cmap(0.25 + 0.75 * h / top_hurt),
                linewidth=1.5 + 5.0 * max(d, 0.0) / top_delay,
                zorder=1,
            )
            ax.annotate(str(h), pos[[u, v]].mean(axis=0), ha="center", va="center", fontsize=7, zorder=3)
        ax.scatter(pos[:, 0], pos[:, 1], s=60, color="#345", zorder=2)
        for name, (x, y) in zip(net.nodes, pos, strict=True):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ax.set_axis_off()
        ax.set_title(f"{net.name}: flows hurt by each link failure (width: mean delay increase) — {report.twin}")
    else:
        order = report.ranking()[:top]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(order) + 1.5), dpi=120)
        labels = [report.failures[i].name for i in order]
        ax.barh(range(len(order)), [keys[i][0] for i in order], color="#c33")
        ax.set_yticks(range(len(order)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("flows hurt (lost or missing their SLA)")
        ax.set_title(f"{net.name}: most critical failures — {report.twin}")
    fig.tight_layout()
    return atomic_write_png(path, fig)
