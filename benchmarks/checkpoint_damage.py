"""Damaged checkpoints: flip single bytes of a real twin checkpoint and of a real TE solver checkpoint, load each
damaged copy and count what happens.

Every damaged copy must be refused with a clear error (``is damaged``, or another one-line nettwin error), or load
and give exactly the original's answers (a byte that holds nothing, e.g. zip padding). A damaged copy that loads and
answers differently, or a traceback, is a defect; the script exits 1 if it sees one.

Usage::

    .venv/bin/python benchmarks/checkpoint_damage.py [--every 7] [--out DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nettwin.errors import NettwinError

ROOT = Path(__file__).resolve().parents[1]


def twin_case(folder: Path) -> tuple[Path, Callable[[Path], Any]]:
    """A GLANCE twin fitted briefly on simulated NSFNET samples, and how to ask it for answers."""
    from nettwin.scenario import load_scenario
    from nettwin.sim import as_network, simulate
    from nettwin.twin import Twin, load_twin

    base = load_scenario(ROOT / "examples" / "nsfnet.yaml")
    pairs = []
    for seed in range(4):
        scenario = base.model_copy(update={"simulation": base.simulation.model_copy(update={"seed": seed})})
        [result] = simulate(scenario)
        network = as_network(scenario)
        pairs.append((network, {k: result.kpi(k) for k in ("delay", "jitter", "throughput", "drops")}))
    path = folder / "glance.pt"
    Twin("glance", epochs=2, seed=0).fit(pairs).save(path)
    network = pairs[0][0]
    return path, lambda p: load_twin(p).predict(network)


def te_case(folder: Path) -> tuple[Path, Callable[[Path], Any]]:
    """A Geminet-style TE solver trained briefly on Abilene, and how to ask it for split ratios."""
    from nettwin.te.checkpoint import load_solver, save_solver
    from nettwin.te.geminet import GeminetSolver
    from nettwin.te.suite import make_instances

    instances = make_instances("sndlib/abilene", 4, seed=0)
    path = save_solver(GeminetSolver(hidden=8, steps=1, train_steps=4).fit(instances[:3]), folder / "geminet.pt")
    return path, lambda p: {"split": load_solver(p).solve(instances[3])}


def same(a: Any, b: Any) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def flip_all(path: Path, answer: Callable[[Path], Any], every: int) -> collections.Counter:
    raw = path.read_bytes()
    reference = answer(path)
    damaged = path.with_name("damaged-" + path.name)
    out: collections.Counter = collections.Counter()
    for at in range(0, len(raw), every):
        data = bytearray(raw)
        data[at] ^= 0xFF
        damaged.write_bytes(bytes(data))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = answer(damaged)
            out["loads, same answers" if same(result, reference) else "loads, DIFFERENT answers"] += 1
        except NettwinError as err:
            out["refused: damaged" if "is damaged" in str(err) else "refused: other one-line error"] += 1
            if len(str(err).splitlines()) != 1:
                out["error of several lines"] += 1
        except Exception as err:  # noqa: BLE001 - counting what escapes is the point
            out[f"TRACEBACK {type(err).__name__}"] += 1
    out["flips"] = len(range(0, len(raw), every))
    out["bytes"] = len(raw)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=7, help="flip every N-th byte (1: all of them)")
    parser.add_argument("--out", type=Path, default=None, help="also write the counts as JSON here")
    args = parser.parse_args()
    from nettwin.cli.output import print_table

    with tempfile.TemporaryDirectory() as tmp:
        counts = {name: flip_all(*case(Path(tmp)), args.every) for name, case in (("twin", twin_case), ("te", te_case))}
    keys = sorted({k for c in counts.values() for k in c if k not in ("flips", "bytes")})
    rows = [[name, c["bytes"], c["flips"], *(c[k] for k in keys)] for name, c in counts.items()]
    print_table("single-byte flips of checkpoints", ["checkpoint", "bytes", "flips", *keys], rows)
    if args.out:
        args.out.write_text(json.dumps({n: dict(c) for n, c in counts.items()}, indent=1) + "\n")
    defects = ("DIFFERENT", "TRACEBACK", "several")
    return 1 if any(word in k and v for c in counts.values() for k, v in c.items() for word in defects) else 0


if __name__ == "__main__":
    raise SystemExit(main())
