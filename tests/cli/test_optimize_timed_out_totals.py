"""`rolegraph optimize` says the run's requests abandoned at a timeout: `--help` says that `--json`'s
timed_out_attempts / timed_out_usd (and paid_usd) are the run's totals over all its sessions, and the closing
lines name a nonzero total in the words `eval` and `run` use (`timed_out_note`), where before only the stderr
warning of the session's first timeout said anything."""

from __future__ import annotations

import pytest

from rolegraph.cli.optimize_output import print_result
from tests.cli.support import cli
from tests.optimize.helpers import run


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from rolegraph.models.pool import ModelPool
    from rolegraph.tasks.registry import get_task

    base = tmp_path_factory.mktemp("timed-out-lines")
    return run(ModelPool.builtin(), base / "home", get_task("gsm", size=80))


def test_a_nonzero_total_is_one_closing_line(result, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # the line whole, however long
    print_result(result.model_copy(update={"timed_out": (4, 0.25)}))
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "timed out" in ln]
    assert lines == [
        "over all sessions, 4 request(s) timed out and were abandoned: the endpoint may bill them (up to $0.25 at "
        "the pool's prices); not in tokens or cost"
    ]


def test_none_says_nothing(result, capsys):
    assert result.timed_out == (0, 0.0)  # the sim pool never times out
    print_result(result)
    assert "timed out" not in capsys.readouterr().out


def test_help_says_the_json_figures_are_the_runs_totals(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = cli(["optimize", "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    assert "timed_out_attempts and timed_out_usd" in text
    assert "are the run's totals over all its sessions, paid_calls this session's" in text
