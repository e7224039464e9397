"""`eval`'s lines on failed items and its per-item dollars: the failure line names the first failed item's cause, a
graph whose every item failed stops the command (exit 2) naming the first such graph while the others are warned
about, and `--json`'s cost_usd_per_item is the run's dollars over its items."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolegraph.cli.eval_output import ItemsFailedError, failure_line, print_results, report_failures
from rolegraph.evaluate.aggregate import summarize
from rolegraph.evaluate.result import ItemScore
from tests.evaluate.test_store import make_result, vote_graph


def failed(errors: list[str | None]):
    items = [ItemScore(item_id=f"q{i}", gold="1", error=e, score=0.0 if e else 1.0, answer=None if e else "1")
             for i, e in enumerate(errors)]
    return summarize(items, vote_graph(), task="gsm", graph_hash="h", skipped=0, simulation="real")


def test_the_failure_line_names_the_first_failed_items_cause():
    res = failed([None, "ModelCallError: connection refused", None, "ModelCallError: bad key"])
    assert failure_line(res, "g") == "graph 'g': 2 of 4 items failed; first failure: ModelCallError: connection refused"
    assert failure_line(failed([None, None]), "g") is None


def test_the_first_graph_whose_every_item_failed_stops_eval_and_a_partly_failed_one_is_warned_about(capsys):
    some, every1, every2 = failed([None, "E1"]), failed(["E2", "E3"]), failed(["E4"])
    with pytest.raises(ItemsFailedError) as stopped:
        report_failures([some, every1, every2], ["some", "all1", "all2"])
    assert str(stopped.value).startswith("graph 'all1': 2 of 2 items failed")
    assert "warning: graph 'some': 1 of 2 items failed" in capsys.readouterr().err


def test_json_cost_per_item_is_the_runs_dollars_over_its_items(capsys):
    res = make_result(vote_graph())
    print_results([res], [vote_graph()], [Path("g.yaml")], ["g"], [], json_out=True)
    line = json.loads(capsys.readouterr().out)
    assert res.n > 1 and line["cost_usd_per_item"] == pytest.approx(res.cost_usd / res.n, rel=1e-12)
