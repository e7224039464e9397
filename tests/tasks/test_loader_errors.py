"""Loaders given a file with a byte-order mark, or with no usable record: the BOM is ignored, and
'nothing usable' is one DataFileError naming the file, the first bad line and the expected format."""
from __future__ import annotations

import json

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks import get_task

BOM = b"\xef\xbb\xbf"


def _write(path, text: str, bom: bool = True):
    path.write_bytes((BOM if bom else b"") + text.encode())
    return path


def test_jsonl_with_a_bom(tmp_path):
    path = _write(tmp_path / "qa.jsonl", '{"question": "1+1?", "answer": "2"}\n{"question": "2+2?", "answer": "4"}\n')
    task = get_task("jsonl", data=path)
    assert [(i.question, i.gold) for i in task.all_items()] == [("1+1?", "2"), ("2+2?", "4")]


def test_gsm8k_with_a_bom(tmp_path):
    path = _write(tmp_path / "g.jsonl", json.dumps({"question": "q", "answer": "so 3\n#### 3"}) + "\n")
    assert [i.gold for i in get_task("gsm8k", data=path).all_items()] == ["3"]


def test_mmlu_csv_and_jsonl_with_a_bom(tmp_path):
    csv_path = _write(tmp_path / "law_test.csv", "Which?,w,x,y,z,B\nWhat?,w,x,y,z,D\n")
    items = get_task("mmlu", data=csv_path).all_items()
    assert [i.gold for i in items] == ["B", "D"]
    assert items[0].question.startswith("Which?") and items[0].metadata["question_text"] == "Which?"
    jsonl_path = _write(tmp_path / "m.jsonl", json.dumps({"subject": "s", "question": "Q?", "choices": list("wxyz"),
                                                          "answer": "C"}) + "\n")
    assert [i.gold for i in get_task("mmlu", data=jsonl_path).all_items()] == ["C"]


@pytest.mark.parametrize("as_list", [True, False])
def test_hotpotqa_with_a_bom(tmp_path, as_list):
    record = {"_id": "h1", "question": "Who?", "answer": "Ann", "supporting_facts": [["T", 0]],
              "context": [["T", ["Ann did it."]]]}
    text = json.dumps([record]) if as_list else json.dumps(record) + "\n"
    path = _write(tmp_path / "h.json", text)
    assert [(i.id, i.gold) for i in get_task("hotpotqa", data=path).all_items()] == [("h1", "Ann")]


def test_gsm8k_without_gold_markers_names_the_file_and_first_line(tmp_path):
    path = _write(tmp_path / "g.jsonl", "\n" + json.dumps({"question": "q", "answer": "it is 3"}) + "\n"
                  + json.dumps({"question": "q2", "answer": "it is 4"}) + "\n", bom=False)
    with pytest.raises(DataFileError) as info:
        get_task("gsm8k", data=path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: task 'gsm8k' found no usable record (none of 2 has a usable gold answer")
    assert "expected" in message and "\n" not in message


@pytest.mark.parametrize(("task", "name"), [("gsm8k", "e.jsonl"), ("jsonl", "e.jsonl"), ("mmlu", "e_test.csv"),
                                            ("math", "e.jsonl")])
def test_an_empty_file_says_it_has_no_records(tmp_path, task, name):
    path = _write(tmp_path / name, "\n\n", bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}: no records; expected "):
        get_task(task, data=path)


def test_jsonl_without_usable_answers_quotes_its_format(tmp_path):
    path = _write(tmp_path / "q.jsonl", '{"prompt": "q", "target": " "}\n', bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}:1: task 'jsonl' found no usable record .*"
                                            r"expected JSONL \{prompt, target\}$"):
        get_task("jsonl", data=path, question_field="prompt", answer_field="target")


def test_mmlu_with_no_usable_letter_names_the_row(tmp_path):
    path = _write(tmp_path / "law_test.csv", "q1,a,b,c,d,E\nq2,a,b,c,d,F\n", bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}:1: task 'mmlu' found no usable record .*expected MMLU"):
        get_task("mmlu", data=path)


@pytest.mark.parametrize(("task", "record"), [
    ("gsm8k", {"question": "q", "answer": True}),
    ("jsonl", {"question": "q", "answer": ["1", "2"]}),
    ("math", {"problem": "p", "answer": False}),
])
def test_a_non_text_answer_is_an_error_naming_file_line_and_field(tmp_path, task, record):
    path = _write(tmp_path / "x.jsonl", "\n" + json.dumps(record) + "\n", bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}:2: field 'answer' should be text or a number, got (bool|list)"):
        get_task(task, data=path)


def test_hotpotqa_non_text_answer_names_the_record(tmp_path):
    path = _write(tmp_path / "h.json", json.dumps([{"question": "q", "answer": True, "context": []}]), bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}: record 0: field 'answer' should be text or a number"):
        get_task("hotpotqa", data=path)


def test_gsm8k_and_math_files_without_a_usable_gold_name_their_own_format(tmp_path):
    from rolegraph.errors import RolegraphError
    from rolegraph.tasks.registry import get_task

    gsm = tmp_path / "g.jsonl"
    gsm.write_text('{"question": "2+2?", "answer": "4"}\n')  # no '####'
    with pytest.raises(RolegraphError, match=r"g.jsonl:1: .*expected JSONL \{question, answer\} \(gold after '####'\)"):
        get_task("gsm8k", data=gsm).all_items()
    math = tmp_path / "m.jsonl"
    math.write_text('{"problem": "2+2?", "solution": "no boxed answer here"}\n')
    with pytest.raises(RolegraphError, match=r"m.jsonl:1: .*expected JSONL \{problem, solution"):
        get_task("math", data=math).all_items()


@pytest.mark.parametrize(("task", "record", "field"), [
    ("gsm8k", {"question": "", "answer": "so 1\n#### 1"}, "question"),
    ("math", {"problem": " ", "answer": "1"}, "problem"),
    ("mmlu", {"question": "", "choices": ["a", "b", "c", "d"], "answer": 0}, "question"),
    ("hotpotqa", {"question": "", "answer": "x", "context": []}, "question"),
])
def test_every_loader_refuses_an_empty_question_naming_file_line_and_field(tmp_path, task, record, field):
    """The same rule as a missing field (files.field_str): the record is malformed, the file is refused."""
    path = _write(tmp_path / "x.jsonl", "\n" + json.dumps(record) + "\n", bom=False)
    with pytest.raises(DataFileError, match=rf"^{path}:2: field '{field}' is empty"):
        get_task(task, data=path)


def test_an_mmlu_csv_row_with_a_blank_question_names_the_row(tmp_path):
    path = _write(tmp_path / "law_test.csv", "q1,a,b,c,d,A\n  ,a,b,c,d,B\n", bom=False)
    with pytest.raises(DataFileError, match=r"law_test.csv:2: the question \(first column\) is empty"):
        get_task("mmlu", data=path).all_items()
