"""Radio geometry of wireless scenarios: path loss, neighbourhood, and the link weights twins use."""

from __future__ import annotations

import numpy as np

from nettwin.scenario.spec import WirelessSpec

__all__ = ["path_loss_db", "radio_range", "wireless_links", "link_weight"]


def path_loss_db(distance: np.ndarray | float, model: WirelessSpec) -> np.ndarray:
    """Log-distance path loss in dB: ``reference_loss + 10·exponent·log10(d)`` for ``d`` in metres (d ≥ 1 m)."""
    d = np.maximum(np.asarray(distance, dtype=float), 1.0)
    return model.reference_loss + 10.0 * model.exponent * np.log10(d)


def radio_range(model: WirelessSpec) -> float:
    """Largest distance (m) at which the received power still reaches the receiver sensitivity (``range`` if given)."""
    if model.range is not None:
        return model.range
    budget = model.tx_power - model.sensitivity - model.reference_loss
    return float(10.0 ** (budget / (10.0 * model.exponent)))


def wireless_links(positions: np.ndarray, model: WirelessSpec) -> list[tuple[int, int]]:
    """Undirected node pairs ``u < v`` within radio range of each other."""
    diff = positions[:, None, :] - positions[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    reach = radio_range(model)
    u, v = np.nonzero(np.triu(dist <= reach, k=1))
    return list(zip(u.tolist(), v.tolist(), strict=True))


def link_weight(distance: np.ndarray | float) -> np.ndarray:
    """GLANCE's wireless link weight ``1 / log(1 + d²)`` for the twin's topology convolution."""
    d = np.asarray(distance, dtype=float)
    return 1.0 / np.log1p(d**2)
