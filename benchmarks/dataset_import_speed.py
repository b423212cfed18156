"""How fast the table layout imports and exports: N NSFNET samples (10 on/off flows, 4 KPIs, 2 runs) written with
DatasetWriter, then exported to and imported from each file type (Parquet, CSV, JSONL).

Prints, per file type, the export and import wall time, the import rate and the file size.

    python benchmarks/dataset_import_speed.py --samples 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nettwin.data import DatasetWriter, export_dataset, import_dataset

PAIRS = [(0, 12), (3, 9), (7, 2), (1, 10), (4, 13), (5, 0), (6, 11), (8, 3), (2, 7), (9, 4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples (default 1000)")
    args = parser.parse_args()
    traffic = {"model": "onoff", "rate": "50kbps", "packet_size": 210, "tau_on": 1, "tau_off": 1}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        with DatasetWriter(root / "written") as w:
            for i in range(args.samples):
                flows = [{"src": s, "dst": d, "traffic": {**traffic, "rate": 40e3 + i}} for s, d in PAIRS]
                values = [[0.01 + 1e-6 * (i + f + r) for f in range(len(PAIRS))] for r in range(2)]
                w.add(
                    {"topology": {"builtin": "nsfnet", "defaults": {"capacity": "100kbps"}}, "flows": flows},
                    {k: values for k in ("delay", "jitter", "throughput", "drops")},
                )
        print(f"DatasetWriter: {args.samples} samples in {time.perf_counter() - t0:.2f} s")
        for suffix in (".parquet", ".csv", ".jsonl"):
            table = root / f"table{suffix}"
            t0 = time.perf_counter()
            export_dataset(root / "written", table)
            exported = time.perf_counter() - t0
            summary = import_dataset("table", table, root / f"imported{suffix}")
            print(
                f"{suffix[1:]:8s} export {exported:5.2f} s  import {summary['wall_seconds']:5.2f} s "
                f"({summary['samples_per_second']:.0f} samples/s)  file {table.stat().st_size / 2**20:.1f} MiB"
            )


if __name__ == "__main__":
    main()
