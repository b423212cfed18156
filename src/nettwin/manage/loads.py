r"""Traffic loads that bring a network's KPIs to a target profile, by gradient descent through a learned twin.

GLANCE's first management application (its eq. 4): the network's flows and paths stay; each flow's ``rate`` and,
for on/off flows, its mean on and off periods are searched so that the twin's per-flow KPIs meet per-flow targets
(any subset of the twin's KPIs, for any subset of the flows). With :math:`\hat y_k(\theta)` the twin's prediction of
KPI :math:`k` (:class:`~nettwin.twin.differentiable.DifferentiableTwin`) and :math:`T` the (flow, KPI) pairs with a
target, the loss is

.. math:: \mathcal L(\theta) = \frac1{|T|} \sum_{(f, k) \in T} \Big(\frac{\hat y_{k,f}(\theta) - y^*_{k,f}}
          {\mathrm{IQR}_k}\Big)^2

(the twin's training IQRs put KPIs of different units on one scale). The parameters live in log space, relative to
the network's own, and are projected after each Adam step onto their bounds: ``low``·own to ``high``·own, within
the values the twin saw in training, and a flow's rate never above the smallest capacity on its paths. Several
restarts run as one batch (restart 0 from the network's own traffic, the others from seeded random points around
it); the best is kept.

Examples
--------
>>> from nettwin.testing.twins import twin_data
>>> from nettwin.twin import Twin
>>> nets, pairs = twin_data()
>>> twin = Twin("glance", kpis=["delay", "throughput"], epochs=1, device="cpu").fit(pairs)
>>> found = search_loads(twin, nets[0], scaled_targets(twin, nets[0], 1.5), restarts=2, steps=5)
>>> found.loss <= found.start_loss
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nettwin._files import atomic_write_png
from nettwin._json import write_json
from nettwin.errors import ManageError, NettwinError
from nettwin.manage.verify import Verification, verify
from nettwin.scenario import build_network
from nettwin.scenario.edits import to_scenario
from nettwin.scenario.io import read_mapping
from nettwin.scenario.network import Network
from nettwin.scenario.units import parse_rate, parse_time
from nettwin.sim.kpi import FLOW_KPIS
from nettwin.twin import Twin
from nettwin.twin.differentiable import DifferentiableTwin

__all__ = [
    "LoadSearch",
    "write_report",
    "with_traffic",
    "read_targets",
    "scaled_targets",
    "search_loads",
    "resolve_targets",
]

Progress = Callable[[int, int], None]


@dataclass
class LoadSearch:
    """What :func:`search_loads` found.

    Attributes
    ----------
    network : the network with the traffic found (same nodes, links, flows and paths).
    original : the network searched from.
    targets : {KPI: (F,)} the targets, SI units, NaN where a flow has none.
    predicted : {KPI: (F,)} the twin's prediction of ``network``; ``start`` that of ``original``.
    rate, tau_on, tau_off : (F,) the parameters found (sending rate in bit/s; periods in s, NaN for flows that are
        not on/off).
    loss, start_loss : the loss of the best restart at its end, and of the network's own traffic.
    history : the best loss over the restarts before each step and after the last (steps + 1 values).
    restarts, steps : the search's settings; ``best`` the restart kept.
    """

    network: Network
    original: Network
    targets: dict[str, np.ndarray]
    predicted: dict[str, np.ndarray]
    start: dict[str, np.ndarray]
    rate: np.ndarray
    tau_on: np.ndarray
    tau_off: np.ndarray
    loss: float
    start_loss: float
    history: list[float] = field(default_factory=list)
    restarts: int = 1
    steps: int = 0
    best: int = 0

    def verify(self, runs: int = 3, seed: int | None = None) -> Verification:
        """The found network simulated ``runs`` times (built-in engine), its KPIs beside the twin's prediction and
        the targets (:func:`nettwin.manage.verify.verify`)."""
        return verify(self.network, runs=runs, seed=seed, predicted=self.predicted, target=self.targets)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the loss, and per flow its parameters before and after, targets and predictions."""
        flows = []
        for i, (before, after) in enumerate(zip(self.original.flows, self.network.flows, strict=True)):
            row: dict[str, Any] = {
                "flow": i,
                "src": self.network.nodes[after.src],
                "dst": self.network.nodes[after.dst],
                "rate_before": before.traffic.rate,
                "rate": after.traffic.rate,
                "mean_rate_before": before.traffic.mean_rate,
                "mean_rate": after.traffic.mean_rate,
            }
            if after.traffic.model == "onoff":
                row.update(tau_on=after.traffic.tau_on, tau_off=after.traffic.tau_off)
            for k, target in self.targets.items():
                if np.isfinite(target[i]):
                    row[f"{k}_target"] = float(target[i])
                    row[f"{k}_predicted"] = float(self.predicted[k][i])
            flows.append(row)
        return {
            "loss": self.loss,
            "start_loss": self.start_loss,
            "restarts": self.restarts,
            "steps": self.steps,
            "best_restart": self.best,
            "history": self.history,
            "flows": flows,
        }


def read_targets(path: str | Path, network: Network, kpis: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Per-flow targets from a YAML or JSON file::

        flows:
          - {flow: 0, delay: 20ms, throughput: 40kbps}
          - {flow: 3, jitter: 2ms, drops: 0}

    ``flow`` is the flow's index in the network; times are durations (``20ms`` or seconds), throughput a rate
    (``40kbps`` or bit/s), drops a packet count; a flow or KPI left out has no target. ``kpis`` keeps only those.

    Returns
    -------
    {KPI: (F,) float array}, SI units, NaN where there is no target.

    Raises
    ------
    ManageError
        One line per problem, each naming the file and the field.
    """
    try:
        data = read_mapping(path)
    except NettwinError as err:
        raise ManageError(str(err)) from err
    rows = data.get("flows")
    problems = [f"{path}: unknown field '{k}' (expected 'flows')" for k in data if k != "flows"]
    if not isinstance(rows, list) or not rows:
        raise ManageError("\n".join([*problems, f"{path}: flows: must be a non-empty list of per-flow targets"]))
    out: dict[str, np.ndarray] = {}
    seen: set[int] = set()
    for j, row in enumerate(rows):
        where = f"{path}: flows[{j}]"
        if not isinstance(row, dict):
            problems.append(f"{where}: must be a mapping like {{flow: 0, delay: 20ms}}, got {row!r}")
            continue
        flow = row.get("flow")
        if isinstance(flow, bool) or not isinstance(flow, int) or not 0 <= flow < network.n_flows:
            problems.append(f"{where}.flow: must be a flow index 0..{network.n_flows - 1}, got {flow!r}")
            continue
        if flow in seen:
            problems.append(f"{where}.flow: flow {flow} has targets twice")
        seen.add(flow)
        for k, value in row.items():
            if k == "flow":
                continue
            if k not in FLOW_KPIS:
                problems.append(f"{where}.{k}: not a KPI (KPIs: {', '.join(FLOW_KPIS)})")
                continue
            try:
                number = _parse_kpi(k, value)
            except (NettwinError, ValueError, TypeError) as err:
                problems.append(f"{where}.{k}: {str(err).splitlines()[0]}")
                continue
            if not (math.isfinite(number) and number >= 0):
                problems.append(f"{where}.{k}: must be a finite value >= 0, got {value!r}")
                continue
            out.setdefault(k, np.full(network.n_flows, np.nan))[flow] = number
    if problems:
        raise ManageError("\n".join(problems))
    return _kept(out, kpis, str(path))


def scaled_targets(
    twin: Twin, network: Network, scale: float, kpis: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """The KPIs the twin predicts for ``network`` with every flow's rate multiplied by ``scale``: a target profile
    that exists (``scale`` = 1 is the network's own prediction)."""
    if not (math.isfinite(scale) and scale > 0):
        raise ManageError(f"target scale: must be a number > 0, got {scale!r}")
    f = DifferentiableTwin(twin, network)
    with torch.no_grad():
        pred = f(rate=f.parameters()["rate"] * scale)
    return _kept({k: pred[k].cpu().numpy() for k in twin.kpis_}, kpis, f"target scale {scale:g}")


def resolve_targets(
    target: str, twin: Twin, network: Network, kpis: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """``target`` as a number (:func:`scaled_targets`) or a file path (:func:`read_targets`)."""
    try:
        scale = float(target)
    except ValueError:
        return read_targets(target, network, kpis)
    return scaled_targets(twin, network, scale, kpis)


def search_loads(
    twin: Twin,
    network: Network,
    targets: Mapping[str, Any],
    *,
    restarts: int = 8,
    steps: int = 200,
    lr: float = 0.05,
    low: float = 0.01,
    high: float = 10.0,
    periods: bool = True,
    within_training: bool = True,
    seed: int = 0,
    progress: Progress | None = None,
) -> LoadSearch:
    """Search each flow's traffic so that the twin's KPIs meet ``targets`` (see the module docstring).

    Parameters
    ----------
    twin : a fitted learned twin predicting every KPI of ``targets``.
    network : the network (its flows and paths are kept).
    targets : {KPI: (F,)} per-flow targets in SI units, NaN (or absent) where a flow has none.
    restarts : settings searched at once; restart 0 starts from the network's own traffic.
    steps : Adam steps; lr : Adam's learning rate (in log-parameter units).
    low, high : each parameter's bounds as factors of its own value (a rate is also kept at or below the smallest
        capacity on its flow's paths).
    periods : also search the on/off flows' mean on and off periods.
    within_training : also keep each parameter within the values the twin saw in training (its ``ranges_``: the
        paths' rates, the on/off periods), where that range meets the factors' bounds: outside it a twin's
        gradients lead to traffic it cannot predict.
    seed : seeds the random restarts (same seed, same result).
    progress : called as ``progress(step, steps)`` after each step.

    Raises
    ------
    ManageError
        If a setting is out of range, a target's KPI is one the twin does not predict, a target's shape is not the
        network's flows, or no target is given.
    """
    if restarts < 1 or steps < 0 or not lr > 0:
        raise ManageError(f"restarts must be >= 1, steps >= 0 and lr > 0; got {restarts}, {steps}, {lr}")
    if not 0 < low <= 1 <= high:
        raise ManageError(f"bounds: need 0 < low <= 1 <= high, got low={low}, high={high}")
    goal = _checked(targets, twin, network)
    f = DifferentiableTwin(twin, network)
    dev, dtype = f.device, torch.float64
    own = f.parameters()
    onoff = torch.tensor([fl.traffic.model == "onoff" for fl in network.flows], device=dev)
    names = ["rate", "tau_on", "tau_off"] if periods and bool(onoff.any()) else ["rate"]
    base = torch.stack([torch.where(own[n] > 0, own[n], 1.0) for n in names])  # (P, F)
    lo = torch.full_like(base, math.log(low))
    hi = torch.full_like(base, math.log(high))
    ranges = getattr(twin, "ranges_", None)
    if within_training and ranges is not None:
        for i, n in enumerate(names):
            seen = ranges.bounds.get(f"path.{n}")
            if seen is None or not seen[0] > 0:
                continue
            lo_i = torch.maximum(lo[i], torch.log(seen[0] / base[i]))
            hi_i = torch.minimum(hi[i], torch.log(seen[1] / base[i]))
            # where the twin never saw a value within the factors, they alone bound the parameter
            keep = lo_i <= hi_i
            lo[i], hi[i] = torch.where(keep, lo_i, lo[i]), torch.where(keep, hi_i, hi[i])
    bottleneck = torch.tensor(
        [min(float(network.capacity[list(p)].min()) for p in fl.routes) for fl in network.flows],
        dtype=dtype,
        device=dev,
    )
    hi[0] = torch.minimum(hi[0], torch.log(bottleneck / base[0]))
    lo[0] = torch.minimum(lo[0], hi[0])
    if len(names) > 1:  # flows without periods keep theirs (0): their log-offset stays 0
        lo[1:, ~onoff] = 0.0
        hi[1:, ~onoff] = 0.0
    gen = torch.Generator().manual_seed(seed)
    theta = torch.rand((restarts, *base.shape), generator=gen, dtype=dtype).to(dev) * 2.0 - 1.0
    theta[0] = 0.0
    theta = torch.maximum(torch.minimum(theta, hi), lo).requires_grad_(True)
    kpis = list(goal)
    target = torch.tensor(np.stack([goal[k] for k in kpis]), dtype=dtype, device=dev)  # (K, F)
    mask = torch.isfinite(target)
    target = torch.where(mask, target, 0.0)
    scale = torch.tensor([_scale(twin, k, goal[k]) for k in kpis], dtype=dtype, device=dev)[:, None]

    def losses(th: torch.Tensor) -> torch.Tensor:
        values = base * torch.exp(th)  # (R, P, F)
        given = {n: values[:, i] for i, n in enumerate(names)}
        pred = f(**given)
        err = (torch.stack([pred[k] for k in kpis], dim=1) - target) / scale  # (R, K, F)
        return (err.square() * mask).sum(dim=(1, 2)) / mask.sum()

    with torch.no_grad():
        start_loss = float(losses(torch.zeros_like(theta[:1]))[0])
    opt = torch.optim.Adam([theta], lr=lr)
    history: list[float] = []
    best_loss = torch.full((restarts,), math.inf, dtype=dtype, device=dev)
    best_theta = theta.detach().clone()
    for step in range(steps + 1):
        loss = losses(theta)
        with torch.no_grad():
            better = loss < best_loss
            best_loss = torch.where(better, loss, best_loss)
            best_theta[better] = theta[better]
        history.append(float(loss.detach().min()))
        if step == steps:
            break
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        with torch.no_grad():
            theta.copy_(torch.maximum(torch.minimum(theta, hi), lo))
        if progress is not None:
            progress(step + 1, steps)
    best = int(torch.argmin(best_loss))
    found = (base * torch.exp(best_theta[best])).detach().cpu().numpy()
    rate = found[0]
    tau_on = np.where(onoff.cpu().numpy(), found[1] if len(names) > 1 else own["tau_on"].cpu().numpy(), np.nan)
    tau_off = np.where(onoff.cpu().numpy(), found[2] if len(names) > 1 else own["tau_off"].cpu().numpy(), np.nan)
    new = with_traffic(network, rate, tau_on, tau_off)
    return LoadSearch(
        network=new,
        original=network,
        targets=goal,
        predicted=_predict(twin, new),
        start=_predict(twin, network),
        rate=rate,
        tau_on=tau_on,
        tau_off=tau_off,
        loss=float(best_loss[best]),
        start_loss=start_loss,
        history=history,
        restarts=restarts,
        steps=steps,
        best=best,
    )


def with_traffic(network: Network, rate: np.ndarray, tau_on: np.ndarray, tau_off: np.ndarray) -> Network:
    """``network`` with each flow's sending ``rate`` and, for on/off flows, mean periods (NaN: keep), paths kept
    (rebuilt from :func:`~nettwin.scenario.edits.to_scenario`, which pins every flow to its paths)."""
    scenario = to_scenario(network)
    flows = []
    for spec, fl, r, on, off in zip(scenario.flows, network.flows, rate, tau_on, tau_off, strict=True):
        update: dict[str, Any] = {"rate": float(r)}
        if fl.traffic.model == "onoff":
            update.update(tau_on=float(on), tau_off=float(off))
        traffic = type(fl.traffic).model_validate({**fl.traffic.model_dump(), **update})
        flows.append(spec.model_copy(update={"traffic": traffic}))
    return build_network(scenario.model_copy(update={"flows": flows}))


def write_report(found: LoadSearch, verification: Verification, out: str | Path) -> tuple[Path, Path]:
    """Write ``loads.json`` (the search and its verification) and ``loads.png`` (per KPI, each flow's target
    against the simulated mean, with the twin's prediction) into the folder ``out``; returns both paths."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out / "loads.json", out / "loads.png"
    write_json(json_path, {"search": found.to_dict(), "verification": verification.to_dict()})
    kpis = list(found.targets)
    fig, axes = plt.subplots(1, len(kpis), figsize=(4.2 * len(kpis), 4.0), squeeze=False)
    figures = verification.metrics()
    for ax, k in zip(axes[0], kpis, strict=True):
        target = found.targets[k]
        ax.errorbar(target, verification.mean(k), yerr=verification.spread(k), fmt="o", ms=4, label="simulated")
        ax.plot(target, found.predicted[k], "x", ms=5, label="twin")
        finite = np.concatenate([v[np.isfinite(v)] for v in (target, verification.mean(k), found.predicted[k])])
        if len(finite):
            ax.plot([finite.min(), finite.max()], [finite.min(), finite.max()], "k--", lw=0.8)
        m = figures[k]
        ax.set_title(f"{k}: R² {_fmt(m['r2'])}, ε {_fmt(m['eps'])} (ε_bm {_fmt(m['eps_bm'])})", fontsize=9)
        ax.set_xlabel(f"target ({FLOW_KPIS[k] or '-'})")
        ax.set_ylabel(f"achieved ({FLOW_KPIS[k] or '-'})")
        ax.legend(fontsize=8)
    fig.suptitle(f"{found.network.name}: target vs achieved ({verification.to_dict()['runs']} runs)")
    fig.tight_layout()
    atomic_write_png(png_path, fig, dpi=110)
    return json_path, png_path


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _parse_kpi(kpi: str, value: Any) -> float:
    unit = FLOW_KPIS[kpi]
    if unit == "s":
        return parse_time(value)
    if unit == "bit/s":
        return parse_rate(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    return float(value)


def _kept(targets: dict[str, np.ndarray], kpis: Sequence[str] | None, where: str) -> dict[str, np.ndarray]:
    if kpis is None:
        return targets
    missing = [k for k in kpis if k not in targets]
    if missing:
        raise ManageError(f"{where}: no targets for {', '.join(missing)} (has: {', '.join(targets) or 'none'})")
    return {k: targets[k] for k in kpis}


def _checked(targets: Mapping[str, Any], twin: Twin, network: Network) -> dict[str, np.ndarray]:
    out = {}
    for k, v in targets.items():
        if k not in twin.kpis_:
            raise ManageError(f"target KPI '{k}': the twin does not predict it (it predicts {', '.join(twin.kpis_)})")
        a = np.asarray(v, dtype=float)
        if a.shape != (network.n_flows,):
            raise ManageError(f"target '{k}': needs one value per flow ({network.n_flows}), got shape {a.shape}")
        out[k] = a
    if not any(np.isfinite(a).any() for a in out.values()):
        raise ManageError("targets: none given (every value is missing)")
    return out


def _scale(twin: Twin, kpi: str, target: np.ndarray) -> float:
    """The twin's training IQR of ``kpi`` (its spread of the targets' scale where that is 0)."""
    iqr = float(getattr(twin, "iqr_", {}).get(kpi, 0.0))
    if iqr > 0:
        return iqr
    finite = np.abs(target[np.isfinite(target)])
    return float(finite.mean()) if len(finite) and finite.mean() > 0 else 1.0


def _predict(twin: Twin, network: Network) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = DifferentiableTwin(twin, network)()
    return {k: v.cpu().numpy() for k, v in out.items() if not k.endswith("_std")}
