"""The queueing-theory baseline: M/M/1/b closed forms and the network fixed-point model built on them."""

from nettwin.sim.analytic.mm1b import (
    mm1b_blocking,
    mm1b_mean_system,
    mm1b_mean_waiting,
    mm1b_sojourn_mean,
    mm1b_sojourn_var,
    mm1b_state_probs,
    mm1b_utilisation,
)
from nettwin.sim.analytic.model import Estimates, FixedPoint, QueueingModel, estimates, limitation

__all__ = [
    "Estimates",
    "FixedPoint",
    "QueueingModel",
    "estimates",
    "limitation",
    "mm1b_blocking",
    "mm1b_mean_system",
    "mm1b_mean_waiting",
    "mm1b_sojourn_mean",
    "mm1b_sojourn_var",
    "mm1b_state_probs",
    "mm1b_utilisation",
]
