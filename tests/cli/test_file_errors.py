"""Files a command cannot write: refused before any work where that can be known, one ``error:`` line otherwise."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import nettwin._files
from nettwin.cli import guard

as_root = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "{scenario}", "--out", "{dir}"),
        ("te", "solve", "--out", "{dir}"),
        ("te", "evaluate", "--plot", "{dir}"),
        ("predict", "model.pt", "{scenario}", "--out", "{dir}"),
        ("train", "dataset", "--out", "{dir}"),
    ],
)
def test_a_directory_given_for_a_file_is_refused_before_any_work(run_main, tiny_scenario, tmp_path, args):
    folder = tmp_path / "results"
    folder.mkdir()
    res = run_main(*(a.format(scenario=tiny_scenario, dir=folder) for a in args))
    assert res.code == 2
    line = one_error_line(res.stderr)
    assert "Invalid value for '--" in line and f"'{folder}' is a directory; give a file name" in line


def test_a_file_given_for_a_dataset_directory_is_refused(run_main, tiny_scenario, tmp_path):
    res = run_main("dataset", "generate", str(tiny_scenario), "--out", str(tiny_scenario))
    assert res.code == 2
    assert f"'{tiny_scenario}' is a file; give a directory" in one_error_line(res.stderr)


def test_a_file_in_the_way_of_the_parent_directory_is_refused(run_main, tiny_scenario, tmp_path):
    res = run_main("simulate", str(tiny_scenario), "--out", str(tiny_scenario / "x.json"))
    assert res.code == 2
    assert f"'{tiny_scenario}' is a file, not a directory" in one_error_line(res.stderr)


def test_missing_parent_directories_are_created(run_main, tiny_scenario, tmp_path):
    out = tmp_path / "new" / "deeper" / "res.json"
    res = run_main("simulate", str(tiny_scenario), "--out", str(out), "--format", "json")
    assert res.code == 0, res.stderr
    assert out.is_file()


@as_root
@pytest.mark.parametrize("command", ["simulate", "dataset"])
def test_a_read_only_directory_is_refused_before_any_work(run_main, tiny_scenario, tmp_path, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if command == "simulate":
            res = run_main("simulate", str(tiny_scenario), "--out", str(locked / "sub" / "x.json"))
        else:
            res = run_main("dataset", "generate", str(tiny_scenario), "--out", str(locked / "ds"))
    finally:
        locked.chmod(0o700)
    assert res.code == 2
    assert f"cannot write in '{locked}': permission denied" in one_error_line(res.stderr)


def test_a_directory_without_write_permission_is_refused_even_for_root(monkeypatch, tmp_path):
    """What ``os.access`` says of a directory the user may not write (root may write anywhere, so it is faked)."""
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(guard.typer.BadParameter, match=f"cannot write in '{tmp_path}': permission denied"):
        guard.output_file(tmp_path / "x.json")
    with pytest.raises(guard.typer.BadParameter, match=f"cannot write in '{tmp_path}': permission denied"):
        guard.output_dir(tmp_path)


def test_a_read_only_file_system_is_named_as_such(monkeypatch, tmp_path):
    """What ``os.access`` and ``statvfs`` say on a read-only mount (which root cannot write either)."""
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    monkeypatch.setattr(os, "statvfs", lambda path: os.statvfs_result((0,) * 8 + (os.ST_RDONLY, 255)))
    with pytest.raises(guard.typer.BadParameter, match=f"cannot write in '{tmp_path}': read-only file system"):
        guard.output_file(tmp_path / "x.json")
    with pytest.raises(guard.typer.BadParameter, match="read-only file system"):
        guard.output_dir(tmp_path)


def test_a_file_system_turning_read_only_while_writing_gives_one_line(run_main, tiny_scenario, tmp_path, monkeypatch):
    out = tmp_path / "res.json"

    class ReadOnlyOS:
        """``os`` as the writer sees it on a file system remounted read-only: creating a file fails."""

        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def open(path, *args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(nettwin._files, "os", ReadOnlyOS())
    res = run_main("simulate", str(tiny_scenario), "--out", str(out))
    assert res.code == 1
    # The file the user named, not the temporary file the write went through.
    assert one_error_line(res.stderr) == f"error: '{out}': {os.strerror(errno.EROFS)}"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_gives_one_line_and_stays_a_device(run_main, tiny_scenario):
    res = run_main("simulate", str(tiny_scenario), "--out", "/dev/full")
    assert res.code == 1
    assert one_error_line(res.stderr) == f"error: '/dev/full': {os.strerror(errno.ENOSPC)}"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_full_disk_during_dataset_generation_gives_one_line(tmp_path):
    """The real ``dataset generate`` in a process where every fsync reports a full disk."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "base: {topology: {builtin: nsfnet}, flows: [{src: 0, dst: 1, traffic: {model: cbr, rate: 100kbps}}],"
        " simulation: {duration: 1s}}\nsamples: 2\nseed: 1\n"
    )
    out = tmp_path / "ds"
    full_disk = (
        "import errno, os\n"
        "def fsync(fd):\n"
        "    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "os.fsync = fsync\n"
        "from nettwin.cli.app import main\n"
        "main()\n"
    )
    command = [sys.executable, "-c", full_disk, "dataset", "generate", str(spec), "--out", str(out)]
    res = subprocess.run([*command, "--engine", "analytic"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    line = one_error_line(res.stderr)
    assert line.startswith(f"error: '{out}{os.sep}") and line.endswith(f"': {os.strerror(errno.ENOSPC)}")
