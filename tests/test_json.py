"""The JSON nettwin writes for users is standard: missing values are ``null``, numpy values plain numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nettwin._json import dumps, plain, write_json


def test_non_finite_floats_become_null_at_any_depth():
    data = {"a": float("nan"), "b": [1.5, float("inf"), {"c": -float("inf")}], "d": (np.float64("nan"), 2)}
    assert plain(data) == {"a": None, "b": [1.5, None, {"c": None}], "d": [None, 2]}
    assert "NaN" not in dumps(data) and "Infinity" not in dumps(data)


def test_numpy_values_become_python_numbers_and_lists():
    data = {np.int64(3): np.array([[1.0, np.nan]]), "n": np.int32(7), "f": np.float32(0.5), "b": np.bool_(True)}
    text = dumps(data)
    assert json.loads(text) == {"3": [[1.0, None]], "n": 7, "f": 0.5, "b": True}


def test_paths_are_written_as_text():
    assert plain({"checkpoint": Path("m.pt")}) == {"checkpoint": "m.pt"}


def test_an_object_json_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="cannot write object as JSON"):
        dumps({"x": object()})


def test_write_json_is_standard_and_ends_with_a_newline(tmp_path):
    path = tmp_path / "out" / "r.json"
    write_json(path, {"x": float("nan")})
    text = path.read_text()
    assert text.endswith("\n") and json.loads(text) == {"x": None}


def test_dataset_manifests_are_standard_json(tmp_path):
    from nettwin.data.storage import MANIFEST, write_manifest

    write_manifest(tmp_path, {"kpi_iqr": {"delay": np.float64("nan"), "drops": np.int64(2)}})

    def refuse(constant: str) -> None:
        raise AssertionError(f"bare {constant} in a manifest")

    assert json.loads((tmp_path / MANIFEST).read_text(), parse_constant=refuse) == {
        "kpi_iqr": {"delay": None, "drops": 2}
    }
