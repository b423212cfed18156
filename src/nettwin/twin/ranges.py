"""The ranges of inputs a twin was trained on, and the networks that fall outside them.

A learned twin interpolates: on a network unlike any it was trained on (10 Gb/s links for a twin that saw
100 kb/s ones, a wireless grid for one trained on a wired backbone) its predictions may be far off without any
sign of it. :class:`TrainingRanges` records, at fit time, the smallest and largest value of every input feature
the twin reads (see :mod:`nettwin.twin.graph`) plus the number of nodes per network, the hops per path and the
medium (wired or wireless), and says for a new network which of them it exceeds.

Every input is ≥ 0 and most span orders of magnitude, so the ranges are compared as ratios: a continuous quantity
may be up to :data:`MARGIN` (10 %) above the largest value seen, or below the smallest by as much (÷ 1.1), before
a network counts as outside them; counts (degrees, nodes, hops) and traffic models may not.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nettwin._validation import finite, short_repr
from nettwin.errors import NettwinWarning, TwinError
from nettwin.scenario.units import format_rate, format_size, format_time
from nettwin.twin.graph import LINK_FEATURES, NODE_FEATURES, PATH_FEATURES, TRAFFIC_MODELS, Graph

__all__ = ["TrainingRanges", "OutsideTrainingWarning", "MARGIN", "describe"]

MARGIN = 0.1
"""How far (as a ratio) a continuous input may go beyond the training range before it is reported."""

_MEDIA = ("wired", "wireless")


def _plain(v: float) -> str:
    return f"{v:.4g}"


# Feature → (name in messages, how values print, whether it is a count compared exactly).
_SHOWN: dict[str, tuple[str, Callable[[float], str], bool]] = {
    "path.rate": ("flow rate", format_rate, False),
    "path.mean_rate": ("mean flow rate", format_rate, False),
    "path.packet_size": ("packet size", format_size, False),
    "path.tau_on": ("on time", format_time, False),
    "path.tau_off": ("off time", format_time, False),
    "link.capacity": ("link capacity", format_rate, False),
    "link.weight": ("link weight", _plain, False),
    "link.delay": ("link delay", format_time, False),
    "link.buffer": ("buffer", lambda v: f"{v:.4g} packets", False),
    "link.load": ("link load", lambda v: f"{100 * v:.3g} %", False),
    "node.out_degree": ("node out-degree", _plain, True),
    "node.in_degree": ("node in-degree", _plain, True),
    "network.nodes": ("nodes", _plain, True),
    "network.hops": ("path length", lambda v: f"{v:.4g} hops", True),
}
FEATURES = (
    *(f"path.{n}" for n in PATH_FEATURES),
    *(f"link.{n}" for n in LINK_FEATURES),
    *(f"node.{n}" for n in NODE_FEATURES),
    "network.nodes",
    "network.hops",
    "network.wireless",
)
"""Every recorded input: ``<kind>.<feature column>`` (traffic models are the path columns cbr … ppbp;
``network.wireless`` is 1 for a wireless network, 0 for a wired one)."""


class OutsideTrainingWarning(NettwinWarning):
    """A twin predicts for a network outside the ranges of inputs it was trained on."""


def _columns(graph: Graph) -> dict[str, np.ndarray]:
    out = {}
    for kind, names in (("path", PATH_FEATURES), ("link", LINK_FEATURES), ("node", NODE_FEATURES)):
        x = getattr(graph, f"{kind}_x")
        out.update({f"{kind}.{n}": x[:, i] for i, n in enumerate(names)})
    out["network.nodes"] = np.array([graph.n_nodes], dtype=float)
    out["network.hops"] = np.diff(graph.path_ptr).astype(float)
    out["network.wireless"] = np.array([float(graph.medium == "wireless")])
    return out


@dataclass
class TrainingRanges:
    """``{feature: (smallest, largest)}`` over the training networks (features: :data:`FEATURES`)."""

    bounds: dict[str, tuple[float, float]]

    @classmethod
    def fit(cls, graphs: Sequence[Graph]) -> TrainingRanges:
        """The ranges of ``graphs`` (features with no value in any of them, e.g. no flows, are left out)."""
        seen: dict[str, list[np.ndarray]] = {}
        for g in graphs:
            for name, values in _columns(g).items():
                seen.setdefault(name, []).append(values[np.isfinite(values)])
        bounds = {}
        for name in FEATURES:
            values = np.concatenate(seen.get(name, [np.zeros(0)]))
            if len(values):
                bounds[name] = (float(values.min()), float(values.max()))
        return cls(bounds)

    def check(self, graph: Graph, inputs: Collection[str] | None = None) -> list[str]:
        """Why ``graph`` is outside the ranges, one reason per input (empty: inside them all); with ``inputs`` (the
        ``<kind>.<column>`` names a twin reads) only those feature columns count; the traffic models (a twin that
        lacks a model's column cannot tell its flows apart), the medium, the size and the path lengths always do."""
        reasons = []
        columns = _columns(graph)
        read = (lambda name: True) if inputs is None else (lambda name: name.startswith("network.") or name in inputs)
        unseen = [m for m in TRAFFIC_MODELS if self._lacks_model(m) and np.any(columns[f"path.{m}"] > 0)]
        if unseen:
            known = [m for m in TRAFFIC_MODELS if not self._lacks_model(m)]
            reasons.append(
                f"traffic model {', '.join(unseen)} not seen in training (seen: {', '.join(known) or 'none'})"
            )
        seen_media = self.bounds.get("network.wireless")
        if seen_media is not None and not seen_media[0] <= columns["network.wireless"][0] <= seen_media[1]:
            known = [m for i, m in enumerate(_MEDIA) if seen_media[0] <= i <= seen_media[1]]
            reasons.append(f"medium {graph.medium} not seen in training (seen: {', '.join(known)})")
        for name, (label, show, count) in _SHOWN.items():
            values = columns[name]
            values = values[np.isfinite(values)]
            if name not in self.bounds or not len(values) or not read(name):
                continue
            lo, hi = self.bounds[name]
            ratio = 1.0 if count else 1.0 + MARGIN
            if values.max() > hi * ratio:
                reasons.append(f"{label} {show(values.max())} > {show(hi)} seen")
            elif values.min() < lo / ratio:
                reasons.append(f"{label} {show(values.min())} < {show(lo)} seen")
        return reasons

    def _lacks_model(self, model: str) -> bool:
        bound = self.bounds.get(f"path.{model}")
        if bound is None:
            # Ranges recorded before this model existed lack its column; ranges without any flow lack them all.
            return "path.cbr" in self.bounds
        return bound[1] <= 0

    def to_dict(self) -> dict[str, list[float]]:
        return {k: [lo, hi] for k, (lo, hi) in self.bounds.items()}

    @classmethod
    def from_dict(cls, data: Any, owner: str, where: str = "ranges") -> TrainingRanges:
        """Ranges read from a checkpoint, each checked: a known input, ``[low, high]`` finite with low ≤ high.

        Raises
        ------
        TwinError
            Naming the field at fault.
        """
        if not isinstance(data, dict):
            raise TwinError(f"{owner}: '{where}' must map inputs to [low, high]; got {short_repr(data)}")
        bounds = {}
        for key, value in data.items():
            if key not in FEATURES:
                known = ", ".join(FEATURES)
                raise TwinError(f"{owner}: '{where}' has an unknown input {short_repr(key)}; known: {known}")
            if not (
                isinstance(value, list | tuple)
                and len(value) == 2
                and all(finite(v) for v in value)
                and value[0] <= value[1]
            ):
                raise TwinError(
                    f"{owner}: '{where}.{key}' must be [low, high], finite numbers with low ≤ high; "
                    f"got {short_repr(value)}"
                )
            bounds[key] = (float(value[0]), float(value[1]))
        return cls(bounds)


def describe(label: str, reasons: Sequence[str]) -> str:
    """One line: ``<label> is outside the twin's training range: <reasons>; predictions may be unreliable``."""
    return f"{label} is outside the twin's training range: {'; '.join(reasons)}; predictions may be unreliable"
