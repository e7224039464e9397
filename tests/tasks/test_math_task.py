import json

import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks import get_task
from rolegraph.tasks.math_task import math_gold


@pytest.fixture
def task(fixtures):
    return get_task("math", data=fixtures / "math_tiny.jsonl")


def test_gold_is_the_answer_field_else_the_last_boxed(task):
    items = task.all_items()
    assert [i.gold for i in items] == [r"\frac{1}{2}", "(-2,2)", "180", r"120^\circ"]
    assert task.skipped == 1  # no answer field and no \boxed{} in the solution


def test_metadata_reads_both_the_prm800k_and_the_original_layouts(task):
    first, _, hendrycks, _ = task.all_items()
    assert first.id == "test/prealgebra/tiny-1.json"
    assert (first.metadata["subject"], first.metadata["level"]) == ("Prealgebra", 1)
    assert hendrycks.id == "math/2"
    assert (hendrycks.metadata["subject"], hendrycks.metadata["level"]) == ("Prealgebra", 1)


def test_scoring_uses_latex_equivalence(task):
    half, interval, product, angle = task.all_items()
    assert task.score("0.5", half) == task.score(r"\dfrac12", half) == 1.0
    assert task.score(r"\left( -2, 2 \right)", interval) == 1.0
    assert task.score("[-2,2]", interval) == 0.0
    assert task.score("180.0", product) == 1.0
    assert task.score("120 degrees", angle) == 1.0
    assert task.score("The answer is $\\boxed{120}$.\n", angle) == 1.0
    assert task.score(None, half) == 0.0


def test_math_gold_helper():
    assert math_gold({"answer": " 3 ", "solution": r"\boxed{4}"}) == "3"
    assert math_gold({"answer": "", "solution": r"so \boxed{4} then \boxed{5}"}) == "5"
    assert math_gold({"solution": "no box"}) is None
    assert math_gold({"answer": 7}) == "7"


def test_a_record_without_a_problem_names_its_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"problem": "1+1?", "answer": "2"}\n{"question": "2+2?", "answer": "4"}\n')
    with pytest.raises(DataFileError, match=r"m.jsonl:2: missing field 'problem'; expected JSONL \{problem"):
        get_task("math", data=path)


def test_a_hendrycks_gold_boxed_without_braces_is_read(tmp_path):
    """MATH solutions write `$\\boxed 5$`: the gold is 5, not a brace further on, and the record is not skipped."""
    path = tmp_path / "m.jsonl"
    rows = [{"problem": "p1", "solution": "So the answer is $\\boxed 5$."},
            {"problem": "p2", "solution": "The answer is $\\boxed 2$. Note \\frac{1}{2} too."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = get_task("math", data=path)
    assert [i.gold for i in task.all_items()] == ["5", "2"] and task.skipped == 0
