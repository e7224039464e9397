import pytest

from rolegraph.errors import DataFileError, TaskError
from rolegraph.tasks import get_task


def test_named_fields_family_qa_and_ids(fixtures):
    task = get_task("jsonl", data=fixtures / "qa_custom.jsonl", question_field="prompt", answer_field="target",
                    id_field="uid", family="qa")
    items = task.all_items()
    assert [(i.id, i.gold) for i in items] == [("q1", "Blue"), ("q2", "mercury")]
    assert task.skipped == 1
    assert (task.family, task.answer_kind, items[0].family) == ("qa", "qa", "qa")
    assert items[0].metadata["topic"] == "nature"
    # the named fields are the item's own (question, gold, id): the answer kept in metadata too would be a copy of
    # the gold beside the question, in what a role or the trace may show
    assert not {"prompt", "target", "uid"} & set(items[0].metadata)
    assert task.score("blue.", items[0]) == 1.0 and task.score("red", items[0]) == 0.0


def test_math_family_scores_with_math_equivalence(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"question": "half of one?", "answer": "1/2"}\n')
    task = get_task("jsonl", data=path)
    item = task.all_items()[0]
    assert item.id == "jsonl/0"
    assert task.score(r"\frac{1}{2}", item) == 1.0 and task.score("2", item) == 0.0


def test_mmlu_family_with_a_choices_field(tmp_path):
    path = tmp_path / "mc.jsonl"
    path.write_text('{"q": "2+2?", "opts": ["3", "4", "5", "6"], "key": 1}\n')
    task = get_task("jsonl", data=path, question_field="q", answer_field="key", choices_field="opts", family="mmlu")
    item = task.all_items()[0]
    assert item.gold == "B" and "\nB. 4" in item.question
    assert task.score("B", item) == 1.0 and task.score("4", item) == 1.0


def test_a_missing_question_field_names_the_field_and_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"prompt": "q", "answer": "1"}\n')
    with pytest.raises(DataFileError, match=r"x.jsonl:1: missing field 'question'; expected JSONL \{question"):
        get_task("jsonl", data=path)


def test_code_is_not_a_family_this_loader_can_score(fixtures):
    with pytest.raises(TaskError, match="family='code' should be one of math, qa, mmlu"):
        get_task("jsonl", data=fixtures / "qa_custom.jsonl", family="code")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_an_empty_question_is_refused_like_a_missing_one(tmp_path, blank):
    """It was accepted and sent to the model, where `rolegraph run` refuses an empty question."""
    import json

    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"question": "What is 1 + 1?", "answer": "2"}) + "\n"
                    + json.dumps({"question": blank, "answer": "1"}) + "\n")
    with pytest.raises(DataFileError, match=r"x.jsonl:2: field 'question' is empty; expected JSONL \{question"):
        get_task("jsonl", data=path)
    other = tmp_path / "y.jsonl"
    other.write_text(json.dumps({"prompt": blank, "answer": "1"}) + "\n")
    with pytest.raises(DataFileError, match=r"y.jsonl:1: field 'prompt' is empty"):
        get_task("jsonl", data=other, question_field="prompt")


def test_an_id_field_no_record_has_is_refused_like_a_missing_answer_field(fixtures):
    """A misspelled id_field made every id jsonl/0, jsonl/1... without a word."""
    with pytest.raises(DataFileError, match=r"no record has the id field 'nope' \(option id_field\).*'uid'"):
        get_task("jsonl", data=fixtures / "qa_custom.jsonl", question_field="prompt", answer_field="target",
                 id_field="nope", family="qa")


def test_without_an_id_field_ids_are_numbered_and_some_records_may_lack_one(tmp_path):
    path = tmp_path / "ids.jsonl"
    path.write_text('{"question": "a?", "answer": "1", "key": "k1"}\n{"question": "b?", "answer": "2"}\n')
    assert [i.id for i in get_task("jsonl", data=path).all_items()] == ["jsonl/0", "jsonl/1"]
    assert [i.id for i in get_task("jsonl", data=path, id_field="key").all_items()] == ["k1", "jsonl/1"]


def test_a_choices_list_that_is_not_four_long_is_refused(tmp_path):
    """Three choices under letters A-D would leave D naming nothing: the record is malformed, said with its line."""
    path = tmp_path / "mc.jsonl"
    path.write_text('{"q": "2+2?", "opts": ["3", "4", "5"], "key": "B"}\n')
    with pytest.raises(DataFileError, match=r"mc.jsonl:1: field 'opts' should be a list of 4 choices"):
        get_task("jsonl", data=path, question_field="q", answer_field="key", choices_field="opts", family="mmlu")


def test_family_qa_scores_exact_match_by_default_and_token_f1_on_request(tmp_path):
    """SQuAD F1 of 'Eiffel Tower in Paris' against 'the Eiffel Tower': precision 2/4, recall 2/2, so F1 2/3."""
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "Where?", "answer": "the Eiffel Tower"}\n')
    em = get_task("jsonl", data=path, family="qa")
    f1 = get_task("jsonl", data=path, family="qa", metric="f1")
    assert em.score("Eiffel Tower in Paris", em.all_items()[0]) == 0.0
    assert f1.score("Eiffel Tower in Paris", f1.all_items()[0]) == pytest.approx(2 / 3)
