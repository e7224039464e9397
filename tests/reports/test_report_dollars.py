"""The Setup section of report.md (and report.html's settings) gives the run's dollar cap and the dollars paid over
all sessions, whether or not the cap stopped it. Before, only a run its cap stopped named either: a capped search
resumed to its end with `--max-dollars 5` had no "cap", "paid" or "max-dollars" anywhere in its report."""

from __future__ import annotations

from pathlib import Path

from rolegraph.models.provenance import PARTLY, REAL
from rolegraph.money import money
from rolegraph.optimize.rundir import RunStore
from rolegraph.reports import markdown, write_html
from tests.cli.support import cli

HIGHER_CAP = 5.0


def _setup(report: str) -> str:
    return report.split("## Setup", 1)[1].split("\n## ", 1)[0]


def _paid(run_dir: Path) -> float:
    store = RunStore.open(run_dir)
    try:
        return store.paid_usd()
    finally:
        store.close()


def test_a_capped_run_resumed_to_its_end_names_its_cap_and_what_all_sessions_paid(run_copy, capsys):
    before = _paid(run_copy)
    code, _, err = cli(["optimize", "--resume", str(run_copy), "--max-dollars", str(HIGHER_CAP)], capsys)
    assert code == 0, err
    paid = _paid(run_copy)
    assert paid > before > 0  # the premise: both sessions paid (at the sim pool's prices)
    report = (run_copy / "report.md").read_text()
    assert "stopped by its dollar cap" not in report  # finished: the status no longer gives the figures
    setup = _setup(report)
    assert "- dollars: dollar cap --max-dollars $5.00 (as last set" in setup
    assert f"{money(paid)} at the sim pool's prices over all sessions" in setup
    assert "no real calls (sim models only)" in setup  # a sim run's dollars are not real ones
    page = write_html(run_copy).read_text()
    assert "Dollars: dollar cap --max-dollars $5.00" in page and f"{money(paid)} at the sim pool" in page


def test_a_real_run_without_a_cap_gives_what_it_paid_even_when_nothing(run_copy, monkeypatch):
    from rolegraph.optimize.run_reader import load_run

    monkeypatch.setattr(markdown, "run_simulation", lambda run: REAL)  # as if its models were real
    run = load_run(run_copy)
    run["config"]["search"]["max_dollars"] = None
    setup = _setup(markdown.report_markdown(run | {"paid_usd": 0.0}, None, []))
    assert "- dollars: $0 paid on calls over all sessions" in setup and "cap" not in setup
    setup = _setup(markdown.report_markdown(run | {"paid_usd": 0.36105}, None, []))
    assert "- dollars: $0.361 paid on calls over all sessions" in setup


def test_a_sim_search_whose_feedback_agent_is_real_does_not_call_its_dollars_simulated(run_copy):
    """The evaluations' label alone said "no real calls (sim models only)" while a real agent model had been paid."""
    from rolegraph.optimize.run_reader import load_run

    run = load_run(run_copy)
    run["config"]["provenance"]["simulation"] = PARTLY  # as stored when --agent-model is a real endpoint
    setup = _setup(markdown.report_markdown(run | {"paid_usd": 0.16543}, None, []))
    assert "no real calls" not in setup
    assert "$0.165 paid on calls over all sessions (some at the sim pool's prices)" in setup
