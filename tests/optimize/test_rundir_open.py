"""Refusing a directory whose run.sqlite is not a search run store closes what it opened: a caller that tries many
directories (a report over runs/, a script) ran out of file descriptors when the refusal leaked its connection."""

from __future__ import annotations

import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import STORE_NAME, RunStore


def _no_meta(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE other (x)")
    db.commit()
    db.close()


def _other_kind(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('kind', 'something-else')")
    db.commit()
    db.close()


def _not_sqlite(path):
    path.write_bytes(b"this is not an SQLite database, just some bytes long enough to have a header" * 4)


@pytest.fixture
def opened(monkeypatch):
    """Every connection sqlite3.connect makes from here on (held, so none is closed by being collected)."""
    made: list[sqlite3.Connection] = []
    real = sqlite3.connect

    def recording(*args, **kwargs):
        db = real(*args, **kwargs)
        made.append(db)
        return db

    monkeypatch.setattr(sqlite3, "connect", recording)
    return made


def _is_closed(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


@pytest.mark.parametrize("make", [_no_meta, _other_kind, _not_sqlite], ids=["no-meta", "other-kind", "not-sqlite"])
def test_a_refused_store_leaves_no_connection_open(tmp_path, opened, make):
    make(tmp_path / STORE_NAME)
    with pytest.raises(SearchError, match="is not a search run store"):
        RunStore.open(tmp_path)
    assert opened, "RunStore.open made no connection: this test no longer watches it"
    assert all(_is_closed(db) for db in opened)


def test_a_refused_store_is_left_untouched(tmp_path):
    """It is only looked at: not switched to WAL, no -wal or -shm file left beside it."""
    _no_meta(tmp_path / STORE_NAME)
    before = (tmp_path / STORE_NAME).read_bytes()
    with pytest.raises(SearchError):
        RunStore.open(tmp_path)
    assert (tmp_path / STORE_NAME).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_NAME]


def test_a_real_store_opens_in_wal_and_closes(tmp_path, opened):
    RunStore.create(tmp_path / "run", {"task": "t"}).close()
    opened.clear()
    store = RunStore.open(tmp_path / "run")
    try:
        assert store.config(check_inputs=False) == {"task": "t"}
        assert opened[-1].execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()
    assert all(_is_closed(db) for db in opened)
