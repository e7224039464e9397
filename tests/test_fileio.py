"""Writing a file all or nothing (and otherwise as `open(path, "w")` would), and a file's or directory's sha256."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from rolegraph import fileio


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_failed_write_leaves_the_old_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "report.md"
    path.write_text("old content\n")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        fileio.write_atomic(path, "new content\n" * 1000)
    assert path.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_the_new_content_arrives_by_rename_not_in_place(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    before = path.stat().st_ino
    fileio.write_atomic(path, "new")
    assert path.read_text() == "new" and path.stat().st_ino != before


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, mask):
    old = os.umask(mask)
    try:
        fileio.write_atomic(tmp_path / "new.txt", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.txt") == 0o666 & ~mask


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "private.yaml"
    path.write_text("old")
    path.chmod(0o600)
    fileio.write_atomic(path, "new")
    assert _mode(path) == 0o600 and path.read_text() == "new"


def test_a_symlink_is_written_through(tmp_path):
    target = tmp_path / "real.yaml"
    target.write_text("old")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    fileio.write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_a_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so opening for writing does not block
    try:
        fileio.write_atomic(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_missing_parents_are_made_only_when_asked(tmp_path):
    with pytest.raises(FileNotFoundError):
        fileio.write_atomic(tmp_path / "no" / "dir" / "a.txt", "x", make_parents=False)
    assert not (tmp_path / "no").exists()
    fileio.write_atomic(tmp_path / "yes" / "dir" / "a.txt", "x")
    assert (tmp_path / "yes" / "dir" / "a.txt").read_text() == "x"


def test_text_is_written_as_utf8(tmp_path):
    fileio.write_atomic(tmp_path / "a.txt", "naïve – ok")
    assert (tmp_path / "a.txt").read_bytes() == "naïve – ok".encode()


def test_a_files_sha256_is_that_of_its_bytes_across_read_chunks(tmp_path):
    data = os.urandom(3 * (1 << 20) + 123)  # several of file_digest's reads
    (tmp_path / "big.bin").write_bytes(data)
    assert fileio.file_sha256(tmp_path / "big.bin") == hashlib.sha256(data).hexdigest()


def test_a_directorys_sha256_covers_its_files_names_and_contents_in_order(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "b.txt").write_bytes(b"bee")
    (tmp_path / "d" / "a.txt").write_bytes(b"ay")
    (tmp_path / "d" / "sub" / "c.txt").write_bytes(b"sea")
    expected = hashlib.sha256(b"a.txt\0ay" + b"b.txt\0bee" + b"sub/c.txt\0sea").hexdigest()
    assert fileio.file_sha256(tmp_path / "d") == expected


def test_nothing_there_has_no_sha256(tmp_path):
    assert fileio.file_sha256(tmp_path / "absent") is None
