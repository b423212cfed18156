"""``nettwin dataset info`` says where an imported dataset came from with what its manifest records, and no more:
a dataset written from Python names no path, so none is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nettwin.data import DatasetWriter

SCENARIO = {
    "name": "s",
    "topology": {"nodes": ["a", "b"], "links": [{"src": "a", "dst": "b", "capacity": "1Mbps"}]},
    "flows": [{"src": "a", "dst": "b", "traffic": {"model": "cbr", "rate": "100kbps"}}],
}


def _write(out: Path, source: dict[str, Any] | None) -> Path:
    with DatasetWriter(out, source=source) as w:
        w.add(SCENARIO, {"delay": [[0.004]]})
    return out


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (None, "imported (python),"),
        ({"format": "ns3-runs"}, "imported (ns3-runs),"),
        ({"format": "table", "path": "/data/runs.parquet"}, "imported from table /data/runs.parquet,"),
        ({"path": "/data/runs"}, "imported from /data/runs,"),
        ({"note": "measured in the lab"}, "imported,"),
    ],
)
def test_info_names_the_source_with_only_what_it_records(run_main, tmp_path, source, line):
    result = run_main("dataset", "info", str(_write(tmp_path / "d", source)))
    assert result.code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert line in first and "None" not in first
