"""Traffic models and packet-size distributions of a flow."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from nettwin.scenario._model import StrictModel, at_most
from nettwin.scenario.limits import MAX_PACKET_SIZE
from nettwin.scenario.units import Duration, Rate, Size

__all__ = ["PacketBytes", "PacketSize", "Traffic", "TRAFFIC_MODELS", "SIZE_DISTRIBUTIONS"]

TRAFFIC_MODELS = ("cbr", "poisson", "onoff")
SIZE_DISTRIBUTIONS = ("fixed", "exponential", "binomial")

PacketBytes = Annotated[Size, Field(gt=0), at_most(MAX_PACKET_SIZE, "the IPv4 maximum", "{:g} B".format)]
"""A packet size in bytes, > 0 and at most :data:`~nettwin.scenario.limits.MAX_PACKET_SIZE`."""


class PacketSize(StrictModel):
    """Distribution of packet sizes in bytes as they occupy a link.

    ``fixed`` (every packet ``mean`` bytes), ``exponential`` (mean ``mean``; sizes are real-valued, which makes a
    single link an exact M/M/1 queue) or ``binomial`` (``sizes[0]`` with probability ``p``, else ``sizes[1]``;
    RouteNet used 300 and 1700 bits at p = 0.5). A plain number or string (``210``, ``1500B``) means fixed.
    """

    dist: Literal["fixed", "exponential", "binomial"] = "fixed"
    mean: PacketBytes | None = None
    sizes: tuple[PacketBytes, PacketBytes] | None = None
    p: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, value: object) -> object:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return {"dist": "fixed", "mean": value}
        return value

    @model_validator(mode="after")
    def _check(self) -> PacketSize:
        if self.dist == "binomial":
            if self.sizes is None:
                raise ValueError("a binomial packet size needs 'sizes: [small, large]'")
            if self.mean is not None:
                raise ValueError("a binomial packet size takes 'sizes' and 'p', not 'mean'")
        else:
            if self.mean is None:
                raise ValueError(f"a {self.dist} packet size needs 'mean' (bytes)")
            if self.sizes is not None:
                raise ValueError(f"a {self.dist} packet size takes 'mean', not 'sizes'")
            if self.p != PacketSize.model_fields["p"].default:
                raise ValueError(f"a {self.dist} packet size takes 'mean', not 'p' (p applies to binomial sizes)")
        return self

    @property
    def mean_bytes(self) -> float:
        """Mean packet size in bytes."""
        if self.dist == "binomial":
            small, large = self.sizes  # type: ignore[misc]
            return self.p * small + (1.0 - self.p) * large
        return float(self.mean)  # type: ignore[arg-type]

    @property
    def second_moment(self) -> float:
        """E[S²] in bytes², used by queueing formulas (M/G/1)."""
        if self.dist == "fixed":
            return self.mean_bytes**2
        if self.dist == "exponential":
            return 2.0 * self.mean_bytes**2
        small, large = self.sizes  # type: ignore[misc]
        return self.p * small**2 + (1.0 - self.p) * large**2


class Traffic(StrictModel):
    """What a flow sends.

    ``cbr``: one packet every ``mean size / rate`` seconds. ``poisson``: exponential inter-arrival times with mean
    rate ``rate``. ``onoff``: exponentially distributed on and off periods with means ``tau_on`` and ``tau_off``,
    sending CBR at ``rate`` while on (as ns-3's OnOffApplication). ``rate`` is in bits per second while sending.
    """

    model: Literal["cbr", "poisson", "onoff"]
    rate: Annotated[Rate, Field(gt=0)]
    packet_size: PacketSize = PacketSize(mean=1000.0)
    tau_on: Annotated[Duration, Field(gt=0)] | None = None
    tau_off: Annotated[Duration, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _check(self) -> Traffic:
        if self.model == "onoff":
            missing = [k for k in ("tau_on", "tau_off") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"onoff traffic needs {' and '.join(missing)} (mean on/off durations)")
        elif self.tau_on is not None or self.tau_off is not None:
            raise ValueError(f"tau_on/tau_off apply to onoff traffic only, not {self.model}")
        return self

    @property
    def mean_rate(self) -> float:
        """Long-run offered load in bits per second (on/off duty cycle included)."""
        if self.model == "onoff":
            return self.rate * self.tau_on / (self.tau_on + self.tau_off)  # type: ignore[operator]
        return self.rate

    @property
    def packet_rate(self) -> float:
        """Long-run offered packets per second."""
        return self.mean_rate / (8.0 * self.packet_size.mean_bytes)
