"""Each table's rows are checked against their own model when a run store opens (`rundir.SHAPES`): a feedback row
or a graph row of the right shape opens, one of the wrong shape is refused in one line naming its first problem,
with how many more there are only when there are more."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import RunStore

GRAPH = {"name": "g", "output": "a", "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.1-8b"}]}


def _store(tmp_path, *rows: tuple[str, tuple]):
    run = tmp_path / "run"
    RunStore.create(run, {"task": "gsm"}).close()
    with closing(sqlite3.connect(run / "run.sqlite")) as db:
        for statement, values in rows:
            db.execute(statement, values)
        db.commit()
    return run


def _feedback(record: dict) -> tuple[str, tuple]:
    return "INSERT INTO feedback (seq, iteration, record) VALUES (7, 0, ?)", (json.dumps(record),)


def _graph(spec: dict) -> tuple[str, tuple]:
    return "INSERT INTO graphs (hash, spec) VALUES ('abc123', ?)", (json.dumps(spec),)


def _refusal(run) -> str:
    with pytest.raises(SearchError) as refused:
        RunStore.open(run).close()
    return str(refused.value)


def test_feedback_and_graph_rows_of_their_own_shape_open(tmp_path):
    run = _store(tmp_path, _feedback({"iteration": 0, "agent": "llm", "summary": "fine"}), _graph(GRAPH))
    with closing(RunStore.open(run)) as store:
        assert [f["agent"] for f in store.feedback()] == ["llm"]
        assert list(store.graphs()) == ["abc123"]


def test_a_row_with_one_problem_names_it_alone(tmp_path):
    message = _refusal(_store(tmp_path, _feedback({"agent": "llm"})))
    assert "feedback record 7 is unreadable (missing field 'iteration');" in message
    assert "more" not in message


def test_a_row_with_two_problems_names_the_first_and_counts_the_other(tmp_path):
    message = _refusal(_store(tmp_path, _feedback({})))
    assert "feedback record 7 is unreadable (missing field 'iteration' and 1 more);" in message


def test_a_graph_row_of_the_wrong_shape_is_refused(tmp_path):
    message = _refusal(_store(tmp_path, _graph({"name": "g", "output": "a"})))
    assert "graph abc123 is unreadable (missing field 'nodes')" in message and "is damaged" in message
