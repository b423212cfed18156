"""Fixtures for the data tests: one tiny dataset generated per module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _datasets import tiny_spec

from nettwin.data import Dataset, generate_dataset


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The tiny spec generated once per module with one worker; returns (directory, summary)."""
    out = tmp_path_factory.mktemp("tiny") / "ds"
    summary = generate_dataset(tiny_spec(), out, workers=1)
    return out, summary


@pytest.fixture
def loaded(tiny_dataset: tuple[Path, dict[str, Any]]) -> Dataset:
    return Dataset(tiny_dataset[0])
