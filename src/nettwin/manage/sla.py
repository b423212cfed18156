"""Service-level agreements: per-flow bounds on delay, jitter and drop rate, and a minimum throughput.

An SLA file (YAML or JSON) gives bounds for every flow (``all``) and, after it, for chosen flows (``flows``: each
entry names one flow by its index, ``flow``, or every flow from ``src`` and/or to ``dst``); a later entry overrides
an earlier one field by field. Values take the scenario files' human units::

    all: {delay: 50ms, jitter: 10ms, drop_rate: 1%}
    flows:
      - {flow: 3, delay: 20ms}
      - {src: Seattle, dst: Houston, throughput: 200kbps}

:meth:`SLA.bounds` resolves an SLA against a network into per-flow arrays (NaN where a flow has no bound) and
:func:`violations` judges per-flow KPIs against them: which flows miss which bound, and by how much (the margin).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, model_validator

from nettwin._json import plain
from nettwin.errors import ManageError, ScenarioError
from nettwin.scenario._model import StrictModel
from nettwin.scenario.io import format_validation_error, read_mapping
from nettwin.scenario.network import Network, node_index
from nettwin.scenario.spec import NodeRef
from nettwin.scenario.units import Duration, Rate

__all__ = ["SLA_KPIS", "Bounds", "FlowBounds", "SLA", "Violations", "parse_sla", "load_sla", "violations", "drop_rates"]

SLA_KPIS: dict[str, str] = {"delay": "max", "jitter": "max", "drop_rate": "max", "throughput": "min"}
"""The KPIs an SLA bounds, and whether the bound is a maximum or a minimum."""

_PERCENT = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*")


def parse_fraction(value: object) -> float:
    """A share in [0, 1] from ``'1%'``, ``'0.5 %'`` or a plain number (``0.01``).

    Examples
    --------
    >>> parse_fraction("1%"), parse_fraction(0.25)
    (0.01, 0.25)
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a share")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := _PERCENT.fullmatch(value)):
        number = float(match.group(1)) / (100.0 if match.group(2) else 1.0)
    else:
        raise ValueError(f"expected a share such as '1%' or 0.01, got {value!r}")
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"a share must lie between 0 and 100%, got {value!r}")
    return number


Fraction = Annotated[float, BeforeValidator(parse_fraction)]


class Bounds(StrictModel):
    """Bounds on one flow's KPIs; None leaves a KPI unbounded."""

    delay: Annotated[Duration, Field(gt=0)] | None = None
    """Largest mean delay."""
    jitter: Annotated[Duration, Field(gt=0)] | None = None
    """Largest jitter."""
    drop_rate: Fraction | None = None
    """Largest share of packets dropped."""
    throughput: Annotated[Rate, Field(gt=0)] | None = None
    """Smallest throughput."""

    def given(self) -> dict[str, float]:
        """The bounds this entry sets (SI units)."""
        return {k: getattr(self, k) for k in SLA_KPIS if getattr(self, k) is not None}


class FlowBounds(Bounds):
    """Bounds on the flow of index ``flow``, or on every flow from ``src`` and/or to ``dst``."""

    flow: Annotated[int, Field(ge=0)] | None = None
    src: NodeRef | None = None
    dst: NodeRef | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> FlowBounds:
        if self.flow is not None and (self.src is not None or self.dst is not None):
            raise ValueError("name a flow by 'flow' or by 'src'/'dst', not both")
        if self.flow is None and self.src is None and self.dst is None:
            raise ValueError("name the flows: 'flow' (an index) or 'src' and/or 'dst'")
        if not self.given():
            raise ValueError("give at least one bound: delay, jitter, drop_rate or throughput")
        return self


class SLA(StrictModel):
    """Bounds for every flow (``all``) and for chosen flows (``flows``, later entries overriding earlier ones)."""

    all: Bounds = Bounds()
    flows: list[FlowBounds] = []
    _source: str = PrivateAttr(default="")
    """The file the SLA was read from, named in errors."""

    def bounds(self, network: Network) -> dict[str, np.ndarray]:
        """Per-flow bounds of ``network``'s flows: ``{kpi: (F,) array}`` for each KPI of :data:`SLA_KPIS`, SI units,
        NaN where a flow has no bound.

        Raises
        ------
        ManageError
            One line per entry naming a flow or node the network does not have, or no flow at all.
        """
        n = network.n_flows
        out = {k: np.full(n, np.nan) for k in SLA_KPIS}
        for k, v in self.all.given().items():
            out[k][:] = v
        src = np.array([f.src for f in network.flows], dtype=np.int64)
        dst = np.array([f.dst for f in network.flows], dtype=np.int64)
        problems = []
        for i, entry in enumerate(self.flows):
            where = f"flows[{i}]"
            try:
                chosen = _chosen(entry, network, src, dst, where)
            except ManageError as err:
                problems.append(str(err))
                continue
            for k, v in entry.given().items():
                out[k][chosen] = v
        if problems:
            prefix = f"{self._source}: " if self._source else ""
            raise ManageError("\n".join(prefix + p for p in problems))
        return out


def _chosen(entry: FlowBounds, network: Network, src: np.ndarray, dst: np.ndarray, where: str) -> np.ndarray:
    """Mask of the flows an entry names."""
    if entry.flow is not None:
        if entry.flow >= network.n_flows:
            raise ManageError(f"{where}.flow: no flow {entry.flow} (the network has flows 0..{network.n_flows - 1})")
        mask = np.zeros(network.n_flows, dtype=bool)
        mask[entry.flow] = True
        return mask
    mask = np.ones(network.n_flows, dtype=bool)
    try:
        if entry.src is not None:
            mask &= src == node_index(entry.src, network.nodes, f"{where}.src")
        if entry.dst is not None:
            mask &= dst == node_index(entry.dst, network.nodes, f"{where}.dst")
    except ScenarioError as err:
        raise ManageError(str(err)) from err
    if not mask.any():
        ends = " ".join(f"{k} {v}" for k, v in (("from", entry.src), ("to", entry.dst)) if v is not None)
        raise ManageError(f"{where}: no flow goes {ends}")
    return mask


def parse_sla(data: Any, source: str = "") -> SLA:
    """An :class:`SLA` from a mapping (a parsed YAML/JSON file).

    Raises
    ------
    ManageError
        One line per bad field, prefixed with ``source`` (a file name) when given.
    """
    prefix = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ManageError(f"{prefix}an SLA is a mapping with 'all' and/or 'flows', got {type(data).__name__}")
    try:
        sla = SLA.model_validate(data)
    except ValidationError as err:
        raise ManageError(format_validation_error(err, prefix)) from None
    sla._source = source
    return sla


def load_sla(path: str | Path) -> SLA:
    """Read an SLA file (YAML or JSON); :class:`ManageError` names the file and each bad field."""
    try:
        data = read_mapping(path)
    except ScenarioError as err:
        raise ManageError(str(err)) from err
    return parse_sla(data, str(path))


def drop_rates(kpis: dict[str, np.ndarray], network: Network) -> np.ndarray:
    """Per-flow drop rate: the KPIs' own ``drop_rate``, else their ``drops`` over the packets each flow is expected
    to send in the measured window (what a twin that predicts drop counts implies)."""
    if "drop_rate" in kpis:
        return np.asarray(kpis["drop_rate"], dtype=float)
    window = network.simulation.duration - network.simulation.warmup
    sent = np.array([f.traffic.packet_rate * window for f in network.flows])
    drops = np.asarray(kpis["drops"], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sent > 0, np.clip(drops / sent, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class Violations:
    """Per-flow SLA judgement: for each bounded KPI, which flows miss their bound (``missed``) and the relative
    margin (``margin``: (bound − value) / bound for a maximum, (value − bound) / bound for a minimum; negative when
    missed, NaN where unbounded, −inf for a bounded KPI the flow has no value of, such as the delay of a flow that
    received nothing; a zero bound gives 0 when met and −1 when missed)."""

    missed: dict[str, np.ndarray]
    margin: dict[str, np.ndarray]

    @property
    def any(self) -> np.ndarray:
        """(F,) whether each flow misses some bound."""
        return np.logical_or.reduce(list(self.missed.values())) if self.missed else np.zeros(0, dtype=bool)

    @property
    def count(self) -> int:
        """Number of (flow, KPI) bounds missed."""
        return int(sum(int(m.sum()) for m in self.missed.values()))

    @property
    def worst_margin(self) -> float | None:
        """The smallest margin over every bounded flow and KPI (None when nothing is bounded)."""
        values = [m[~np.isnan(m)] for m in self.margin.values()]
        values = [v for v in values if v.size]
        return float(min(v.min() for v in values)) if values else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: bounds missed per KPI, flows missing any, the worst margin (None when −inf)."""
        return plain(
            {
                "missed": {k: int(v.sum()) for k, v in self.missed.items()},
                "flows_missing": int(self.any.sum()),
                "worst_margin": self.worst_margin,
            }
        )


def violations(kpis: dict[str, np.ndarray], bounds: dict[str, np.ndarray]) -> Violations:
    """Judge per-flow ``kpis`` (SI units, ``drop_rate`` included when bounded: see :func:`drop_rates`) against
    per-flow ``bounds`` (:meth:`SLA.bounds`); only KPIs some flow bounds are judged."""
    missed, margin = {}, {}
    for k, sense in SLA_KPIS.items():
        bound = np.asarray(bounds.get(k, ()), dtype=float)
        if not np.isfinite(bound).any():
            continue
        if k not in kpis:
            raise ManageError(f"the SLA bounds {k}, which the KPIs given do not include")
        value = np.asarray(kpis[k], dtype=float)
        has = np.isfinite(bound)
        gap = (bound - value) if sense == "max" else (value - bound)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(bound > 0, gap / bound, np.where(gap >= 0, 0.0, -1.0))
        m = np.where(np.isfinite(value), m, -np.inf)
        m = np.where(has, m, np.nan)
        margin[k] = m
        missed[k] = has & (m < 0)
    return Violations(missed, margin)
