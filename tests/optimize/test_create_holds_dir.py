"""`RunStore.create` holds the run directory (`RunLock`) before it judges or cleans it: a search still starting or
running there is named ("in use ... pid N"), not taken for a finished run to resume (whose `--resume` would then
be refused too), and a second start never deletes the first one's half-built store."""
from __future__ import annotations

import os
import sqlite3

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import CREATING, STORE_NAME, RunLock, RunStore


def _in_use(run_dir) -> str:
    return f"run directory {run_dir} is in use by another rolegraph process (pid {os.getpid()}): wait for it to end"


def test_a_running_search_is_named_not_offered_for_resume(tmp_path):
    run_dir = tmp_path / "r"
    RunStore.create(run_dir, {"x": 1}).close()
    with RunLock.take(run_dir), pytest.raises(SearchError) as info:  # the first search, still running
        RunStore.create(run_dir, {"x": 1})
    assert str(info.value) == _in_use(run_dir)
    with pytest.raises(SearchError, match="already holds a search run"):  # once it has ended: resume it
        RunStore.create(run_dir, {"x": 1})


def test_a_store_being_built_is_left_alone(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    with RunLock.take(run_dir):  # the first start, between taking the directory and renaming its store
        (run_dir / CREATING).write_bytes(b"half-built")
        with pytest.raises(SearchError) as info:
            RunStore.create(run_dir, {"x": 1})
        assert str(info.value) == _in_use(run_dir)
        assert (run_dir / CREATING).read_bytes() == b"half-built"
    store = RunStore.create(run_dir, {"x": 1})  # the holder is gone (killed half-way): its leftover goes
    store.close()
    assert not (run_dir / CREATING).exists() and (run_dir / STORE_NAME).is_file()


def test_hold_keeps_the_directory_until_released(tmp_path):
    store = RunStore.create(tmp_path / "r", {"x": 1}, hold=True)
    assert store.lock is not None
    with pytest.raises(SearchError, match="is in use by another rolegraph process"):
        RunLock.take(tmp_path / "r")
    store.lock.release()
    store.close()
    RunLock.take(tmp_path / "r").release()
    plain = RunStore.create(tmp_path / "s", {"x": 1})  # without hold: let go at once
    assert plain.lock is None
    RunLock.take(tmp_path / "s").release()
    plain.close()


def test_a_foreign_non_empty_directory_gets_no_lock_file(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(SearchError, match="not an empty directory"):
        RunStore.create(busy, {})
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def _store_cannot_be_built(monkeypatch):
    def refuse(path):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(RunStore, "_connect", staticmethod(refuse))


def test_a_failed_create_leaves_no_directory_it_made(tmp_path, monkeypatch):
    _store_cannot_be_built(monkeypatch)
    with pytest.raises(SearchError, match="cannot create the run directory"):
        RunStore.create(tmp_path / "new" / "run", {"x": 1})
    assert not (tmp_path / "new" / "run").exists()  # not a directory holding only a lock file


def test_a_failed_create_in_an_empty_directory_leaves_it_empty(tmp_path, monkeypatch):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    _store_cannot_be_built(monkeypatch)
    with pytest.raises(SearchError, match="cannot create the run directory"):
        RunStore.create(run_dir, {"x": 1})
    assert list(run_dir.iterdir()) == []
    monkeypatch.undo()
    RunStore.create(run_dir, {"x": 1}).close()  # and a later start builds there
    assert (run_dir / STORE_NAME).is_file()
