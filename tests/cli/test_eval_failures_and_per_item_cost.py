"""`eval`'s lines on failed items and its per-item dollars: the failure line names the first failed item's cause, a
graph whose every item failed stops the command (exit 2) naming the first such graph while the others are warned
about; `--json` compares each later graph with the first and its cost_usd_per_item is dollars over items; the notes
under the tables count the requests abandoned at a timeout."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolegraph.cli.eval_output import (
    ItemsFailedError,
    count_notes,
    failure_line,
    print_results,
    report_failures,
    trimmed_items,
)
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


class Compared:
    """A stand-in comparison: what `eval --json` prints under vs_first is its model_dump()."""

    def model_dump(self) -> dict:
        return {"diff": 0.25}


def test_json_compares_every_graph_after_the_first_with_the_first(capsys):
    res = make_result(vote_graph())
    print_results([res, res], [vote_graph(), vote_graph()], [Path("a.yaml"), Path("b.yaml")], ["a", "b"],
                  [Compared()], json_out=True)
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert "vs_first" not in first and second["vs_first"] == {"diff": 0.25}


def test_the_notes_under_the_tables_include_the_requests_abandoned_at_a_timeout():
    res = make_result(vote_graph()).model_copy(update={"timed_out_attempts": 2, "timed_out_usd": 0.01})
    notes = count_notes(res, "g")
    assert len(notes) == 1 and notes[0].startswith("note: graph 'g': ")


def test_trimmed_items_are_counted_from_the_items_of_a_result_that_does_not_say():
    res = make_result(vote_graph())
    touched = [it for it in res.items if "a" in it.node_usage][:2]
    for it in touched:
        it.node_usage["a"].trimmed_evidence_tokens = 120
    assert res.trimmed_items == 0 and trimmed_items(res) == 2
