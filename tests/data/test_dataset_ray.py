"""The Ray executor on a local Ray instance gives the same dataset as the local process pool."""

from __future__ import annotations

import pytest
from _datasets import assert_same_rows, tiny_spec

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
