"""Requests abandoned at a timeout shown where a user reads a run's figures: a row of `eval`'s and `results`'
tables (only when some were), `rolegraph run`'s note and `--json` when given the hub's stats. The figures are
set by hand here; tests/evaluate/test_timed_out_counts.py gets them from a slow loopback server."""
from __future__ import annotations

from rich.console import Console

from rolegraph.cli.run_output import print_run, run_json
from rolegraph.evaluate.report import TIMED_OUT_ROW, side_by_side_table, summary_table
from rolegraph.evaluate.result import EvalResult
from rolegraph.graphs.result import NodeTrace, RunResult
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.in_flight import CallStats

NOTE = ("note: 3 request(s) timed out and were abandoned: the endpoint may bill them (up to $0.0125 at the pool's "
        "prices); not in tokens or cost")


def _text(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def _row(text: str) -> str | None:
    return next((line for line in text.splitlines() if TIMED_OUT_ROW in line), None)


def test_the_summary_has_a_timed_out_row_only_when_some_request_timed_out():
    plain = EvalResult(task="t", n=2, cost_usd=0.01)
    timed = plain.model_copy(update={"timed_out_attempts": 3, "timed_out_usd": 0.0125})
    assert _row(_text(summary_table(plain))) is None
    row = _row(_text(summary_table(timed)))
    assert row is not None and "3 (may be billed: up to $0.0125, not in cost)" in row


def test_side_by_side_every_graph_gets_the_row_when_one_has_it():
    a = EvalResult(task="t", n=2)
    b = a.model_copy(update={"timed_out_attempts": 1, "timed_out_usd": 0.5})
    row = _row(_text(side_by_side_table([a, b], ["a", "b"])))
    assert row is not None and row.split("│")[2].strip() == "0" and "1 (may be billed: up to $0.50" in row
    assert _row(_text(side_by_side_table([a, a], ["a", "a2"]))) is None


def _run() -> RunResult:
    node = NodeTrace(id="out", role="solver", model="my/model", answer="7", simulated=False, served_model="m")
    return RunResult(answer="7", nodes=[node])


def test_run_says_the_timed_out_requests_of_its_hub(capsys):
    spec = GraphSpec.model_validate({"name": "g", "output": "out", "edges": [],
                                     "nodes": [{"id": "out", "role": "solver", "model": "my/model"}]})
    stats = CallStats(timed_out={"my/model": 3}, timed_out_usd=0.0125)
    print_run(_run(), spec, "the question", None, stats=stats)
    assert NOTE in " ".join(capsys.readouterr().out.split())  # as one line, whatever width the console wraps at
    print_run(_run(), spec, "the question", None, stats=CallStats())
    print_run(_run(), spec, "the question", None)
    assert "timed out" not in capsys.readouterr().out
    out = run_json(_run(), stats=stats)
    assert out["timed_out_attempts"] == 3 and out["timed_out_usd"] == 0.0125
    assert "timed_out_attempts" not in run_json(_run())  # a caller without the hub's stats claims no count
