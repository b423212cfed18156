"""Start-up time of the ``nettwin`` command line.

Runs each command line ``--runs`` times in a fresh process (after one unmeasured warm-up run, so the page cache and
numba's on-disk cache are warm, as they are for a user's second command) and prints the mean, standard deviation
and minimum of the wall time, then the modules that took longest to import for ``--help`` (``python -X importtime``).

Usage::

    .venv/bin/python benchmarks/cli_startup.py [--runs 10] [--scenario examples/nsfnet.yaml]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(*args: str) -> list[str]:
    """The console script next to this interpreter, as a user runs it; ``python -m nettwin`` where there is none."""
    script = Path(sys.executable).with_name("nettwin")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "nettwin", *args]


def wall_times(argv: list[str], runs: int) -> list[float]:
    subprocess.run(argv, capture_output=True, check=False, cwd=ROOT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def slowest_imports(argv: list[str], top: int) -> list[tuple[float, str]]:
    """The ``top`` top-level imports with the largest cumulative time, in seconds."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    if argv[0] != sys.executable:
        argv = [sys.executable, "-m", "nettwin", *argv[1:]]
    err = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT, env=env).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        # Nested imports are indented under the one that caused them.
        if cumulative.strip().isdigit() and not name.startswith("  "):
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--scenario", default="examples/nsfnet.yaml")
    parser.add_argument("--top", type=int, default=8, help="Slowest top-level imports to list.")
    args = parser.parse_args()

    cases = {
        "nettwin --help": command("--help"),
        "nettwin --version": command("--version"),
        "nettwin simulate (argument error)": command("simulate"),
        "nettwin dataset generate --help": command("dataset", "generate", "--help"),
        f"nettwin simulate {args.scenario}": command("simulate", args.scenario),
    }
    print(f"wall time over {args.runs} runs (after one warm-up run)")
    print(f"{'command':<44} {'mean':>8} {'sd':>8} {'min':>8}")
    for name, argv in cases.items():
        t = wall_times(argv, args.runs)
        sd = statistics.stdev(t) if len(t) > 1 else 0.0
        print(f"{name:<44} {statistics.mean(t):>7.3f}s {sd:>7.3f}s {min(t):>7.3f}s")
    print("\nslowest top-level imports of 'nettwin --help' (cumulative)")
    for seconds, name in slowest_imports(command("--help"), args.top):
        print(f"  {seconds * 1e3:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
