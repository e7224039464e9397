"""`optimize --resume --json` of a finished run reports the test calls its first session measured (it said
`calls: 0, cached_calls: 0`); a run stored before they were kept says null (unknown), never 0, and its text
output still works."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.support import cli

SEARCH = ["optimize", "--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "1",
          "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "5", "--json"]


@pytest.fixture
def finished(tmp_path, monkeypatch, capsys) -> tuple[Path, dict]:
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, out, err = cli([*SEARCH, "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    return tmp_path / "run", json.loads(out)


def test_a_resumed_finished_run_reports_the_calls_its_first_session_made(finished, capsys):
    run_dir, first = finished
    assert first["test"]["calls"] >= first["test"]["n"] == 5  # at least one call per test item
    assert first["best_single"]["calls"] >= 5
    code, out, err = cli(["optimize", "--resume", run_dir, "--json"], capsys)
    assert code == 0, err
    again = json.loads(out)
    for key in ("test", "best_single"):
        assert (again[key]["calls"], again[key]["cached_calls"]) == (first[key]["calls"], first[key]["cached_calls"])


def _forget_calls(run_dir: Path) -> None:
    """The checkpoint as a run stored it before test calls were kept: no calls / cached_calls in its scores."""
    db = sqlite3.connect(run_dir / "run.sqlite")
    try:
        (state,) = db.execute("SELECT state FROM checkpoint WHERE id = 1").fetchone()
        state = json.loads(state)
        for score in [state["final"]["test"], *state["final"]["singles"]]:
            del score["calls"], score["cached_calls"]
        db.execute("UPDATE checkpoint SET state = ? WHERE id = 1", (json.dumps(state),))
        db.commit()
    finally:
        db.close()


def test_a_run_stored_without_test_calls_says_they_are_unknown(finished, capsys):
    run_dir, _ = finished
    _forget_calls(run_dir)
    code, out, err = cli(["optimize", "--resume", run_dir, "--json"], capsys)
    assert code == 0, err
    again = json.loads(out)
    for key in ("test", "best_single"):
        assert again[key]["calls"] is None and again[key]["cached_calls"] is None
    code, out, err = cli(["optimize", "--resume", run_dir], capsys)  # the text output reads them too
    assert code == 0, err
    assert "test runs:" not in out  # no "0 of 0 calls cached" made up from figures that were not kept
