import json

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks import get_task
from rolegraph.tasks.gsm8k import gsm8k_gold, intermediate_results


def test_loads_golds_after_the_marker_and_skips_records_without_one(fixtures):
    task = get_task("gsm8k", data=fixtures / "gsm8k_tiny.jsonl")
    items = task.all_items()
    assert [i.gold for i in items] == ["31", "1200", "22"]
    assert task.skipped == 1 and task.skipped_ids == ("gsm8k/2",)
    assert items[0].question.startswith("Mia has 3 boxes")
    assert (task.family, task.answer_kind) == ("math", "math")


def test_line_numbers_survive_blank_lines(fixtures):
    items = get_task("gsm8k", data=fixtures / "gsm8k_tiny.jsonl").all_items()
    assert [i.metadata["line"] for i in items] == [1, 2, 5]


def test_intermediate_results_are_the_distractors(fixtures):
    items = get_task("gsm8k", data=fixtures / "gsm8k_tiny.jsonl").all_items()
    assert items[0].metadata["distractors"] == ["36"]
    assert items[1].metadata["distractors"] == ["300"]  # 1200 is the gold, so it is left out


def test_scoring_is_numeric(fixtures):
    task = get_task("gsm8k", data=fixtures / "gsm8k_tiny.jsonl")
    item = task.all_items()[1]
    assert [task.score(p, item) for p in ["1200", "1,200", "$1,200.00", "1200 dollars", "120", None]] == [
        1.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_gold_parsing():
    assert gsm8k_gold("work\n#### 1,234") == "1234"
    assert gsm8k_gold("a #### 2 #### 3") == "3"
    assert gsm8k_gold("no marker") is None
    assert gsm8k_gold("#### ") is None
    assert intermediate_results("<<2*3=6>> <<6+1=7>> <<1+6=7>>", "7") == ["6"]


def test_a_line_that_is_not_json_names_path_line_and_format(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "q", "answer": "#### 1"}\n{"question": "q2", "answer": \n')
    with pytest.raises(DataFileError) as info:
        get_task("gsm8k", data=path)
    message = str(info.value)
    assert f"{path}:2:" in message and "question, answer" in message and "\n" not in message


def test_a_record_without_a_question_is_malformed(tmp_path):
    path = tmp_path / "noq.jsonl"
    path.write_text('{"question": "q", "answer": "#### 1"}\n{"prompt": "q2", "answer": "#### 2"}\n')
    with pytest.raises(DataFileError, match=r":2: missing field 'question'"):
        get_task("gsm8k", data=path)


def test_a_line_that_is_not_an_object_is_malformed(tmp_path):
    path = tmp_path / "list.jsonl"
    path.write_text('["q", "#### 1"]\n')
    with pytest.raises(DataFileError, match=r":1: expected a JSON object"):
        get_task("gsm8k", data=path)


def test_a_directory_is_not_a_data_file(tmp_path):
    with pytest.raises(DataFileError, match="is a directory"):
        get_task("gsm8k", data=tmp_path)


def test_distractors_drop_commas_and_stop_at_four():
    """The module docstring: calculator results are the distractors, commas removed like the gold's, the gold
    left out, at most MAX_DISTRACTORS (4) of them in order of appearance."""
    assert intermediate_results("<<1000+234=1,234>> <<2*3=6>>", "6") == ["1234"]
    annotated = " ".join(f"<<{n}+0={n}>>" for n in (1, 2, 3, 4, 5, 6))
    assert intermediate_results(annotated, "99") == ["1", "2", "3", "4"]


def test_the_question_is_stripped(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"question": "  How many apples?\n", "answer": "3 + 4 = 7\n#### 7"}) + "\n")
    assert get_task("gsm8k", data=path).all_items()[0].question == "How many apples?"
