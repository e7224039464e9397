"""A run store whose rows are valid JSON of the wrong shape is refused in one line, by every command that opens it.

`{}` in a trace or feedback row, or as the checkpoint's state, passed the store's check (it decodes to an object)
and then stopped `report` and `optimize --resume` on a pydantic ValidationError or `KeyError: 'iterations'` (exit
1), while `route fit` went on and `report` described a checkpoint with no iterations (exit 0). The store now checks
each row against the model its readers build from it when it opens: the same "run.sqlite is damaged: ...; restore
the run directory" line as unreadable JSON, exit 2.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.rundir import RunStore
from tests.cli.support import cli
from tests.conftest import copy_search
from tests.optimize.test_rundir_damaged import _commands, _copy  # its control runs these on an intact copy

RESTORE = "restore the run directory from a copy, or start a new search"


@pytest.fixture(scope="module")
def finished(tiny_search, tmp_path_factory):
    return copy_search(tiny_search, tmp_path_factory.mktemp("wrong-shape")) / "run"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))


def _one_line_exit_2(argv: list[object], capsys, run: Path, *needles: str) -> None:
    code, out, err = cli(argv, capsys)
    assert code == 2, (argv, out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (argv, err)
    for needle in (f"{run / 'run.sqlite'} is damaged", RESTORE, *needles):
        assert needle in err, (argv, needle, err)


@pytest.mark.parametrize(
    "damage, needles",
    [
        (
            "UPDATE records SET record = '{}' WHERE seq = (SELECT MAX(seq) FROM records)",
            ["trace record ", "missing field 'seq'"],
        ),
        (  # the tiny search stores no feedback: a row is added
            "INSERT INTO feedback (seq, iteration, record) VALUES (7, 0, '{}')",
            ["feedback record 7 is unreadable", "missing field 'iteration'"],
        ),
        ("UPDATE checkpoint SET state = '{}'", ["its checkpoint is unreadable", "missing field 'iterations'"]),
    ],
    ids=["record-empty-object", "feedback-empty-object", "checkpoint-empty-object"],
)
def test_valid_json_of_the_wrong_shape_is_one_line_exit_2_everywhere(
    finished, tmp_path, home, capsys, damage, needles
):
    run = _copy(finished, tmp_path, damage)
    for argv in _commands(run):
        _one_line_exit_2(argv, capsys, run, *needles)
    assert not (run.parent / "router.yaml").exists()


@pytest.mark.parametrize(
    "statement, needles",
    [
        (
            "UPDATE records SET record = json_set(record, '$.accuracy', 'high') "
            "WHERE seq = (SELECT MIN(seq) FROM records)",
            ["trace record ", "field 'accuracy'", "'high'"],
        ),
        ("UPDATE records SET record = json_remove(record, '$.graph_hash')", ["missing field 'graph_hash'"]),
        (
            "UPDATE graphs SET spec = '{}' WHERE hash = (SELECT MIN(hash) FROM graphs)",
            ["graph ", "missing field 'nodes'"],
        ),
        ("UPDATE checkpoint SET state = json_set(state, '$.iterations', json('[{}]'))", ["'iterations.0.iteration'"]),
        ("UPDATE checkpoint SET state = json_set(state, '$.final', json('{}'))", ["'final.chosen_hash'"]),
        ("UPDATE checkpoint SET state = json_set(state, '$.paid_usd', 'lots')", ["field 'paid_usd'"]),
    ],
    ids=[
        "accuracy-text", "no-graph-hash", "graph-empty", "iteration-empty", "final-empty", "paid-text"
    ],
)
def test_open_names_the_row_and_its_first_problem(finished, tmp_path, statement, needles):
    run = _copy(finished, tmp_path, statement)
    with pytest.raises(SearchError) as refused:
        RunStore.open(run)
    message = str(refused.value)
    assert "\n" not in message and "is damaged" in message and RESTORE in message, message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE checkpoint SET state = json_set(state, '$.optimizer', json('{}'))",
        "UPDATE checkpoint SET state = json_remove(state, '$.optimizer')",
    ],
    ids=["empty", "missing"],
)
def test_an_optimizer_state_its_optimizer_cannot_load_is_one_line(finished, tmp_path, home, capsys, damage):
    """The optimizer's own part of the state only it knows: `{}` was `KeyError: 'pg'` inside its loader, and no
    state at all `KeyError: 'optimizer'`."""
    run = _copy(finished, tmp_path, damage)
    _one_line_exit_2(["optimize", "--resume", run], capsys, run, "optimizer state does not fit", "KeyError: 'pg'")
