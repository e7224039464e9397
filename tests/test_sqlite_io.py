"""The one way the package opens its SQLite files: WAL and the busy timeout as asked, autocommit, URIs that
survive odd characters in a path, read-only and read-write modes that never create a file."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from rolegraph import sqlite_io

WAL_SYNC_NORMAL = 1  # PRAGMA synchronous's number for NORMAL
SYNC_FULL = 2  # ... and for FULL, SQLite's default


def _pragma(db: sqlite3.Connection, name: str):
    return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_file_is_made_in_wal_with_the_busy_timeout_asked(tmp_path):
    path = tmp_path / "a.sqlite"
    db = sqlite_io.connect(path, timeout_s=12.5, synchronous="NORMAL")
    try:
        assert path.is_file()
        assert _pragma(db, "journal_mode") == "wal"
        assert _pragma(db, "busy_timeout") == 12_500  # what `PRAGMA busy_timeout = 12500` would have set
        assert _pragma(db, "synchronous") == WAL_SYNC_NORMAL
        assert db.isolation_level is None  # autocommit: callers begin their own transactions
    finally:
        db.close()


def test_the_default_timeout_is_the_shared_one_of_sixty_seconds(tmp_path):
    db = sqlite_io.connect(tmp_path / "a.sqlite")
    try:
        assert _pragma(db, "busy_timeout") == 60_000
        assert _pragma(db, "synchronous") == SYNC_FULL  # not asked: SQLite's default is left
    finally:
        db.close()


def test_without_wal_the_journal_mode_is_left_as_the_file_has_it(tmp_path):
    path = tmp_path / "plain.sqlite"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x)")
    setup.close()
    db = sqlite_io.connect(path, mode="rw", wal=False)
    try:
        assert _pragma(db, "journal_mode") == "delete"
    finally:
        db.close()


@pytest.mark.parametrize("mode", ["ro", "rw"])
def test_a_uri_mode_never_creates_a_missing_file(tmp_path, mode):
    path = tmp_path / "missing.sqlite"
    with pytest.raises(sqlite3.OperationalError):
        sqlite_io.connect(path, mode=mode, wal=False)
    assert not path.exists()


def test_read_only_cannot_write(tmp_path):
    path = tmp_path / "a.sqlite"
    sqlite_io.connect(path).close()
    db = sqlite_io.connect(path, mode="ro", wal=False)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("CREATE TABLE t (x)")
    finally:
        db.close()


def test_read_only_and_wal_together_is_refused():
    with pytest.raises(ValueError, match="wal=False"):
        sqlite_io.connect("whatever.sqlite", mode="ro")


@pytest.mark.parametrize("name", ["a#b", "a?b", "a%20b", "a b"])
def test_odd_characters_in_a_directory_name_open_that_file(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "x.sqlite"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE marker (x)")
    setup.close()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    db = sqlite_io.connect(path, mode="ro", wal=False)
    try:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("marker",)]
    finally:
        db.close()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no stray file made at a cut-short path


def test_file_uri_percent_quotes_the_path(tmp_path):
    uri = sqlite_io.file_uri(tmp_path / "a#b" / "x.sqlite", "rw")
    assert uri.startswith("file:///") and uri.endswith("/a%23b/x.sqlite?mode=rw")


def test_a_connection_for_threads_is_usable_from_another_thread(tmp_path):
    db = sqlite_io.connect(tmp_path / "a.sqlite", check_same_thread=False)
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(db.execute("SELECT 1").fetchone()[0]))
    worker.start()
    worker.join()
    db.close()
    assert got == [1]
