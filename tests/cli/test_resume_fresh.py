"""A search stopped before its first checkpoint has nothing to resume: `--resume` starts it again from the
beginning (answering the calls already made from the response cache). The reports called it "new after
iteration 0" with a "Resume" hint, and `--resume` started over without a word; both now say what happens."""
from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest

from rolegraph.optimize import api
from tests.cli.support import cli

SEARCH = ["optimize", "--task", "gsm", "--task-size", "40", "--optimizer", "random", "--iterations", "1",
          "--samples", "2", "--batch", "4", "--validation-items", "4", "--test-items", "4", "--json"]
RESTARTS = "nothing to resume, so the search starts again from the beginning"


@pytest.fixture
def fresh_run(tmp_path, monkeypatch, capsys) -> Path:
    """A run directory whose search was stopped (Ctrl-C) before its first checkpoint."""
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))

    async def stopped(*_args, **_kwargs):
        raise asyncio.CancelledError

    with monkeypatch.context() as patch:
        patch.setattr(api, "run_search", stopped)
        code, _, err = cli([*SEARCH, "--out", tmp_path / "run"], capsys)
    assert code == 130 and "stopped before its first checkpoint" in err  # the premise
    return tmp_path / "run"


def test_the_reports_of_a_run_without_a_checkpoint_say_there_is_nothing_to_resume(fresh_run, capsys):
    code, _, err = cli(["report", fresh_run, "--html"], capsys)
    assert code == 0, err
    status = next(line for line in (fresh_run / "report.md").read_text().splitlines() if line.startswith("- status:"))
    assert status.startswith("- status: stopped before its first checkpoint: nothing to resume;")
    assert "starts the search again from the beginning" in status and "new after iteration 0" not in status
    page = html.unescape((fresh_run / "report.html").read_text())
    assert "Start again (nothing to resume yet) or re-render" in page and "Resume or re-render" not in page
    assert '<div class="value">not started</div>' in page


def test_resume_of_a_run_without_a_checkpoint_says_it_starts_again(fresh_run, capsys):
    code, _, err = cli(["optimize", "--resume", fresh_run, "--json"], capsys)
    assert code == 0, err
    notes = [line for line in err.splitlines() if RESTARTS in line]
    assert len(notes) == 1 and notes[0].startswith(f"note: {fresh_run} has no checkpoint")
    assert "response cache" in notes[0]
    code, _, err = cli(["report", fresh_run], capsys)  # now it has run: an ordinary report, an ordinary resume
    assert code == 0, err
    assert "- status: done after iteration 1;" in (fresh_run / "report.md").read_text()
    code, _, err = cli(["optimize", "--resume", fresh_run, "--json"], capsys)
    assert code == 0, err
    assert RESTARTS not in err
