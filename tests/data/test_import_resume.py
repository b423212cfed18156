"""Interrupted imports go on where they stopped: the result is the uninterrupted import's, and only the samples
after the last complete shard are read again."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import _datanet as dn
import pytest
from _processes import wait_until

from nettwin.data import Dataset, import_dataset

pytestmark = pytest.mark.filterwarnings("ignore::nettwin.data.importers.ExcludedSamplesWarning")

COLUMNS = ("sample_id", "split", "scenario", "delay", "delay_std", "drops", "meta")


def _rows(path: Path) -> dict[str, list]:
    table = Dataset(path).table()
    return {c: table[c].to_pylist() for c in COLUMNS}


def _same_dataset(a: Path, b: Path) -> None:
    assert json.dumps(_rows(a)) == json.dumps(_rows(b))  # NaN compares equal as text
    ma, mb = Dataset(a).manifest, Dataset(b).manifest
    for key in ("samples", "split_sizes", "kpis", "kpi_stats", "source"):
        assert ma[key] == mb[key], key


def _staged(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.*.importing"))


def _tree(tmp_path: Path, samples: int = 9) -> Path:
    # an unstable sample in the middle: left-out samples are remembered across the interruption too
    root = tmp_path / "tree"
    dn.synthetic(root / "data", samples, nodes=4, per_archive=4, unstable=frozenset({2}))
    return root


class Stop(KeyboardInterrupt):
    """What Ctrl-C raises, at a chosen moment."""


def test_ctrl_c_keeps_the_complete_shards_and_the_next_run_goes_on(tmp_path: Path) -> None:
    source = _tree(tmp_path)
    import_dataset("datanet", source, tmp_path / "clean", shard_size=2)
    out = tmp_path / "ds"

    def stop_after_six(done: int, total: int | None) -> None:
        if done == 6:
            raise Stop

    with pytest.raises(Stop):
        import_dataset("datanet", source, out, shard_size=2, progress=stop_after_six)
    assert not out.exists() and len(_staged(out)) == 1
    seen: list[int] = []
    res = import_dataset("datanet", source, out, shard_size=2, progress=lambda done, total: seen.append(done))
    # two complete shards kept (4 samples; the unstable third was left out before them): the progress bar starts
    # at 5 read, and the sample not yet in a shard when Ctrl-C came is read again
    assert seen[0] == 5
    assert res["samples"] == 8 and res["excluded"] == 1 and not _staged(out)
    _same_dataset(out, tmp_path / "clean")


def test_a_changed_source_or_other_options_start_afresh(tmp_path: Path) -> None:
    source = _tree(tmp_path)
    out = tmp_path / "ds"

    def stop(done: int, total: int | None) -> None:
        if done == 5:
            raise Stop

    for change in ("source", "seed"):
        with pytest.raises(Stop):
            import_dataset("datanet", source, out, shard_size=2, progress=stop)
        if change == "source":
            archive = sorted(source.rglob("*.tar.gz"))[-1]
            archive.write_bytes(archive.read_bytes())  # same bytes, a new modification time: not the same input
        first: list[int] = []
        seed = 1 if change == "seed" else 0
        import_dataset("datanet", source, out, shard_size=2, seed=seed, progress=lambda d, t, f=first: f.append(d))
        assert first[0] == 0, change
        assert not _staged(out)
        shutil.rmtree(out)


def test_a_failing_import_keeps_nothing(tmp_path: Path) -> None:
    source = _tree(tmp_path)
    archive = sorted(source.rglob("*.tar.gz"))[-1]
    archive.write_bytes(b"broken")
    with pytest.raises(Exception, match="not a readable"):
        import_dataset("datanet", source, tmp_path / "ds", shard_size=2)
    assert not _staged(tmp_path / "ds") and not (tmp_path / "ds").exists()


def test_a_killed_import_resumes_from_its_last_shard(tmp_path: Path) -> None:
    source = tmp_path / "tree"
    dn.synthetic(source / "data", 120, nodes=12, per_archive=40)
    out = tmp_path / "ds"
    code = "import sys; from nettwin.cli.app import main; sys.argv = ['nettwin', *sys.argv[1:]]; main()"
    args = ["dataset", "import", "datanet", str(source), "--out", str(out), "--shard-size", "8"]
    with open(tmp_path / "first.err", "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL, stderr=err)

    def recorded_shards() -> int:
        for stage in _staged(out):
            try:
                return len(json.loads((stage / "progress.json").read_text())["shards"])
            except (OSError, ValueError, KeyError):
                pass
        return 0

    wait_until(lambda: recorded_shards() >= 2 or proc.poll() is not None, "two recorded shards", interval=0.005)
    assert proc.poll() is None, "the import ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and len(_staged(out)) == 1
    done = subprocess.run([sys.executable, "-c", code, *args, "--format", "json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["samples"] == 120 and not _staged(out)
    import_dataset("datanet", source, tmp_path / "clean", shard_size=8)
    _same_dataset(out, tmp_path / "clean")
