"""Atomic writes: whole files or nothing, with the permissions a plain open() would give."""

import errno
import os
import stat

import pytest

from nettwin._files import atomic_write_bytes, atomic_write_text, is_temporary, remove_temporaries


def test_writes_replace_whole_files_and_leave_no_temporaries(tmp_path):
    path = tmp_path / "sub" / "f.json"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")
    assert path.read_text() == "second"
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]


def test_mode_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "kept")

    def full_disk(fd):
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(path, "lost")
    assert path.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_an_error_names_the_file_asked_for_not_the_temporary(tmp_path, monkeypatch):
    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as info:
        atomic_write_text(tmp_path / "f.txt", "lost")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(tmp_path / "f.txt")


def test_a_special_file_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # A reader opened without blocking, so that the writer's open() does not wait for one.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        atomic_write_text(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    target = tmp_path / "elsewhere" / "result.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "result.json"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_temporaries_of_killed_writers_are_recognised_and_removed(tmp_path, monkeypatch):
    def killed(src, dst):
        raise KeyboardInterrupt  # the temporary is removed on the way out; a SIGKILL would leave it

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(tmp_path / "manifest.json", "x")
    monkeypatch.undo()
    left = tmp_path / ".manifest.json.4242.0badcafe.tmp"  # what a SIGKILL at that moment leaves
    left.touch()
    for name in ("manifest.json", ".manifest.json", ".manifest.json.tmp", "notes.1.ab.tmp", ".x.12.xyz.tmp"):
        (tmp_path / name).touch()
    assert is_temporary(left) and is_temporary(".manifest.json.1.ab.tmp")
    assert remove_temporaries(tmp_path) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".manifest.json",
        ".manifest.json.tmp",
        ".x.12.xyz.tmp",
        "manifest.json",
        "notes.1.ab.tmp",
    ]
    assert remove_temporaries(tmp_path / "missing") == []
