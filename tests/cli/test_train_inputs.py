"""`nettwin train --inputs scale-free --relative-delay`: the scale-free feature columns and relative delay targets
reach the twin and its checkpoint; queueing theory refuses them in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_kpi_defaults import _dataset

from nettwin.twin import load_twin, scale_free_options

QUICK = ["--epochs", "1", "--quiet", "--option", "T=1"]


def test_scale_free_inputs_and_relative_delay_reach_the_checkpoint(tmp_path: Path, run_main: Any) -> None:
    data = _dataset(tmp_path / "ds", ("delay", "drops"))
    ckpt = tmp_path / "twin.pt"
    res = run_main("train", str(data), *QUICK, "--inputs", "scale-free", "--relative-delay", "--out", str(ckpt))
    assert res.code == 0, res.stderr
    twin = load_twin(ckpt)
    assert twin.relative_delay is True
    assert all(twin.options[k] == v for k, v in scale_free_options("glance").items())
    plain = tmp_path / "plain.pt"
    assert run_main("train", str(data), *QUICK, "--out", str(plain)).code == 0
    assert load_twin(plain).relative_delay is False


def test_queueing_theory_refuses_feature_options(tmp_path: Path, run_main: Any) -> None:
    data = _dataset(tmp_path / "ds", ("delay", "drops"))
    res = run_main("train", str(data), "--model", "qt", "--relative-delay", "--out", str(tmp_path / "qt.pt"))
    assert res.code != 0
    assert (
        res.stderr.strip().splitlines()[-1]
        == "error: --inputs and --relative-delay apply to learned twins; queueing theory reads "
        "no features"
    )
