import json

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks import get_task


@pytest.fixture
def task(fixtures):
    return get_task("hotpotqa", data=fixtures / "hotpotqa_tiny.json")


def test_loads_items_and_skips_the_one_without_an_answer(task):
    items = task.all_items()
    assert [i.id for i in items] == ["tiny-bridge-1", "tiny-comparison-2"]
    assert task.skipped == 1 and task.skipped_ids == ("tiny-noanswer-3",)
    assert (task.family, task.answer_kind) == ("qa", "qa")
    assert items[0].metadata["supporting_titles"] == ["Ada Lovelace", "Charles Babbage"]


def test_corpus_holds_each_context_title_once_including_skipped_items(task):
    corpus = task.corpus()
    titles = [doc["title"] for doc in corpus]
    assert len(titles) == len(set(titles))
    assert set(titles) == {"Ada Lovelace", "Charles Babbage", "Difference engine", "Jacquard machine",
                           "Mary Somerville", "Stirling engine"}
    babbage = next(doc for doc in corpus if doc["title"] == "Charles Babbage")
    assert babbage["text"] == "Charles Babbage was an English mathematician. He designed the Analytical Engine."


def test_distractors_are_other_titles_or_the_opposite_of_yes_no(task):
    bridge, comparison = task.all_items()
    assert bridge.metadata["distractors"] == ["Ada Lovelace", "Charles Babbage", "Difference engine",
                                              "Jacquard machine"]
    assert comparison.metadata["distractors"] == ["no"]
    assert bridge.answer_key().distractors == bridge.metadata["distractors"]


def test_exact_match_by_default_and_f1_on_request(task, fixtures):
    bridge = task.all_items()[0]
    assert task.score("the analytical engine", bridge) == 1.0
    assert task.score("Babbage's Analytical Engine design", bridge) == 0.0
    assert task.score(None, bridge) == 0.0
    f1_task = get_task("hotpotqa", data=fixtures / "hotpotqa_tiny.json", metric="f1")
    assert 0.0 < f1_task.score("Babbage's Analytical Engine design", bridge) < 1.0


def test_jsonl_records_are_read_too(tmp_path, fixtures):
    records = json.loads((fixtures / "hotpotqa_tiny.json").read_text())
    path = tmp_path / "hotpot.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert [i.id for i in get_task("hotpotqa", data=path).all_items()] == ["tiny-bridge-1", "tiny-comparison-2"]


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[\n{"_id": "a", "question": "q", "answer": "x", "context": []},\n{"_id": "b",,}\n]')
    with pytest.raises(DataFileError, match=r"broken.json:3: not valid JSON"):
        get_task("hotpotqa", data=path)


def test_a_context_of_the_wrong_shape_names_the_record(tmp_path):
    path = tmp_path / "shape.json"
    path.write_text(json.dumps([{"_id": "a", "question": "q", "answer": "x", "context": [["T", "not a list"]]}]))
    with pytest.raises(DataFileError, match=r"record 0: 'context' should be \[\[title, \[sentences\]\]"):
        get_task("hotpotqa", data=path)


def test_a_file_that_is_neither_json_list_nor_jsonl(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("title,question\n")
    with pytest.raises(DataFileError, match=r"x.json:1: expected HotpotQA JSON"):
        get_task("hotpotqa", data=path)
