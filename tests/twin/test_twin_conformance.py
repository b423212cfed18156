"""Every twin passes the conformance battery (nettwin.testing.check_twin), and the battery catches a twin that
breaks a rule."""

from __future__ import annotations

import pytest

from nettwin.testing import check_twin
from nettwin.twin import make_twin, twin_names

TWINS = twin_names()
CASES = TWINS + [f"{name}+probabilistic" for name in TWINS if name != "qt"]
"""Every twin, and every learnable one again with probabilistic heads (Normal, and binomial for drops)."""

SMALL = {"glance": {}, "routenet": {"T": 2}, "routenet_fermi": {"T": 2}, "gnn": {"hidden": 16}}
"""Model options that keep each battery to seconds (with one epoch)."""


def _make(case: str):
    name, _, variant = case.partition("+")
    if name == "qt":
        return make_twin("qt")
    return make_twin(name, epochs=1, batch_size=3, options=SMALL[name], probabilistic=variant == "probabilistic")


def test_every_registered_model_is_in_the_battery():
    assert set(TWINS) == {"glance", "routenet", "routenet_fermi", "gnn", "qt"}


@pytest.mark.parametrize("case", CASES)
def test_every_twin_passes_the_battery(case):
    check_twin(lambda: _make(case))


QueueingTwin = type(make_twin("qt"))


class StoresMore(QueueingTwin):
    def __init__(self, kpis=None) -> None:
        super().__init__(kpis)
        self.cache = {}


class ReturnsNothing(QueueingTwin):
    def fit(self, *args, **kwargs):
        super().fit(*args, **kwargs)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (StoresMore, r"StoresMore 'QT': __init__ only stores its arguments: it also sets cache$"),
        (ReturnsNothing, r"ReturnsNothing 'QT': fit returns self: it returned NoneType$"),
    ],
)
def test_the_battery_names_the_twin_and_the_rule_it_breaks(make, message):
    with pytest.raises(AssertionError, match=message):
        check_twin(make)
