"""The QoS example: three classes share NSFNET links under strict priority and DRR ports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).parents[2] / "examples" / "qos.yaml"


def test_the_qos_example_serves_its_classes_in_priority_order(run_main: Any) -> None:
    res = run_main("simulate", str(EXAMPLE), "--format", "json")
    assert res.code == 0, res.stderr
    flows = json.loads(res.stdout)["runs"][0]["flows"]
    # flows 0, 2 and 4 go 0→13 over the same ports, in classes 0, 1 and 2: each waits behind the classes above it
    delay = [f["delay"] for f in flows]
    drop_rate = [f["drop_rate"] for f in flows]
    assert delay[0] < delay[2] < delay[4]
    assert drop_rate[0] == drop_rate[2] == 0.0 < drop_rate[4]
