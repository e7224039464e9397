"""A SQLite database that is not a results store (a search's run.sqlite, anyone's own) is refused as a store,
left byte for byte as it was; a new or empty file still becomes a store."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rolegraph.cli import main
from rolegraph.evaluate.store import ResultsStore, StoreError
from rolegraph.optimize.rundir import STORE_NAME, RunStore

SINGLE = str(Path(__file__).parents[2] / "examples" / "graphs" / "single.yaml")


def tables(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        db.close()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture
def run_store(tmp_path) -> Path:
    """A search's checkpoint database (WAL), closed."""
    RunStore.create(tmp_path / "s1", {"task_args": {"name": "gsm"}, "search": {}}).close()
    return tmp_path / "s1" / STORE_NAME


def test_a_search_checkpoint_database_is_not_a_results_store(run_store):
    before, names = snapshot(run_store.parent), tables(run_store)
    with pytest.raises(StoreError, match="not a results store"):
        ResultsStore(run_store)
    assert snapshot(run_store.parent) == before and tables(run_store) == names
    RunStore.open(run_store.parent).close()  # still the run it was


def test_any_other_sqlite_database_is_refused_unchanged(tmp_path):
    mine = tmp_path / "mine.sqlite"
    db = sqlite3.connect(mine)
    db.execute("CREATE TABLE notes (body TEXT)")
    db.execute("INSERT INTO notes VALUES ('keep me')")
    db.commit()
    db.close()
    before = mine.read_bytes()
    with pytest.raises(StoreError, match="not a results store.*notes"):
        ResultsStore(mine)
    assert mine.read_bytes() == before and tables(mine) == ["notes"]
    db = sqlite3.connect(mine)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()


def test_a_new_or_empty_file_still_becomes_a_store(tmp_path):
    (tmp_path / "empty.sqlite").touch()
    blank = tmp_path / "blank.sqlite"
    db = sqlite3.connect(blank)
    db.execute("PRAGMA user_version = 7")  # a database file with no tables yet
    db.commit()
    db.close()
    for path in (tmp_path / "new.sqlite", tmp_path / "empty.sqlite", blank):
        ResultsStore(path).close()
        assert "schema_version" in tables(path) and "runs" in tables(path)
        ResultsStore(path).close()  # and reopens as one


@pytest.mark.parametrize("argv", [["results", "--store"], ["eval", SINGLE, "--task", "arith", "--n", "2", "--store"]])
def test_the_cli_refuses_it_in_one_line_and_exit_2(run_store, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    before = snapshot(run_store.parent)
    try:
        main([*argv, str(run_store)])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "not a results store" in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(run_store.parent) == before
