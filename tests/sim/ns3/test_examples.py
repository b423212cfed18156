"""Every ns-3 example file is valid: scenarios resolve, dataset specs parse and draw samples (no ns-3 needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nettwin.data import draw_scenario, load_dataset_spec
from nettwin.scenario import build_network, load_scenario
from nettwin.scenario.io import read_mapping

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "ns3"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_is_valid(path: Path):
    if "base" in read_mapping(path):  # a dataset spec
        spec = load_dataset_spec(path)
        assert spec.engine_name == "ns3"
        scenario = draw_scenario(spec, 0)
    else:
        scenario = load_scenario(path)
    assert build_network(scenario, base_dir=path.parent).n_flows > 0
