"""A damaged or newer run store is refused in one line, by every command that opens a run.

A cut JSON value, a missing config row or a corrupt trace record in `run.sqlite` stopped `report`, `optimize
--resume`, `route fit` and `eval --add-to` on a Python traceback (exit 1), and `route fit`, which does not read the
trace, succeeded on a run whose records were lost. A store written by a newer rolegraph was read as if it were
this one's. Each is now one line naming the file and what is wrong, exit 2.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import RunStore
from tests.cli.support import cli
from tests.conftest import copy_search


@pytest.fixture(scope="module")
def finished(tiny_search, tmp_path_factory):
    """One tiny finished search through the CLI, with its paired outcomes (copied before each damage)."""
    return copy_search(tiny_search, tmp_path_factory.mktemp("damaged")) / "run"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))


def _copy(finished: Path, tmp_path: Path, *statements: str) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    db = sqlite3.connect(run / "run.sqlite")
    for statement in statements:
        assert db.execute(statement).rowcount >= 1  # the damage really landed
    db.commit()
    db.close()
    return run


def _first_seq(run: Path) -> int:
    db = sqlite3.connect(run / "run.sqlite")
    try:
        return db.execute("SELECT MIN(seq) FROM records").fetchone()[0]
    finally:
        db.close()


def _commands(run: Path) -> list[list[object]]:
    return [
        ["report", run],
        ["optimize", "--resume", run],
        ["route", "fit", run, "--out", run.parent / "router.yaml"],
        ["eval", run / "best_graph.yaml", "--add-to", run],
    ]


def _refused_by_all(run: Path, capsys, *needles: str) -> None:
    for argv in _commands(run):
        code, out, err = cli(argv, capsys)
        assert code == 2, (argv, out, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, err)
        assert str(run / "run.sqlite") in err, (argv, err)
        for needle in needles:
            assert needle in err, (argv, needle, err)
    assert not (run.parent / "router.yaml").exists()


def test_an_intact_copy_is_read_by_every_command(finished, tmp_path, home, capsys):
    """The control: the copying and the commands work, so the refusals below come from the damage."""
    run = _copy(finished, tmp_path)
    for argv in _commands(run):
        code, _, err = cli(argv, capsys)
        assert code == 0, (argv, err)


@pytest.mark.parametrize(
    "damage, needles",
    [
        ("UPDATE meta SET value = substr(value, 1, 50) WHERE key = 'config'", ["is damaged", "its config is unreadable"]),
        ("DELETE FROM meta WHERE key = 'config'", ["is damaged", "its config is missing"]),
        ("UPDATE checkpoint SET state = '{'", ["is damaged", "its checkpoint is unreadable"]),
        ("UPDATE meta SET value = 'x' WHERE key = 'inputs'", ["is damaged", "files it read is unreadable"]),
        ("UPDATE meta SET value = '99' WHERE key = 'version'", ["schema v99 is newer", "(v1)", "upgrade rolegraph"]),
    ],
    ids=["cut-config", "no-config", "cut-checkpoint", "cut-inputs", "newer-schema"],
)
def test_a_damaged_or_newer_store_is_one_line_exit_2_everywhere(finished, tmp_path, home, capsys, damage, needles):
    _refused_by_all(_copy(finished, tmp_path, damage), capsys, *needles)


def test_a_corrupt_trace_record_is_named_not_skipped(finished, tmp_path, home, capsys):
    """`route fit` never reads the trace, and succeeded on this run: the damage is found when the store opens."""
    seq = _first_seq(finished)
    run = _copy(finished, tmp_path, f"UPDATE records SET record = substr(record, 1, 40) WHERE seq = {seq}")
    _refused_by_all(run, capsys, "is damaged", f"trace record {seq} is unreadable")


@pytest.mark.parametrize(
    "statement, needle",
    [
        ("UPDATE records SET record = '[1, 2]' WHERE seq = (SELECT MIN(seq) FROM records)", "trace record"),
        ("UPDATE graphs SET spec = 'null' WHERE hash = (SELECT MIN(hash) FROM graphs)", "graph "),
        ("UPDATE checkpoint SET iteration = 'two'", "iteration is unreadable"),
        ("UPDATE meta SET value = 'lots' WHERE key = 'paid_usd'", "dollars paid is unreadable"),
        ("DELETE FROM meta WHERE key = 'version'", "schema version is missing"),
    ],
    ids=["record-not-an-object", "graph-null", "iteration-text", "paid-text", "no-version"],
)
def test_open_refuses_other_damage_in_one_line(finished, tmp_path, statement, needle):
    run = _copy(finished, tmp_path, statement)
    with pytest.raises(SearchError) as refused:
        RunStore.open(run)
    message = str(refused.value)
    assert "\n" not in message and needle in message and str(run / "run.sqlite") in message


def test_a_missing_table_is_one_line(finished, tmp_path):
    run = _copy(finished, tmp_path)
    db = sqlite3.connect(run / "run.sqlite")
    db.execute("DROP TABLE feedback")
    db.commit()
    db.close()
    with pytest.raises(SearchError, match="cannot be read .*no such table: feedback"):
        RunStore.open(run)


def test_a_record_holding_nan_is_not_taken_for_damage(finished, tmp_path):
    """SQLite's json_valid rejects NaN, which Python's json writes for a float nan: such a row is only a suspect,
    and Python's decoder, which wrote it, reads it back."""
    seq = _first_seq(finished)
    run = _copy(finished, tmp_path, f"UPDATE records SET record = json_set(record, '$.extra', 0) WHERE seq = {seq}")
    db = sqlite3.connect(run / "run.sqlite")
    text = db.execute("SELECT record FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    db.execute("UPDATE records SET record = ? WHERE seq = ?", (text.replace('"extra":0', '"extra":NaN'), seq))
    db.commit()
    db.close()
    assert "NaN" in text.replace('"extra":0', '"extra":NaN')
    store = RunStore.open(run)
    try:
        record = next(r for r in store.records() if r["seq"] == seq)
    finally:
        store.close()
    assert json.dumps(record["extra"]) == "NaN"
