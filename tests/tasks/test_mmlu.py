import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks import get_task
from rolegraph.tasks.mmlu import gold_letter, prediction_letter


@pytest.fixture
def task(fixtures):
    return get_task("mmlu", data=fixtures / "mmlu_tiny.jsonl")


def test_jsonl_golds_are_letters_and_an_unusable_answer_is_skipped(task):
    items = task.all_items()
    assert [i.gold for i in items] == ["B", "C"]  # the index 2 becomes C; "E" is skipped
    assert task.skipped == 1
    assert (task.family, task.answer_kind) == ("mmlu", "mmlu")
    assert items[0].metadata["subject"] == "astronomy"


def test_the_question_shows_the_lettered_choices(task):
    item = task.all_items()[0]
    assert item.question.startswith("Which planet is closest to the Sun?")
    for letter, choice in zip("ABCD", item.choices):
        assert f"\n{letter}. {choice}" in item.question


@pytest.mark.parametrize(("prediction", "expected"), [
    ("B", 1.0), ("b", 1.0), ("(B)", 1.0), ("B. Mercury", 1.0), ("The answer is B", 1.0), ("Mercury", 1.0),
    ("mercury.", 1.0), ("A", 0.0), ("A cat", 0.0), ("Venus", 0.0), ("", 0.0), (None, 0.0),
])
def test_scoring_reads_the_letter_or_the_choice_text(task, prediction, expected):
    assert task.score(prediction, task.all_items()[0]) == expected


def test_the_original_csv_layout_one_file_or_a_directory(fixtures):
    one = get_task("mmlu", data=fixtures / "mmlu_csv" / "college_physics_test.csv")
    items = one.all_items()
    assert [i.gold for i in items] == ["C", "A"]
    assert items[0].metadata["subject"] == "college_physics"
    assert items[1].choices[3] == "Charge, only"
    both = get_task("mmlu", data=fixtures / "mmlu_csv")
    assert len(both.all_items()) == 3
    marketing = both.all_items()[-1]
    assert marketing.metadata["subject"] == "marketing" and 'The "four Ps"' in marketing.question


def test_a_csv_row_with_the_wrong_column_count_names_its_line(tmp_path):
    path = tmp_path / "law_test.csv"
    path.write_text('"q1",a,b,c,d,A\n"q2",a,b,c,D\n')
    with pytest.raises(DataFileError, match=r"law_test.csv:2: 5 columns, expected 6"):
        get_task("mmlu", data=path)


def test_choices_must_be_four(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"subject": "s", "question": "q", "choices": ["a", "b"], "answer": "A"}\n')
    with pytest.raises(DataFileError, match=r"m.jsonl:1: 'choices' should be a list of 4"):
        get_task("mmlu", data=path)


def test_a_directory_without_csv_files(tmp_path):
    with pytest.raises(DataFileError, match="no .csv files"):
        get_task("mmlu", data=tmp_path)


def test_letter_helpers():
    assert [gold_letter(v) for v in ("a", " D ", 0, 3, 4, "E", None, True)] == ["A", "D", "A", "D", None, None,
                                                                                 None, None]
    assert prediction_letter("C)", None) == "C"
    assert prediction_letter("Option: D", None) == "D"
    assert prediction_letter("Don't know", None) is None


def _hendrycks_layout(root):
    """The original data/ layout: the same subject in dev/, val/, test/, plus auxiliary_train/."""
    for split, rows in {"dev": "d1,a,b,c,d,A\n", "val": "v1,a,b,c,d,B\n", "test": "t1,a,b,c,d,C\nt2,a,b,c,d,D\n",
                        "auxiliary_train": "x1,a,b,c,d,A\n"}.items():
        (root / split).mkdir()
        name = "train.csv" if split == "auxiliary_train" else f"abstract_algebra_{split}.csv"
        (root / split / name).write_text(rows)
    return root


def test_the_original_layout_reads_only_test_with_stable_ids(tmp_path):
    task = get_task("mmlu", data=_hendrycks_layout(tmp_path))
    items = task.all_items()
    assert [i.metadata["question_text"] for i in items] == ["t1", "t2"]
    assert [i.id for i in items] == ["mmlu/abstract_algebra/0", "mmlu/abstract_algebra/1"]


def test_a_directory_without_test_reads_every_csv(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "law_test.csv").write_text("q1,a,b,c,d,A\n")
    (tmp_path / "sub" / "art_test.csv").write_text("q2,a,b,c,d,B\n")
    assert sorted(i.id for i in get_task("mmlu", data=tmp_path).all_items()) == ["mmlu/art/0", "mmlu/law/0"]


def test_an_empty_test_folder_is_named(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "law_dev.csv").write_text("q1,a,b,c,d,A\n")
    with pytest.raises(DataFileError, match=r"test: no .csv files"):
        get_task("mmlu", data=tmp_path)


@pytest.mark.parametrize(("prediction", "letter"), [
    ("Answer: D\nExplanation: option A is wrong because it ignores friction.", "D"),
    ("Looking at option a and option b, I choose C.\nC", "C"),
    ("The answer is a tricky one; overall D is right.", "D"),
    ("Final answer: \\text{B}", "B"),
    ("[B]", "B"),
])
def test_scoring_reads_the_chosen_letter_not_an_article_or_a_discussed_option(prediction, letter):
    assert prediction_letter(prediction, None) == letter


@pytest.mark.parametrize("reply", [
    "B. Mercury", "Mercury", "Final answer: Mercury", "Final answer: The closest planet is Mercury (B)",
    "Final answer: A is incorrect, so the answer is B",
])
def test_a_reply_naming_the_choice_in_any_documented_form_scores(task, reply):
    """The role's parser and the task's score together: what prediction_letter documents reaches it."""
    from rolegraph.agents.parsers import parse_answer

    item = task.all_items()[0]  # gold B, Mercury
    assert task.score(parse_answer(reply, "mmlu").answer, item) == 1.0
    assert task.score(parse_answer(reply.replace("Mercury", "Venus").replace("B", "A"), "mmlu").answer, item) == 0.0


def test_a_choice_with_spaces_around_it_is_matched_by_its_text(tmp_path):
    """CSV cells keep the spaces after the commas ('q, Paris , Rome, ...'): the reply 'Paris' names choice A."""
    path = tmp_path / "geo_test.csv"
    path.write_text("Capital of France?, Paris , Rome, Oslo, Bern,A\n")
    task = get_task("mmlu", data=path)
    item = task.all_items()[0]
    assert task.score("paris.", item) == 1.0
    assert task.score("Rome", item) == 0.0


def test_a_csv_row_of_empty_cells_is_skipped_not_an_item(tmp_path):
    """A spreadsheet's trailing row of empty cells (',,,,,') is blank, like an empty line: no item, no error."""
    path = tmp_path / "law_test.csv"
    path.write_text("q1,a,b,c,d,A\n, , ,,,\nq2,a,b,c,d,B\n")
    items = get_task("mmlu", data=path).all_items()
    assert [i.metadata["question_text"] for i in items] == ["q1", "q2"]
    assert [i.id for i in items] == ["mmlu/law/0", "mmlu/law/1"]
