"""What a dataset holds: sample counts per split and status, KPI distributions and how loaded its links are."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nettwin.data import storage
from nettwin.data.spec import SPLITS
from nettwin.metrics import describe
from nettwin.sim.kpi import FLOW_KPIS

__all__ = ["dataset_info"]


def dataset_info(path: Path) -> dict[str, Any]:
    """Counts, KPI distributions (run 0) and busiest-link statistics of a dataset directory, JSON-ready."""
    manifest = storage.read_manifest(path)
    table = storage.read_table(
        path, manifest, ["split", "status", "error", "n_runs", "max_load", "link_utilisation", *FLOW_KPIS]
    )
    counts = Counter(zip(table["split"].to_pylist(), table["status"].to_pylist(), strict=True))
    ok = table.filter(pc.equal(table["status"], "ok"))
    runs = Counter(zip(ok["split"].to_pylist(), ok["n_runs"].to_pylist(), strict=True))
    splits = {
        s: {
            "ok": counts[(s, "ok")],
            "failed": counts[(s, "failed")],
            "runs": sorted({n for (sp, n) in runs if sp == s}),
        }
        for s in SPLITS
    }
    held = [k for k in FLOW_KPIS if k in manifest.get("kpis", FLOW_KPIS)]  # an imported dataset may lack some
    kpis = {k: describe(storage.flow_values(ok[k], 0)) for k in held}
    for k in held:
        kpis[k]["unit"] = FLOW_KPIS[k]
        kpis[k]["train_iqr"] = (manifest.get("kpi_iqr") or {}).get(k)
    busiest = _busiest(ok)
    load = np.asarray(ok["max_load"].to_numpy(zero_copy_only=False), dtype=float) if ok.num_rows else np.empty(0)
    errors = Counter(e for e in table.filter(pc.equal(table["status"], "failed"))["error"].to_pylist())
    return {
        "path": str(path),
        "name": manifest.get("name"),
        "status": manifest.get("status"),
        "engine": manifest.get("engine"),
        "seed": manifest.get("seed"),
        "samples": manifest.get("samples"),
        "stored": table.num_rows,
        "ok": ok.num_rows,
        "failed": table.num_rows - ok.num_rows,
        "splits": splits,
        "kpis": kpis,
        "busiest_link_utilisation": describe(busiest),
        "busiest_link_offered_load": {
            **describe(load),
            "share_above_1": float(np.mean(load > 1.0)) if len(load) else None,
        },
        "errors": [{"error": e, "samples": n} for e, n in errors.most_common(10)],
        "created": manifest.get("created"),
        "updated": manifest.get("updated"),
        "spec_hash": manifest.get("spec_hash"),
        "source": manifest.get("source"),
    }


def _busiest(ok: pa.Table) -> np.ndarray:
    """Largest run-0 link utilisation of each ok sample."""
    if ok.num_rows == 0:
        return np.empty(0)
    per_run = pc.list_element(ok["link_utilisation"], 0).to_pylist()
    return np.array([max(v) if v else np.nan for v in per_run], dtype=float)
