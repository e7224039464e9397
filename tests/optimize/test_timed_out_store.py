"""The run store's record of requests abandoned at a timeout (`RunStore.timed_out`, and the checkpoint's
`timed_out_attempts` / `timed_out_usd`): report.md names a stored total in its Setup, a store without it (from
before it was kept) reads as none, and a damaged one is the store's one-line refusal, not a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.checkpoint import timed_out_before
from rolegraph.optimize.rundir import STORE_NAME, RunStore
from tests.cli.support import cli
from tests.conftest import copy_search


@pytest.fixture(scope="module")
def finished(tiny_search, tmp_path_factory):
    """One tiny finished sim search through the CLI (copied before each change)."""
    return copy_search(tiny_search, tmp_path_factory.mktemp("timed-out")) / "run"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))


def _copy(finished: Path, tmp_path: Path, *statements: tuple[str, tuple]) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    db = sqlite3.connect(run / STORE_NAME)
    for statement, args in statements:
        db.execute(statement, args)
    db.commit()
    db.close()
    return run


def _set_meta(value: str) -> tuple[str, tuple]:
    return "INSERT OR REPLACE INTO meta (key, value) VALUES ('timed_out', ?)", (value,)


def _timed_out(run: Path) -> tuple[int, float]:
    store = RunStore.open(run)
    try:
        return timed_out_before(store)
    finally:
        store.close()


def _setup_lines(report: str) -> list[str]:
    setup = report.split("## Setup", 1)[1].split("\n## ", 1)[0]
    return [ln for ln in setup.splitlines() if ln.startswith("- ")]


def test_a_finished_sim_search_stores_none_and_its_report_says_nothing(finished, tmp_path, home, capsys):
    run = _copy(finished, tmp_path)
    assert _timed_out(run) == (0, 0.0)  # the sim never times out
    code, _, err = cli(["report", run], capsys)
    assert code == 0, err
    assert "timed out" not in (run / "report.md").read_text()


def test_a_stored_total_is_one_setup_line_of_report_md_in_evals_words(finished, tmp_path, home, capsys):
    run = _copy(finished, tmp_path, _set_meta(json.dumps({"attempts": 3, "usd": 0.0123})))
    code, _, err = cli(["report", run], capsys)
    assert code == 0, err
    lines = [ln for ln in _setup_lines((run / "report.md").read_text()) if "timed out" in ln]
    assert lines == [
        "- over all sessions, 3 request(s) timed out and were abandoned: the endpoint may bill them (up to $0.0123 "
        "at the pool's prices); not in tokens or cost"
    ]


def test_the_html_page_has_the_same_line(finished, tmp_path, home, capsys):
    run = _copy(finished, tmp_path, _set_meta(json.dumps({"attempts": 2, "usd": 0.25})))
    code, _, err = cli(["report", run, "--html"], capsys)
    assert code == 0, err
    page = next(run.glob("*.html")).read_text()
    assert '<p id="timed-out">Over all sessions, 2 request(s) timed out and were abandoned: the endpoint may bill ' \
        "them (up to $0.25 at the pool&#x27;s prices); not in tokens or cost</p>" in page


def test_the_larger_of_the_stored_figure_and_the_checkpoints_is_the_runs(finished, tmp_path):
    """Each only grows: a session killed after its checkpoint left the checkpoint's figure the later one."""
    run = _copy(finished, tmp_path, _set_meta(json.dumps({"attempts": 2, "usd": 0.5})),
                ("UPDATE checkpoint SET state = json_set(state, '$.timed_out_attempts', 5, '$.timed_out_usd', 0.25)",
                 ()))
    assert _timed_out(run) == (5, 0.5)


def test_a_store_from_before_the_totals_were_kept_opens_with_none(finished, tmp_path, home, capsys):
    run = _copy(finished, tmp_path, ("DELETE FROM meta WHERE key = 'timed_out'", ()),
                ("UPDATE checkpoint SET state = json_remove(state, '$.timed_out_attempts', '$.timed_out_usd')", ()))
    db = sqlite3.connect(run / STORE_NAME)
    assert db.execute("SELECT COUNT(*) FROM meta WHERE key = 'timed_out'").fetchone()[0] == 0
    assert "timed_out" not in db.execute("SELECT state FROM checkpoint").fetchone()[0]
    db.close()
    assert _timed_out(run) == (0, 0.0)
    code, _, err = cli(["report", run], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    "statement, needle",
    [
        (_set_meta("x"), "its record of requests timed out is unreadable"),
        (_set_meta(json.dumps({"attempts": -1, "usd": 0.0})), "its record of requests timed out is unreadable"),
        (_set_meta(json.dumps({"attempts": True, "usd": 0.0})), "its record of requests timed out is unreadable"),
        (_set_meta(json.dumps({"attempts": 1})), "its record of requests timed out is unreadable"),
        (("UPDATE checkpoint SET state = json_set(state, '$.timed_out_attempts', 'many')", ()),
         "its checkpoint is unreadable"),
    ],
    ids=["not-json", "negative", "boolean", "no-dollars", "checkpoint-text"],
)
def test_a_damaged_record_is_refused_in_one_line(finished, tmp_path, statement, needle):
    run = _copy(finished, tmp_path, statement)
    with pytest.raises(SearchError) as refused:
        RunStore.open(run)
    message = str(refused.value)
    assert "\n" not in message and "is damaged" in message and needle in message


def test_report_of_a_damaged_record_is_exit_2_one_line(finished, tmp_path, home, capsys):
    run = _copy(finished, tmp_path, _set_meta(json.dumps({"attempts": "3", "usd": 0.0})))
    code, _, err = cli(["report", run], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "requests timed out is unreadable" in err
