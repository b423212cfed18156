"""The multipath example: ECMP and an explicit 80/20 split on a grid, simulated and compared with queueing theory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "multipath.yaml"


def test_the_multipath_example_sends_each_share_down_its_path(run_main: Any) -> None:
    res = run_main("simulate", str(EXAMPLE), "--vs", "analytic", "--format", "json")
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    run0 = data["runs"][0]
    flows, routes = run0["flows"], run0["routes"]
    assert [sum(r["flow"] == f for r in routes) for f in range(3)] == [20, 2, 20]
    for f, flow in enumerate(flows):
        mine = [r for r in routes if r["flow"] == f]
        assert sum(r["tx_packets"] for r in mine) == flow["tx_packets"]
        assert abs(sum(r["share"] for r in mine) - 1) < 1e-12
        tx = np.array([r["tx_packets"] for r in mine], dtype=float)
        share = np.array([r["share"] for r in mine])
        # Each packet picks its path by the shares: binomial counts, five standard errors.
        n = tx.sum()
        assert np.all(np.abs(tx / n - share) <= 5 * np.sqrt(share * (1 - share) / n))
    # The stated split keeps its paths in the order given: 80 % over the top row, 20 % through the middle.
    top, middle = (r for r in routes if r["flow"] == 1)
    assert (top["share"], len(top["path"])) == (0.8, 4)
    assert (middle["share"], len(middle["path"])) == (0.2, 6)
    # Queueing theory takes each path with its share of the flow: nothing is lost at these loads, so each flow's
    # throughput is its offered rate, which the simulated one matches within its Poisson noise.
    offered = [8e6, 4e6, 4e6]
    for ours, theirs, rate in zip(flows, data["vs"]["flows"], offered, strict=True):
        assert theirs["throughput"] == pytest.approx(rate, rel=1e-6)
        assert abs(ours["throughput"] - rate) / rate < 0.05


def test_the_multipath_example_prints_the_paths_of_split_flows(run_main: Any) -> None:
    res = run_main("simulate", str(EXAMPLE))
    assert res.code == 0, res.stderr
    assert "paths of the flows that split" in res.stdout
    assert "20 paths" in res.stdout and "2 paths" in res.stdout
