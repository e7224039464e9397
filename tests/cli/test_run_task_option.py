"""`run --task-option KEY=VALUE`, as eval and optimize take it: a JSONL file with its own field names runs one
item by its own id (it used to be `No such option: --task-option`); a malformed pair, an unknown key, or the
option without --task is one line, exit 2."""
from __future__ import annotations

import json

import pytest

from tests.cli.support import run_cli

SINGLE = "name: one\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-3b}\n"
ROWS = [{"key": "first", "q": "What is 2 + 3?", "a": "5"}, {"key": "second", "q": "What is 7 * 6?", "a": "42"}]
FIELDS = ["--task-option", "question_field=q", "--task-option", "answer_field=a", "--task-option", "id_field=key"]


@pytest.fixture
def files(tmp_path, fresh_home):
    (tmp_path / "one.yaml").write_text(SINGLE)
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return tmp_path


def test_run_picks_an_item_by_its_own_id_field(files, capsys):
    code, out, err = run_cli(capsys, "run", files / "one.yaml", "--task", "jsonl", "--data", files / "d.jsonl",
                             *FIELDS, "--item", "second", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["item"] == "second" and shown["gold"] == "42"


def test_run_without_the_options_cannot_read_the_file(files, capsys):
    code, out, err = run_cli(capsys, "run", files / "one.yaml", "--task", "jsonl", "--data", files / "d.jsonl")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("extra, says", [
    (["--task-option", "question_field"], "--task-option takes KEY=VALUE"),
    (["--task-option", "colour=red"], "colour"),
    (["--task-option", "id_field=key", "--task-option", "id_field=q"], "given twice"),
])
def test_run_refuses_a_bad_task_option_in_one_line(files, capsys, extra, says):
    code, out, err = run_cli(capsys, "run", files / "one.yaml", "--task", "jsonl", "--data", files / "d.jsonl",
                             *extra)
    assert code == 2 and says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_run_task_option_needs_a_task(files, capsys):
    code, out, err = run_cli(capsys, "run", files / "one.yaml", "What is 2+2?", "--task-option", "family=qa")
    assert code == 2 and "--task-option" in err and "need --task" in err
