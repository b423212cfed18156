"""Traffic models and packet-size distributions of a flow."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from nettwin.scenario._model import StrictModel, at_most
from nettwin.scenario.limits import MAX_PACKET_SIZE
from nettwin.scenario.units import Duration, Rate, Size

__all__ = [
    "PacketBytes",
    "PacketSize",
    "Traffic",
    "TRAFFIC_MODELS",
    "SIZE_DISTRIBUTIONS",
    "PROB_TOLERANCE",
    "truncated_pareto_mean",
]

TRAFFIC_MODELS = ("cbr", "poisson", "onoff", "uniform", "normal", "ppbp")
SIZE_DISTRIBUTIONS = ("fixed", "exponential", "binomial", "uniform", "discrete")

PROB_TOLERANCE = 1e-6
"""How far the probabilities of a discrete packet size may sum from 1 (they are then used divided by their sum)."""

PacketBytes = Annotated[Size, Field(gt=0), at_most(MAX_PACKET_SIZE, "the IPv4 maximum", "{:g} B".format)]
"""A packet size in bytes, > 0 and at most :data:`~nettwin.scenario.limits.MAX_PACKET_SIZE`."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


_SIZE_FIELDS = {
    "fixed": ("mean",),
    "exponential": ("mean",),
    "binomial": ("sizes", "p"),
    "uniform": ("min", "max"),
    "discrete": ("sizes", "probs"),
}
_SIZE_NEEDS = {
    ("fixed", "mean"): "'mean' (bytes)",
    ("exponential", "mean"): "'mean' (bytes)",
    ("binomial", "sizes"): "'sizes: [small, large]'",
    ("uniform", "min"): "'min' (bytes)",
    ("uniform", "max"): "'max' (bytes)",
    ("discrete", "sizes"): "'sizes: [s1, s2, ...]' (bytes)",
    ("discrete", "probs"): "'probs: [p1, p2, ...]'",
}


class PacketSize(StrictModel):
    """Distribution of packet sizes in bytes as they occupy a link.

    ``fixed`` (every packet ``mean`` bytes), ``exponential`` (mean ``mean``; sizes are real-valued, which makes a
    single link an exact M/M/1 queue), ``binomial`` (``sizes[0]`` with probability ``p``, else ``sizes[1]``;
    RouteNet used 300 and 1700 bits at p = 0.5), ``uniform`` (real-valued, uniform on [``min``, ``max``]) or
    ``discrete`` (``sizes[i]`` with probability ``probs[i]``). A plain number or string (``210``, ``1500B``) means
    fixed.
    """

    dist: Literal["fixed", "exponential", "binomial", "uniform", "discrete"] = "fixed"
    mean: PacketBytes | None = None
    sizes: tuple[PacketBytes, ...] | None = None
    p: Probability = 0.5
    min: PacketBytes | None = None
    max: PacketBytes | None = None
    probs: tuple[Probability, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: object) -> object:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return {"dist": "fixed", "mean": value}
        return value

    @model_validator(mode="after")
    def _check(self) -> PacketSize:
        dist = self.dist
        takes = _SIZE_FIELDS[dist]
        needs = ("mean",) if dist in ("fixed", "exponential") else ("sizes",) if dist == "binomial" else takes
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {dist} packet size needs {' and '.join(_SIZE_NEEDS[dist, m] for m in missing)}")
        for name in ("mean", "sizes", "p", "min", "max", "probs"):
            if name not in takes and getattr(self, name) != PacketSize.model_fields[name].default:
                why = " (p applies to binomial sizes)" if name == "p" else ""
                quoted = " and ".join(f"'{t}'" for t in takes)
                raise ValueError(f"a {dist} packet size takes {quoted}, not '{name}'{why}")
        if dist == "binomial" and len(self.sizes) != 2:  # type: ignore[arg-type]
            raise ValueError(f"a binomial packet size has 'sizes: [small, large]', got {len(self.sizes)} sizes")  # type: ignore[arg-type]
        if dist == "uniform" and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"a uniform packet size needs min <= max, got min {self.min:g} B > max {self.max:g} B")
        if dist == "discrete":
            n, k = len(self.sizes), len(self.probs)  # type: ignore[arg-type]
            if n == 0:
                raise ValueError("a discrete packet size needs at least one size in 'sizes'")
            if k != n:
                raise ValueError(f"a discrete packet size needs one entry of 'probs' per size ({n}), got {k}")
            total = math.fsum(self.probs)  # type: ignore[arg-type]
            if abs(total - 1.0) > PROB_TOLERANCE:
                raise ValueError(f"the 'probs' of a discrete packet size must sum to 1, got {total:.9g}")
        return self

    @property
    def weights(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Binomial and discrete sizes: the sizes (bytes) and their probabilities, normalised to sum to 1."""
        if self.dist == "binomial":
            return tuple(self.sizes), (self.p, 1.0 - self.p)  # type: ignore[arg-type]
        total = math.fsum(self.probs)  # type: ignore[arg-type]
        return tuple(self.sizes), tuple(q / total for q in self.probs)  # type: ignore[arg-type, union-attr]

    def with_mean(self, mean: float) -> PacketSize:
        """The same law scaled to a mean of ``mean`` bytes (every size multiplied by ``mean / mean_bytes``).

        Raises
        ------
        ValueError
            If a scaled size leaves the allowed range (> 0, at most the IPv4 maximum).
        """
        k = mean / self.mean_bytes
        scaled = {name: getattr(self, name) for name in ("dist", "p", "probs")}
        for name in ("mean", "min", "max"):
            if getattr(self, name) is not None:
                scaled[name] = getattr(self, name) * k
        if self.sizes is not None:
            scaled["sizes"] = tuple(v * k for v in self.sizes)
        return PacketSize.model_validate({k_: v for k_, v in scaled.items() if v is not None})

    @property
    def mean_bytes(self) -> float:
        """Mean packet size in bytes."""
        if self.dist in ("binomial", "discrete"):
            sizes, probs = self.weights
            return math.fsum(q * s for s, q in zip(sizes, probs, strict=True))
        if self.dist == "uniform":
            return 0.5 * (self.min + self.max)  # type: ignore[operator]
        return float(self.mean)  # type: ignore[arg-type]

    @property
    def second_moment(self) -> float:
        """E[S²] in bytes², used by queueing formulas (M/G/1)."""
        if self.dist == "fixed":
            return self.mean_bytes**2
        if self.dist == "exponential":
            return 2.0 * self.mean_bytes**2
        if self.dist == "uniform":
            lo, hi = self.min, self.max
            return (lo * lo + lo * hi + hi * hi) / 3.0  # type: ignore[operator]
        sizes, probs = self.weights
        return math.fsum(q * s * s for s, q in zip(sizes, probs, strict=True))


DEFAULT_SPREAD = 1.0
"""The ``spread`` of uniform traffic when the file gives none: gaps uniform on [0, 2g]."""

_MODEL_FIELDS = {
    "onoff": ("tau_on", "tau_off"),
    "uniform": ("spread",),
    "normal": ("gap_std",),
    "ppbp": ("burst_arrivals", "burst_min", "burst_max", "pareto_shape"),
}
_REQUIRED = {
    "onoff": (("tau_on", "tau_off"), "(mean on/off durations)"),
    "normal": (("gap_std",), "(standard deviation of the gap between packets)"),
    "ppbp": (
        ("burst_arrivals", "burst_min", "burst_max", "pareto_shape"),
        "(bursts per second, smallest and largest burst in bytes, Pareto shape)",
    ),
}


def truncated_pareto_mean(low: float, high: float, shape: float) -> float:
    """Mean of the Pareto law of ``shape`` α > 0 and scale ``low``, truncated to [``low``, ``high``].

    With L = ln(high/low): E = α·low·φ / (1 − e^(−αL)), φ = (e^((1−α)L) − 1)/(1 − α), and φ = L at α = 1
    (written with ``expm1`` so that shapes near 1 lose no precision); ``low`` when low = high.

    Examples
    --------
    >>> round(truncated_pareto_mean(1.0, 100.0, 1.0), 6)  # ln(100) / 0.99
    4.651687
    """
    span = math.log(high / low)
    if span == 0.0:
        return float(low)
    c = 1.0 - shape
    phi = math.expm1(c * span) / c if c != 0.0 else span
    return shape * low * phi / -math.expm1(-shape * span)


class Traffic(StrictModel):
    """What a flow sends.

    With g = mean packet size · 8 / ``rate`` (the mean gap between packets):

    - ``cbr``: one packet every g seconds, from a random phase.
    - ``poisson``: exponential gaps of mean g.
    - ``uniform``: independent gaps uniform on [g·(1 − ``spread``), g·(1 + ``spread``)] (``spread`` in [0, 1],
      default 1; 0 is CBR).
    - ``normal``: independent gaps drawn from Normal(g, ``gap_std``); a draw below zero counts as zero (the next
      packet follows at once), which lengthens the mean gap to g·Φ(g/σ) + σ·φ(g/σ) and so *lowers* the mean rate
      below ``rate``: by less than 0.02 % while ``gap_std`` ≤ g/3, by 8 % at ``gap_std`` = g (``mean_rate`` is
      the exact value).
    - ``onoff``: exponentially distributed on and off periods with means ``tau_on`` and ``tau_off``, sending CBR
      at ``rate`` while on (as ns-3's OnOffApplication).
    - ``ppbp``: Poisson Pareto burst process. Bursts start as a Poisson process of ``burst_arrivals`` per second;
      each carries a number of bytes drawn from a Pareto law of shape ``pareto_shape`` truncated to
      [``burst_min``, ``burst_max``] and sends it at ``rate``. Bursts overlap and their rates add; packets are cut
      from the resulting bit stream with the flow's packet-size law.

    ``rate`` is in bits per second while sending: the mean rate for cbr, poisson, uniform and normal, the rate of
    an on period for onoff and of one burst for ppbp (see :attr:`mean_rate`).
    """

    model: Literal["cbr", "poisson", "onoff", "uniform", "normal", "ppbp"]
    rate: Annotated[Rate, Field(gt=0)]
    packet_size: PacketSize = PacketSize(mean=1000.0)
    tau_on: Annotated[Duration, Field(gt=0)] | None = None
    tau_off: Annotated[Duration, Field(ge=0)] | None = None
    spread: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    gap_std: Annotated[Duration, Field(ge=0)] | None = None
    burst_arrivals: Annotated[float, Field(gt=0)] | None = None
    burst_min: Annotated[Size, Field(gt=0)] | None = None
    burst_max: Annotated[Size, Field(gt=0)] | None = None
    pareto_shape: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _check(self) -> Traffic:
        required, meaning = _REQUIRED.get(self.model, ((), ""))
        missing = [k for k in required if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.model} traffic needs {' and '.join(missing)} {meaning}")
        for model, names in _MODEL_FIELDS.items():
            given = [k for k in names if getattr(self, k) is not None]
            if given and model != self.model:
                verb = "applies" if len(given) == 1 else "apply"
                raise ValueError(f"{'/'.join(given)} {verb} to {model} traffic only, not {self.model}")
        if self.model == "ppbp" and self.burst_min > self.burst_max:  # type: ignore[operator]
            raise ValueError(
                f"ppbp traffic needs burst_min <= burst_max, got {self.burst_min:g} B > {self.burst_max:g} B"
            )
        return self

    @property
    def mean_gap(self) -> float:
        """g, the nominal mean gap between packets in seconds: mean packet size · 8 / ``rate``."""
        return self.packet_size.mean_bytes * 8.0 / self.rate

    @property
    def mean_burst(self) -> float:
        """ppbp: mean bytes per burst (the truncated Pareto mean)."""
        return truncated_pareto_mean(self.burst_min, self.burst_max, self.pareto_shape)  # type: ignore[arg-type]

    @property
    def mean_rate(self) -> float:
        """Long-run offered load in bits per second (on/off duty cycle, overlapping bursts, clipped gaps included)."""
        if self.model == "onoff":
            return self.rate * self.tau_on / (self.tau_on + self.tau_off)  # type: ignore[operator]
        if self.model == "ppbp":
            return self.burst_arrivals * 8.0 * self.mean_burst  # type: ignore[operator]
        if self.model == "normal" and self.gap_std > 0:  # type: ignore[operator]
            g, s = self.mean_gap, self.gap_std
            a = g / s  # type: ignore[operator]
            clipped = g * 0.5 * math.erfc(-a / math.sqrt(2.0)) + s * math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)  # type: ignore[operator]
            return self.rate * g / clipped
        return self.rate

    def thinned(self, share: float) -> Traffic:
        """The part of this traffic a path carrying ``share`` of its packets sees: the same law and packet sizes at
        ``share`` times the rate (an on/off flow keeps its periods, a ppbp flow its burst arrivals and durations,
        with bursts ``share`` times smaller; a normal law keeps its gaps' coefficient of variation).

        Exact in the mean rate; for Poisson traffic the thinned stream is again Poisson, for other laws an
        approximation of the randomly thinned stream.
        """
        if share == 1.0:
            return self
        scaled: dict[str, float] = {"rate": self.rate * share}
        if self.model == "normal" and self.gap_std is not None:
            scaled["gap_std"] = self.gap_std / share
        if self.model == "ppbp":
            scaled["burst_min"] = self.burst_min * share  # type: ignore[operator]
            scaled["burst_max"] = self.burst_max * share  # type: ignore[operator]
        return self.model_copy(update=scaled)

    @property
    def packet_rate(self) -> float:
        """Long-run offered packets per second."""
        return self.mean_rate / (8.0 * self.packet_size.mean_bytes)
