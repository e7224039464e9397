"""jsonl options that only one family uses are refused with another family, in one line naming the option and
the family: `metric=f1` with family math used to be dropped without a word (the items scored with math_equal),
and `choices_field` outside mmlu attached choices that no question showed."""
from __future__ import annotations

import pytest

from rolegraph.errors import TaskError
from rolegraph.tasks import get_task


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "2+2?", "answer": "4", "opts": ["3", "4", "5", "6"], "key": 1}\n')
    return path


@pytest.mark.parametrize("family", ["math", "mmlu"])
def test_a_metric_other_than_em_outside_family_qa_is_refused(data, family):
    with pytest.raises(TaskError) as info:
        get_task("jsonl", data=data, family=family, metric="f1")
    assert str(info.value) == f"task 'jsonl': option metric='f1' applies to family qa only, not family {family}"


@pytest.mark.parametrize("family", ["math", "qa"])
def test_a_choices_field_outside_family_mmlu_is_refused(data, family):
    with pytest.raises(TaskError) as info:
        get_task("jsonl", data=data, family=family, choices_field="opts")
    assert str(info.value) == (
        f"task 'jsonl': option choices_field='opts' applies to family mmlu only, not family {family}"
    )


def test_options_at_their_defaults_or_with_their_family_are_taken(data):
    assert get_task("jsonl", data=data, family="math", metric="em").metric == "em"
    assert get_task("jsonl", data=data, family="qa", metric="F1").metric == "f1"
    item = get_task("jsonl", data=data, family="mmlu", choices_field="opts", answer_field="key").all_items()[0]
    assert item.choices == ["3", "4", "5", "6"] and item.gold == "B"


def test_a_refused_option_is_one_line_and_exit_2_on_the_command_line(data, tmp_path, capsys, monkeypatch):
    from tests.cli.support import cli

    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    code, out, err = cli(["optimize", "--task", "jsonl", "--data", data, "--task-option", "family=math",
                          "--task-option", "metric=f1", "--out", tmp_path / "run"], capsys)
    assert code == 2 and err.strip().splitlines() == [
        "error: task 'jsonl': option metric='f1' applies to family qa only, not family math"
    ]
    assert not (tmp_path / "run").exists()
