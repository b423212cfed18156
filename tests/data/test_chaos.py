"""Chaos: a real ``nettwin dataset generate`` killed (SIGKILL) or interrupted (Ctrl-C) at many moments still ends,
once rerun, with exactly the rows of a clean run, and no process of a killed run lives on.

The kill moments are random but seeded; each is an observable state of the run (the manifest, a worker, a number
of shards), never a fixed sleep. ``pytest -s`` shows the counts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from _datasets import TINY_BASE, assert_same_rows, tiny_spec
from _processes import alive, command_line, descendants, session, wait_until

from nettwin.data import Dataset, generate_dataset

pytestmark = pytest.mark.slow

SEED = 20250611
SAMPLES = 80


def _spec() -> dict:
    base = {**TINY_BASE, "simulation": {"engine": "builtin", "duration": "150s"}}
    return tiny_spec(base=base, samples=SAMPLES, shard_size=2)


def _start(spec_path: Path, out: Path) -> subprocess.Popen:
    """``nettwin dataset generate`` in a session of its own, with Ctrl-C handled as in a terminal. Its output goes
    to files beside ``out`` (``proc.logs``): a pipe would keep a reader waiting for as long as any orphan holds it."""
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from nettwin.cli.app import main; sys.argv = ['nettwin', *sys.argv[1:]]; main()"
    )
    args = ["dataset", "generate", str(spec_path), "--out", str(out), "--workers", "2", "--format", "json"]
    logs = out.parent / f"run-{len(list(out.parent.glob('run-*.out')))}"
    with open(f"{logs}.out", "w") as stdout, open(f"{logs}.err", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=stdout, stderr=stderr, start_new_session=True
        )
    proc.logs = logs  # type: ignore[attr-defined]
    return proc


def _output(proc: subprocess.Popen) -> tuple[str, str]:
    """What a finished run wrote: (stdout, stderr)."""
    logs = proc.logs  # type: ignore[attr-defined]
    return Path(f"{logs}.out").read_text(), Path(f"{logs}.err").read_text()


def _shards(out: Path) -> int:
    return len(list((out / "shards").glob("part-*.parquet")))


def _has_worker(proc: subprocess.Popen) -> bool:
    return any("multiprocessing.forkserver" in command_line(p) for p in descendants(proc.pid))


def _end(proc: subprocess.Popen, how: int) -> tuple[int, str]:
    """Send ``how`` to the run (SIGKILL: to the driver alone; SIGINT: to its process group, as a terminal does),
    wait for it, then for every process it started to end. Returns how many processes that was, and its stderr."""
    children = descendants(proc.pid)
    if how == signal.SIGKILL:
        proc.kill()
    else:
        os.killpg(proc.pid, how)
    proc.wait()

    def survivors() -> set[int]:
        return {p for p in children if alive(p)} | session(proc.pid)

    wait_until(lambda: not survivors(), f"the processes of run {proc.pid} to end ({sorted(survivors())} live on)")
    return len(children), _output(proc)[1]


def test_killed_again_and_again_the_dataset_ends_as_a_clean_run(tmp_path):
    rng = random.Random(SEED)
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(_spec()))
    out = tmp_path / "chaos"
    # What a run killed while writing its first manifest leaves behind.
    out.mkdir()
    (out / ".lock").touch()
    (out / ".manifest.json.4242.0badcafe.tmp").write_text('{"format": "nettwin-da')

    def first_manifest_write(proc: subprocess.Popen) -> bool:
        # Polled tightly: the moment the first manifest's temporary file (or, missed, the manifest) shows up.
        return (
            any(p.name.startswith(f".manifest.json.{proc.pid}.") for p in out.iterdir())
            or (out / "manifest.json").exists()
        )

    moments = [
        ("right after start", lambda proc: True),
        ("during the first manifest write", first_manifest_write),
        ("while the workers start", _has_worker),
    ]
    for _ in range(4):
        more = rng.randint(1, 4)
        moments.append((f"{more} more shards", lambda proc, n=more: _shards(out) >= proc.shards_before + n))

    kills, children, log = 0, 0, []
    for name, reached in moments:
        proc = _start(spec_path, out)
        proc.shards_before = _shards(out)  # type: ignore[attr-defined]
        wait_until(lambda: reached(proc) or proc.poll() is not None, f"the moment '{name}'", interval=0.001)  # noqa: B023
        assert proc.poll() is None, f"the run ended before the moment '{name}'"
        if name.endswith("more shards"):
            time.sleep(rng.uniform(0, 0.1))  # somewhere in the next shard's samples, or in writing it
        seen = sorted(p.name for p in out.iterdir() if p.name.endswith((".json", ".tmp")))
        children += _end(proc, signal.SIGKILL)[0]
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        log.append(f"{name}: {_shards(out)} shards, {', '.join(seen) or 'no manifest'}")

    proc = _start(spec_path, out)
    proc.wait()
    stdout, stderr = _output(proc)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["status"] == "complete" and summary["samples"] == SAMPLES

    generate_dataset(_spec(), tmp_path / "clean", workers=2)
    resumed, clean = Dataset(out).table(), Dataset(tmp_path / "clean").table()
    ids = resumed["sample_id"].to_pylist()
    lost = len(set(range(SAMPLES)) - set(ids))
    duplicated = len(ids) - len(set(ids))
    assert lost == 0 and duplicated == 0
    assert_same_rows(resumed, clean)
    assert not [p.name for p in out.rglob("*.tmp")]
    print(
        f"\nchaos (seed {SEED}): {kills} kills survived ({'; '.join(log)}), rows lost {lost}, duplicated "
        f"{duplicated}, orphans 0 of {children} child processes of killed runs"
    )


@pytest.mark.parametrize("moment", ["workers starting", "shards written"])
def test_ctrl_c_stops_a_run_quietly_and_leaves_it_resumable(tmp_path, moment):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(_spec()))
    out = tmp_path / "ds"
    proc = _start(spec_path, out)
    reached = _has_worker if moment == "workers starting" else (lambda proc: _shards(out) >= 2)
    wait_until(lambda: reached(proc) or proc.poll() is not None, f"the moment '{moment}'")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    _, stderr = _end(proc, signal.SIGINT)
    assert proc.returncode != 0 and "Traceback" not in stderr, stderr
    rerun = _start(spec_path, out)
    rerun.wait()
    stdout, stderr = _output(rerun)
    assert rerun.returncode == 0, stderr
    assert json.loads(stdout)["status"] == "complete" and len(Dataset(out)) == SAMPLES
