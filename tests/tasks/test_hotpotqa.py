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


def _record(answer, titles, _id="r1"):
    return {"_id": _id, "question": "q?", "answer": answer, "supporting_facts": [],
            "context": [[t, [f"{t} is a thing."]] for t in titles]}


def test_the_gold_title_is_no_distractor_and_a_capitalised_yes_gets_no(tmp_path):
    """Distractors are the other titles (the gold's own title, in any case or with an article, is the right answer,
    not a wrong one); a comparison's 'Yes' is yes, whose distractor is 'no'."""
    path = tmp_path / "h.json"
    path.write_text(json.dumps([_record("The Eiffel Tower", ["Eiffel tower", "Louvre"]),
                                _record("Yes", ["A", "B"], _id="r2")]))
    bridge, comparison = get_task("hotpotqa", data=path).all_items()
    assert bridge.metadata["distractors"] == ["Louvre"]
    assert comparison.metadata["distractors"] == ["no"]


def test_a_json_list_after_a_byte_order_mark_is_read(tmp_path):
    """Editors on Windows save JSON with a UTF-8 byte-order mark: the file is still a JSON list, not JSONL."""
    path = tmp_path / "h.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([_record("Louvre", ["Louvre"])], indent=1).encode())
    assert [i.gold for i in get_task("hotpotqa", data=path).all_items()] == ["Louvre"]


def test_the_question_is_stripped(tmp_path):
    path = tmp_path / "h.json"
    record = _record("Louvre", ["Louvre"]) | {"question": "\n  Which museum?  "}
    path.write_text(json.dumps([record]))
    assert get_task("hotpotqa", data=path).all_items()[0].question == "Which museum?"
