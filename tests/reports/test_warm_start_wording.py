"""A warm-started run's evaluations imported from an earlier run's pilot are not this run's pilot: a TPE run (no
pilot of its own) warm-started from an Agent-REINFORCE run must not be described as having one, in the CLI's
summary, report.md's feedback section or its status line; its warm-start note is labelled a warm start."""
from __future__ import annotations

from rolegraph.cli.optimize_output import iterations_phrase
from rolegraph.optimize.baselines.tpe import TPESearch
from rolegraph.optimize.run_reader import load_run
from rolegraph.optimize.warmstart import WARM_AGENT
from rolegraph.reports.markdown import report_markdown
from tests.optimize.helpers import run


def test_a_warm_started_tpe_run_has_no_pilot_in_its_words(pool, small_task, tmp_path):
    first = run(pool, tmp_path / "home", small_task, "agent-reinforce", out=tmp_path / "a")
    assert any(r.source == "pilot" or r.phase == "pilot" for r in first.trace.records)  # the earlier run had one
    tpe = run(pool, tmp_path / "home", small_task, TPESearch(), out=tmp_path / "c", init_from=tmp_path / "a")
    assert any(r.phase == "prior" and r.source == "pilot" for r in tpe.trace.records)  # imported, source kept
    assert any(f.agent == WARM_AGENT for f in tpe.trace.feedback)
    assert "pilot" not in iterations_phrase(tpe)
    report = report_markdown(load_run(tmp_path / "c"), None, [])
    assert f"- **warm start** ({WARM_AGENT})" in report
    assert "- **pilot" not in report
    status = next(line for line in report.splitlines() if line.startswith("- status:"))
    assert "pilot" not in status and "search" in status


def test_the_earlier_runs_own_pilot_is_still_named(pool, small_task, tmp_path):
    first = run(pool, tmp_path / "home", small_task, "agent-reinforce", out=tmp_path / "a")
    report = report_markdown(load_run(tmp_path / "a"), None, [])
    status = next(line for line in report.splitlines() if line.startswith("- status:"))
    assert "(pilot, search and the final validation re-check)" in status
    assert WARM_AGENT not in {f.agent for f in first.trace.feedback}
