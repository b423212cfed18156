"""How fast each import format reads N samples, and how fast the table layout exports.

- ``table``: N NSFNET samples (10 on/off flows, 4 KPIs, 2 runs) written with DatasetWriter, exported to and imported
  from each file type (Parquet, CSV, JSONL).
- ``datanet``: N samples of a 2021-variant tree (a ring with chords of ``--nodes`` nodes, every pair loaded: N·(N−1)
  flows), in archives of 200 samples, written as the format says (results not simulated).
- ``glance``: N samples of the GLANCE layout (a 2 × 2 Wi-Fi grid, 2 flows), the test fixture's lines repeated.

Prints, per format, the wall time, the import rate and the process's peak resident memory so far (formats run in
the order table, datanet, glance; run one ``--format`` to see its own peak).

    python benchmarks/dataset_import_speed.py --samples 1000
    python benchmarks/dataset_import_speed.py --format datanet --samples 1000 --nodes 50
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from nettwin.data import DatasetWriter, export_dataset, import_dataset

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "data"))

PAIRS = [(0, 12), (3, 9), (7, 2), (1, 10), (4, 13), (5, 0), (6, 11), (8, 3), (2, 7), (9, 4)]


def _timed_import(fmt: str, source: Path, out: Path) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = import_dataset(fmt, source, out)
    summary["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's peak so far
    return summary


def _report(label: str, summary: dict[str, Any], extra: str = "") -> None:
    print(
        f"{label:14s} {summary['samples']:6d} samples in {summary['wall_seconds']:6.2f} s "
        f"({summary['samples_per_second']:7.1f} samples/s)  peak {summary['peak_mib']:6.1f} MiB{extra}"
    )


def table(root: Path, samples: int) -> None:
    traffic = {"model": "onoff", "rate": "50kbps", "packet_size": 210, "tau_on": 1, "tau_off": 1}
    t0 = time.perf_counter()
    with DatasetWriter(root / "written") as w:
        for i in range(samples):
            flows = [{"src": s, "dst": d, "traffic": {**traffic, "rate": 40e3 + i}} for s, d in PAIRS]
            values = [[0.01 + 1e-6 * (i + f + r) for f in range(len(PAIRS))] for r in range(2)]
            w.add(
                {"topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps"}}, "flows": flows},
                {k: values for k in ("delay", "jitter", "throughput", "drops")},
            )
    print(f"DatasetWriter  {samples:6d} samples in {time.perf_counter() - t0:6.2f} s")
    for suffix in (".parquet", ".csv", ".jsonl"):
        path = root / f"table{suffix}"
        t0 = time.perf_counter()
        export_dataset(root / "written", path)
        exported = time.perf_counter() - t0
        summary = _timed_import("table", path, root / f"imported{suffix}")
        size = path.stat().st_size / 2**20
        _report(f"table {suffix[1:]}", summary, f"  (export {exported:.2f} s, file {size:.1f} MiB)")


def datanet(root: Path, samples: int, nodes: int) -> None:
    import _datanet

    t0 = time.perf_counter()
    tree = _datanet.synthetic(root / "datanet" / "train", samples, nodes=nodes)
    size = sum(p.stat().st_size for p in tree.glob("*.tar.gz")) / 2**20
    print(f"(writing the tree: {time.perf_counter() - t0:.1f} s, {size:.1f} MiB of archives)")
    summary = _timed_import("datanet", root / "datanet", root / "datanet_ds")
    _report("datanet", summary, f"  ({nodes} nodes, {nodes * (nodes - 1)} flows per sample)")


def glance(root: Path, samples: int) -> None:
    import test_import_glance as fixture

    rows = [row for split in fixture.SPLITS.values() for row in split]
    repeated = {"train": [rows[i % len(rows)] for i in range(samples)]}
    source = fixture._fixture(root / "glance", repeated)
    _report("glance", _timed_import("glance", source, root / "glance_ds"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples (default 1000)")
    parser.add_argument("--format", choices=("all", "table", "datanet", "glance"), default="all")
    parser.add_argument("--nodes", type=int, default=14, help="datanet: nodes per network (default 14, as NSFNET)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.format in ("all", "table"):
            table(root, args.samples)
        if args.format in ("all", "datanet"):
            datanet(root, args.samples, args.nodes)
        if args.format in ("all", "glance"):
            glance(root, args.samples)


if __name__ == "__main__":
    main()
