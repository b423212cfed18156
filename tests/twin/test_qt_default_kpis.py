"""The queueing-theory twin takes its default KPIs from the data, as the learned twins do: a dataset without jitter
gives delay, throughput and drops; nothing to fit on gives all four defaults; named KPIs the data lacks stay one
error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nettwin.data import Dataset, DatasetWriter
from nettwin.errors import DatasetError, TwinError
from nettwin.twin import load_twin
from nettwin.twin.qt import QueueingTwin

HELD = ("delay", "throughput", "drops")
SCENARIO = {
    "name": "line",
    "topology": {
        "nodes": ["a", "b", "c"],
        "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}, {"src": "b", "dst": "c", "capacity": "2Mbps"}],
    },
    "flows": [{"src": "a", "dst": "c", "traffic": {"model": "poisson", "rate": "100kbps"}}],
}
VALUES = {"delay": 0.004, "throughput": 1e5, "drops": 1.0}


@pytest.fixture(scope="module")
def no_jitter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qt") / "no_jitter"
    with DatasetWriter(out) as w:
        for i in range(4):
            w.add(SCENARIO, {k: [[v * (1 + 0.1 * i)]] for k, v in VALUES.items()}, split="train" if i < 3 else "test")
    return out


def test_fitting_on_a_dataset_without_jitter_reports_the_default_kpis_it_holds(no_jitter, tmp_path):
    ds = Dataset(no_jitter)
    twin = QueueingTwin().fit(ds)
    assert twin.kpis_ == list(HELD) and set(twin.iqr_) == set(HELD)
    assert set(twin.predict(next(iter(ds.samples("test"))))) == set(HELD)
    twin.save(tmp_path / "qt.pt")
    back = load_twin(tmp_path / "qt.pt")
    assert back.kpis_ == list(HELD) and back.get_params() == {"kpis": None}


def test_fitting_on_pairs_takes_the_default_kpis_they_all_hold(no_jitter):
    pairs = [(s, s.kpis(0)) for s in Dataset(no_jitter).samples("train")]
    assert QueueingTwin().fit(pairs).kpis_ == list(HELD)
    assert QueueingTwin().fit([]).kpis_ == ["delay", "jitter", "throughput", "drops"]


def test_named_kpis_the_data_lacks_stay_one_error_line(no_jitter):
    with pytest.raises(DatasetError, match=r"has no 'jitter'"):
        QueueingTwin(["delay", "jitter"]).fit(Dataset(no_jitter))
    pairs = [(s, s.kpis(0)) for s in Dataset(no_jitter).samples("train")]
    with pytest.raises(TwinError, match=r"^QueueingTwin.fit: the training data has no 'jitter'; it holds delay"):
        QueueingTwin(["jitter"]).fit(pairs)
