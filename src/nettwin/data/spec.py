"""The dataset spec: a base scenario plus what varies from one sample to the next.

A spec is read from YAML or JSON (:func:`load_dataset_spec`) or given as a mapping (:func:`parse_dataset_spec`).
Every key is validated, unknown keys are errors, and values take the same human units as scenarios (``50kbps``,
``10s``, ``210B``). Errors come back as one line per problem, naming the file and the key.

A varied value is a *distribution*: a plain value (always that value), ``{choice: [a, b, ...]}`` (one of the
values, uniformly), ``{uniform: [low, high]}`` or ``{loguniform: [low, high]}``. See ``docs/datasets.md`` for the
whole format.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import numpy as np
from pydantic import (
    BaseModel,
    Field,
    PositiveInt,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from nettwin.errors import DatasetError, NettwinError
from nettwin.scenario._model import StrictModel, at_most, field_error
from nettwin.scenario.io import format_validation_error, read_mapping
from nettwin.scenario.limits import MAX_FLOWS, MAX_RATE, MAX_SAMPLES
from nettwin.scenario.network import build_links
from nettwin.scenario.spec import TEMPLATE, Buffer, Metres, Scenario, SchedulerSpec, Seed, TopologySpec, Tos
from nettwin.scenario.traffic import PacketBytes, Traffic
from nettwin.scenario.units import Duration, Rate, format_rate

__all__ = [
    "Distribution",
    "RateDist",
    "DurationDist",
    "OffDurationDist",
    "SizeDist",
    "RealDist",
    "NonNegativeDist",
    "DistanceDist",
    "CountDist",
    "BufferDist",
    "ClassDist",
    "LawChoice",
    "SchedulerChoice",
    "TrafficVariation",
    "TrafficTemplate",
    "RandomFlows",
    "TrafficMatrix",
    "FlowsVariation",
    "TopologyVariation",
    "RoutingVariation",
    "LinkVariation",
    "Splits",
    "SPLITS",
    "DatasetSpec",
    "load_dataset_spec",
    "parse_dataset_spec",
]

SPLITS = ("train", "val", "test")
"""Split names, in the order their samples are taken from the seeded permutation."""

T = TypeVar("T")

_VALUE_ADAPTERS: dict[type, TypeAdapter] = {}


class Distribution(StrictModel, Generic[T]):
    """A value drawn at random: exactly one of ``choice``, ``uniform`` or ``loguniform``.

    A plain value ``v`` means ``{choice: [v]}`` (always ``v``). ``uniform: [low, high]`` draws uniformly in
    ``[low, high)``; ``loguniform`` draws ``exp(uniform(log low, log high))`` (both bounds > 0). Counts
    (:class:`CountDist`) draw whole numbers, ``uniform`` then including both bounds.
    """

    choice: list[T] | None = Field(default=None, min_length=1)
    uniform: tuple[T, T] | None = None
    loguniform: tuple[T, T] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            raise ValueError(
                "a list is ambiguous here; write {choice: [...]}, {uniform: [low, high]} or {loguniform: [low, high]}"
            )
        if not isinstance(value, Mapping) and not isinstance(value, BaseModel):
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got a boolean ({str(value).lower()})")
            # Checked here so that a bad plain value is reported at the field, not at a 'choice' the user never wrote.
            cls._values().validate_python(value)
            return {"choice": [value]}
        return value

    @classmethod
    def _values(cls) -> TypeAdapter:
        """The validator of one value of this distribution (``T``)."""
        if cls not in _VALUE_ADAPTERS:
            (item,) = typing.get_args(typing.get_args(cls.model_fields["choice"].annotation)[0])
            _VALUE_ADAPTERS[cls] = TypeAdapter(item)
        return _VALUE_ADAPTERS[cls]

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        given = [k for k in ("choice", "uniform", "loguniform") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of choice, uniform or loguniform" + (f"; got {', '.join(given)}" if given else "")
            )
        for key in ("uniform", "loguniform"):
            bounds = getattr(self, key)
            if bounds is not None:
                low, high = bounds
                if low > high:
                    raise ValueError(f"{key}: low must not exceed high, got [{low}, {high}]")
                if key == "loguniform" and low <= 0:
                    raise ValueError(f"loguniform: bounds must be > 0, got [{low}, {high}]")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can give."""
        if self.choice is not None:
            return float(min(self.choice)), float(max(self.choice))  # type: ignore[type-var]
        low, high = self.uniform if self.uniform is not None else self.loguniform  # type: ignore[misc]
        return float(low), float(high)

    def draw(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """One value (``size=None``) or an array of ``size`` independent values, as floats."""
        if self.choice is not None:
            values = np.asarray(self.choice, dtype=float)
            return values[rng.integers(len(values), size=size)]
        if self.uniform is not None:
            low, high = self.uniform
            return rng.uniform(float(low), float(high), size=size)
        low, high = self.loguniform  # type: ignore[misc]
        return np.exp(rng.uniform(math.log(low), math.log(high), size=size))

    def draw_int(self, rng: np.random.Generator, size: int | None = None) -> Any:
        """Like :meth:`draw` for whole numbers: ``uniform`` includes both bounds, ``loguniform`` is rounded."""
        if self.uniform is not None:
            low, high = self.uniform
            return rng.integers(int(low), int(high) + 1, size=size)
        return np.rint(self.draw(rng, size)).astype(np.int64)


PositiveRate = Annotated[Rate, Field(gt=0)]
PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegativeDuration = Annotated[Duration, Field(ge=0)]
PositiveReal = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeReal = Annotated[float, Field(ge=0, allow_inf_nan=False)]
FlowCount = Annotated[PositiveInt, at_most(MAX_FLOWS, "flows drawn for one sample", str)]


class RateDist(Distribution[PositiveRate]):
    """A distribution of rates (bit/s, > 0)."""


class DurationDist(Distribution[PositiveDuration]):
    """A distribution of durations (s, > 0)."""


class OffDurationDist(Distribution[NonNegativeDuration]):
    """A distribution of durations (s, ≥ 0)."""


class SizeDist(Distribution[PacketBytes]):
    """A distribution of packet sizes (bytes, > 0)."""


class RealDist(Distribution[PositiveReal]):
    """A distribution of positive numbers."""


class NonNegativeDist(Distribution[NonNegativeReal]):
    """A distribution of numbers ≥ 0."""


class DistanceDist(Distribution[Metres]):
    """A distribution of distances (m, ≥ 0, at most :data:`~nettwin.scenario.limits.MAX_COORDINATE`)."""


class CountDist(Distribution[FlowCount]):
    """A distribution of flow counts (≥ 1, at most :data:`~nettwin.scenario.limits.MAX_FLOWS`)."""


class BufferDist(Distribution[Buffer]):
    """A distribution of buffer sizes (whole packets ≥ 0)."""


class ClassDist(Distribution[Tos]):
    """A distribution of traffic classes (a flow's ``tos``: whole numbers from 0)."""


class _Choice(StrictModel):
    """A categorical draw: ``{choice: [a, b, ...]}``, one value uniformly; a single plain value means just it."""

    _ONE: ClassVar[str] = "one value"
    """How one value is written, as errors say it."""

    @model_validator(mode="before")
    @classmethod
    def _from_single(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            raise ValueError(f"a list is ambiguous here; write {{choice: [...]}} or {cls._ONE}")
        if isinstance(value, Mapping) and "choice" in value:
            return value
        if isinstance(value, Mapping) and {"uniform", "loguniform"} & set(value):
            raise ValueError(f"values are drawn from a list here; write {{choice: [...]}} or {cls._ONE}")
        return {"choice": [value]}

    def draw_index(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent indices into ``choice``."""
        return rng.integers(len(self.choice), size=size)  # type: ignore[attr-defined]


class LawChoice(_Choice):
    """Traffic laws drawn per flow: ``{choice: [poisson, onoff, ...]}`` or one law's name."""

    _ONE = "one law's name"
    choice: list[Literal["cbr", "poisson", "onoff", "uniform", "normal", "ppbp"]] = Field(min_length=1)


class SchedulerChoice(_Choice):
    """Output-port schedulers drawn per link: ``{choice: [<scheduler>, ...]}`` or one scheduler."""

    _ONE = "one scheduler"
    choice: list[SchedulerSpec] = Field(min_length=1)


class TrafficVariation(StrictModel):
    """Traffic parameters redrawn for every flow of every sample, independently.

    ``rate`` (bit/s while sending), ``tau_on``/``tau_off`` (mean on/off durations; applied to on/off flows only)
    and ``packet_size`` (bytes; sets the mean of fixed and exponential sizes, and makes a binomial size fixed).
    ``model`` draws each flow's traffic law, keeping its mean rate (see :func:`nettwin.data.sampling.draw_law`);
    ``tos`` draws each flow's traffic class.
    """

    rate: RateDist | None = None
    tau_on: DurationDist | None = None
    tau_off: OffDurationDist | None = None
    packet_size: SizeDist | None = None
    model: LawChoice | None = None
    tos: ClassDist | None = None

    @model_validator(mode="after")
    def _law_sets_durations(self) -> TrafficVariation:
        for key in ("tau_on", "tau_off"):
            if self.model is not None and getattr(self, key) is not None:
                raise field_error(
                    (key,), "traffic.model draws each flow's law and sets its on/off durations; leave it out", None
                )
        return self

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the varied parameters, in the order they are drawn."""
        return tuple(k for k in ("rate", "tau_on", "tau_off", "packet_size") if getattr(self, k) is not None)


class TrafficTemplate(Traffic):
    """A traffic model whose ``rate`` is filled in per flow (from a traffic matrix), so it must not be given."""

    rate: Annotated[Rate, Field(gt=0)] | None = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _no_rate(self) -> TrafficTemplate:
        if self.rate is not None:
            raise field_error(("rate",), "the traffic matrix sets every flow's rate; leave it out", self.rate)
        return self


class RandomFlows(StrictModel):
    """``count`` flows between random node pairs, all with the ``traffic`` template.

    With ``unique_pairs`` (the default) no ordered (src, dst) pair repeats within a sample.
    """

    count: CountDist
    unique_pairs: bool = True
    traffic: Traffic


class TrafficMatrix(StrictModel):
    """One flow for every ordered node pair, its rate taken from a traffic matrix drawn per sample.

    ``intensity`` (drawn per sample) is the largest per-pair rate. ``uniform``: every pair's rate is
    ``intensity × U(low, 1)``. ``gravity``: node masses ``m ~ U(low, 1)``, pair ``(s, d)`` gets
    ``intensity × m_s·m_d / max(m_u·m_v)``. The rate goes into the ``traffic`` template (the rate while sending
    for on/off sources).
    """

    model: Literal["uniform", "gravity"] = "uniform"
    intensity: RateDist
    low: Annotated[float, Field(gt=0, le=1)] = 0.1
    traffic: TrafficTemplate = TrafficTemplate(model="poisson")


class FlowsVariation(StrictModel):
    """Where each sample's flows come from: the base's (default), ``random`` pairs, or a traffic ``matrix``."""

    random: RandomFlows | None = None
    matrix: TrafficMatrix | None = None

    @model_validator(mode="after")
    def _one(self) -> FlowsVariation:
        if self.random is not None and self.matrix is not None:
            raise ValueError("give at most one of random or matrix")
        return self

    @property
    def mode(self) -> Literal["fixed", "random", "matrix"]:
        """``fixed``, ``random`` or ``matrix``."""
        if self.random is not None:
            return "random"
        return "matrix" if self.matrix is not None else "fixed"


class TopologyVariation(StrictModel):
    """Which topology a sample uses: the base's, or one of ``choices`` drawn uniformly.

    ``perturb`` redraws grid topologies per sample: a radius (metres) from the distribution and a fresh seed
    for the node displacements. ``reseed`` gives random topologies a fresh seed per sample (a new graph each).
    """

    choices: list[TopologySpec] | None = Field(default=None, min_length=1)
    perturb: DistanceDist | None = None
    reseed: bool = False


class RoutingVariation(StrictModel):
    """Random routing: per-link weights drawn per sample, flows routed on the cheapest path by weight.

    With ``symmetric`` both directions of a link get the same weight.
    """

    link_weights: RealDist | None = None
    symmetric: bool = False

    @model_validator(mode="after")
    def _weights_given(self) -> RoutingVariation:
        if self.symmetric and self.link_weights is None:
            raise field_error(("symmetric",), "applies to drawn link_weights; give routing.link_weights", True)
        return self


class LinkVariation(StrictModel):
    """Link attributes drawn per directed link of every sample: ``capacity`` (bit/s), ``delay`` (propagation, s),
    ``buffer`` (packets waiting) and ``scheduler`` (one of the choices). With ``symmetric`` both directions of a link
    get the same values.
    """

    capacity: RateDist | None = None
    delay: OffDurationDist | None = None
    buffer: BufferDist | None = None
    scheduler: SchedulerChoice | None = None
    symmetric: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        """Names of the varied attributes, in the order they are drawn."""
        return tuple(k for k in ("capacity", "delay", "buffer", "scheduler") if getattr(self, k) is not None)

    @model_validator(mode="after")
    def _something_drawn(self) -> LinkVariation:
        if self.symmetric and not self.fields:
            raise field_error(
                ("symmetric",), "applies to drawn link values; give capacity, delay, buffer or scheduler", True
            )
        return self


class Splits(StrictModel):
    """Fractions of samples in the train, validation and test splits; they must add up to 1."""

    train: Annotated[float, Field(ge=0, le=1)] = 0.8
    val: Annotated[float, Field(ge=0, le=1)] = 0.1
    test: Annotated[float, Field(ge=0, le=1)] = 0.1

    @model_validator(mode="after")
    def _sum(self) -> Splits:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must add up to 1, got {total:g}")
        return self

    def sizes(self, n: int) -> dict[str, int]:
        """Samples per split for ``n`` samples: val and test rounded, train takes the rest."""
        val = round(self.val * n)
        test = min(round(self.test * n), n - val)
        return {"train": n - val - test, "val": val, "test": test}


Samples = Annotated[PositiveInt, at_most(MAX_SAMPLES, "the most samples one dataset holds", str)]


class DatasetSpec(StrictModel):
    """A whole dataset: base scenario, variations, sample count, seed, splits and storage settings.

    Sample ``i`` is a pure function of the spec, ``seed`` and ``i`` (see :mod:`nettwin.data.sampling`).
    ``simbase_runs`` extra runs (R1..Rk) are simulated for test samples; the others get run R0 only.
    """

    name: str | None = None
    base: Scenario
    samples: Samples
    seed: Seed = 0
    splits: Splits = Splits()
    simbase_runs: Annotated[int, Field(ge=0, le=16)] = 3
    engine: str | None = None
    shard_size: Samples = 100
    traffic: TrafficVariation = TrafficVariation()
    flows: FlowsVariation = FlowsVariation()
    topology: TopologyVariation = TopologyVariation()
    capacity_scale: RealDist | None = None
    routing: RoutingVariation = RoutingVariation()
    links: LinkVariation = LinkVariation()

    _given: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _placeholder_flows(cls, data: object) -> object:
        # With random or matrix flows the base's flows are unused and may be left out; a scenario needs one,
        # so a stand-in is validated in their place (and left out of the resolved spec and its hash).
        if isinstance(data, Mapping) and isinstance(data.get("base"), Mapping) and "flows" not in data["base"]:
            flows = data.get("flows")
            if isinstance(flows, Mapping) and (flows.get("random") is not None or flows.get("matrix") is not None):
                data = dict(data)
                data["base"] = {**data["base"], "flows": [_STAND_IN_FLOW]}
        return data

    @model_validator(mode="after")
    def _check(self) -> DatasetSpec:
        candidates = self.topology.choices or [self.base.topology]
        if self.topology.perturb is not None and not any(t.grid is not None for t in candidates):
            raise ValueError("topology.perturb redraws grid topologies, but no candidate topology is a grid")
        if self.flows.mode == "matrix" and self.traffic.rate is not None:
            raise ValueError("traffic.rate and flows.matrix both set flow rates; keep one")
        if self.topology.reseed and not any(t.random is not None for t in candidates):
            raise field_error(
                ("topology", "reseed"),
                "gives random topologies a fresh seed, but no candidate topology is random",
                True,
            )
        if self.links.capacity is not None and any(t.medium == "wireless" for t in candidates):
            raise field_error(
                ("links", "capacity"), "wireless links all send at topology.wireless.rate; set that", None
            )
        self._check_classes()
        return self

    def _check_classes(self) -> None:
        """Every drawn scheduler that serves classes in queues of their own has a queue for every drawn class."""
        if self.links.scheduler is None:
            return
        top = int(self.traffic.tos.bounds[1]) if self.traffic.tos is not None else 0
        for k, scheduler in enumerate(self.links.scheduler.choice):
            if scheduler.policy != "fifo" and len(scheduler.queues) <= top:
                raise field_error(
                    ("links", "scheduler", "choice", k, "queues"),
                    f"traffic.tos draws classes up to {top}, but this {scheduler.policy} port has "
                    f"{len(scheduler.queues)} queue(s); give it {top + 1}",
                    len(scheduler.queues),
                )

    @property
    def dataset_name(self) -> str:
        """``name``, or the base scenario's name."""
        return self.name or self.base.name

    @property
    def engine_name(self) -> str:
        """The engine every sample runs on: ``engine``, or the base's ``simulation.engine``."""
        return self.engine or self.base.simulation.engine

    @property
    def given(self) -> dict[str, Any] | None:
        """The mapping the spec was read from, as written (None when built in code)."""
        return copy.deepcopy(self._given)

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled in and values in SI units (JSON-ready)."""
        data = self.model_dump(mode="json")
        if self.flows.mode != "fixed":
            data["base"].pop("flows", None)
        return data

    def spec_hash(self) -> str:
        """SHA-256 of the resolved spec: two specs with the same hash produce the same samples."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def replace(self, **changes: Any) -> DatasetSpec:
        """The same spec with some top-level fields replaced, e.g. ``samples`` or ``engine`` (the mapping as
        given is updated too, so the change shows in the manifest and the spec hash)."""
        try:
            spec = DatasetSpec.model_validate({**self.model_dump(), **changes}, context=_CONTEXT)
        except ValidationError as err:
            raise DatasetError(format_validation_error(err)) from err
        if self._given is not None:
            spec._given = {**self._given, **changes}
        return spec

    @classmethod
    def from_resolved(cls, data: Mapping[str, Any]) -> DatasetSpec:
        """Rebuild a spec from :meth:`resolved` output (as stored in a dataset manifest)."""
        return cls.model_validate(data, context=_CONTEXT)


_STAND_IN_FLOW = {"src": 0, "dst": 1, "traffic": {"model": "cbr", "rate": 1.0}}

_CONTEXT = {TEMPLATE: True}
"""The base is validated as a template: whether its flows carry packets is checked on each sample drawn."""


def parse_dataset_spec(data: Mapping[str, Any], base_dir: str | Path | None = None, source: str = "") -> DatasetSpec:
    """Validate a dataset spec given as a mapping.

    Parameters
    ----------
    data : the spec; ``base`` is a scenario mapping or the path of a scenario file.
    base_dir : directory that relative paths (``base``, topology ``file`` entries) are read from.
    source : prefix for error lines (the spec file's name).

    Returns
    -------
    DatasetSpec

    Raises
    ------
    DatasetError
        One line per problem, ``<source>: <key path>: <what is wrong>``.
    """
    prefix = f"{source}: " if source else ""
    if not isinstance(data, Mapping):
        raise DatasetError(f"{prefix}expected a mapping at the top level, got {type(data).__name__}")
    given = copy.deepcopy(dict(data))
    work = dict(data)
    folder = Path(base_dir) if base_dir is not None else Path.cwd()
    base = work.get("base")
    if isinstance(base, str | Path):
        path = Path(base)
        if not path.is_absolute():
            path = folder / path
        try:
            base = read_mapping(path)
        except NettwinError as err:
            raise DatasetError(f"{prefix}base: {err}") from err
        work["base"] = _absolute_files(base, path.parent)
    elif isinstance(base, Mapping):
        work["base"] = _absolute_files(base, folder)
    if isinstance(work.get("topology"), Mapping) and isinstance(work["topology"].get("choices"), list):
        work["topology"] = {
            **work["topology"],
            "choices": [
                _absolute_files({"topology": c}, folder)["topology"] if isinstance(c, Mapping) else c
                for c in work["topology"]["choices"]
            ],
        }
    try:
        spec = DatasetSpec.model_validate(work, context=_CONTEXT)
    except ValidationError as err:
        raise DatasetError(format_validation_error(err, prefix)) from err
    _check_capacity_scale(spec, prefix)
    spec._given = given
    return spec


def _check_capacity_scale(spec: DatasetSpec, prefix: str) -> None:
    """Refuse a ``capacity_scale`` that would take some sample's links beyond what a link may carry, or that would
    scale wireless links, now rather than in every sample drawn."""
    if spec.capacity_scale is None:
        return
    high = spec.capacity_scale.bounds[1]
    for topo in spec.topology.choices or [spec.base.topology]:
        if topo.medium == "wireless":
            raise DatasetError(f"{prefix}capacity_scale: wireless links all send at topology.wireless.rate; set that")
        if spec.links.capacity is not None:
            capacity = np.array([spec.links.capacity.bounds[1]])
        else:
            try:
                capacity = build_links(topo).capacity
            except NettwinError:
                continue  # a topology that cannot be read is reported by the sample that draws it
        if capacity.max(initial=0.0) * high > MAX_RATE:
            raise DatasetError(
                f"{prefix}capacity_scale: {high:g} takes the fastest link to {format_rate(capacity.max() * high)}, "
                f"above the fastest rate nettwin accepts ({format_rate(MAX_RATE)})"
            )


def load_dataset_spec(path: str | Path) -> DatasetSpec:
    """Read and validate a dataset spec file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    DatasetError
        If the file is missing or unreadable, or one line per invalid key.
    """
    path = Path(path)
    try:
        data = read_mapping(path)
    except NettwinError as err:
        raise DatasetError(str(err)) from err
    return parse_dataset_spec(data, path.parent, str(path))


def _absolute_files(scenario: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Copy of a scenario (or ``{topology: ...}``) mapping with a relative topology ``file`` made absolute."""
    out = dict(scenario)
    topo = out.get("topology")
    if isinstance(topo, Mapping) and isinstance(topo.get("file"), str) and not Path(topo["file"]).is_absolute():
        out["topology"] = {**topo, "file": str((folder / topo["file"]).resolve())}
    return out
