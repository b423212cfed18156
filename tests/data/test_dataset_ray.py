"""The Ray executor on a local Ray instance gives the same dataset as the local process pool."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from _datasets import assert_same_rows, generate_or_fail_after, tiny_spec

from nettwin.data import Dataset, RayExecutor, generate_dataset

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_matches_local(tiny_dataset, tmp_path):
    # The executor starts a local instance (ray.init(num_cpus=2, include_dashboard=False)) and stops it again.
    summary = generate_dataset(tiny_spec(), tmp_path / "ray", workers=2, executor="ray")
    assert not ray.is_initialized()
    assert summary["ok"] == 10 and summary["status"] == "complete"
    assert_same_rows(Dataset(tmp_path / "ray").table(), Dataset(tiny_dataset[0]).table())


def test_ray_executor_repr():
    assert repr(RayExecutor(3, address="auto")) == "RayExecutor(workers=3, address='auto')"


@pytest.mark.slow
def test_ray_records_a_sample_past_its_timeout(tmp_path, monkeypatch):
    import _faulty_engine  # noqa: F401  (registers engine "hanging" here too)

    # Ray workers import the engine module by name: they find it through the environment they inherit.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(_faulty_engine.__file__).parent), *sys.path]))
    summary = generate_or_fail_after(
        900,
        tiny_spec(engine="hanging", samples=4),
        tmp_path / "ds",
        workers=2,
        executor="ray",
        imports=["_faulty_engine"],
        sample_timeout=5,
    )
    assert not ray.is_initialized()
    failed = dict(Dataset(tmp_path / "ds").failed)
    assert list(failed) == [2] and failed[2].startswith("took longer than the sample timeout (5.00 s), twice")
    assert summary["ok"] == 3
