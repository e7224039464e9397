import pytest

from rolegraph.tasks import get_task
from rolegraph.tasks.gym import ARITH_CONFIG, DEFAULT_GYM_SIZE
from rolegraph.tasks.math_norm import to_fraction

SMALL = 40


@pytest.fixture(scope="module")
def gsm():
    return get_task("gsm", size=SMALL, seed=3)


@pytest.fixture(scope="module")
def arith():
    return get_task("arith", size=SMALL, seed=3)


def test_default_size_is_the_named_constant():
    assert len(get_task("arith").all_items()) == DEFAULT_GYM_SIZE


def test_same_seed_same_items_other_seed_other_items(gsm):
    again = get_task("gsm", size=SMALL, seed=3).all_items()
    other = get_task("gsm", size=SMALL, seed=4).all_items()
    assert [i.question for i in again] == [i.question for i in gsm.all_items()]
    assert [i.question for i in other] != [i.question for i in again]
    assert len({i.id for i in gsm.all_items()}) == SMALL


@pytest.mark.parametrize("name", ["gsm", "arith"])
def test_items_are_math_with_numeric_golds_and_distinct_distractors(name, request):
    task = request.getfixturevalue(name)
    assert (task.family, task.answer_kind, task.skipped) == ("math", "math", 0)
    for item in task.all_items():
        gold = to_fraction(item.gold)
        assert gold is not None and item.family == "math"
        assert all(to_fraction(d) not in (None, gold) for d in item.metadata["distractors"])


@pytest.mark.parametrize("name", ["gsm", "arith"])
def test_gold_scores_one_wrong_and_none_score_zero(name, request):
    task = request.getfixturevalue(name)
    for item in task.all_items():
        gold = item.gold
        assert task.score(gold, item) == 1.0
        assert task.score(f"{gold}.0", item) == 1.0
        assert task.score(f"Final answer: {gold}", item) == 1.0
        assert task.score(str(to_fraction(gold) + 1), item) == 0.0
        assert task.score(None, item) == 0.0
        assert task.score("no idea", item) == 0.0


def test_gsm_accepts_money_and_thousands_formatting(gsm):
    whole = [i for i in gsm.all_items() if to_fraction(i.gold).denominator == 1]
    item = max(whole, key=lambda i: to_fraction(i.gold))
    formatted = "${:,}".format(int(item.gold))
    assert "," in formatted or int(item.gold) < 1000
    assert gsm.score(formatted, item) == 1.0


def test_arith_is_multi_step_without_division(arith):
    for item in arith.all_items():
        expression = item.question.removeprefix("Calculate ").rstrip(".")
        operators = [tok for tok in expression.split() if tok in ("+", "-", "*", "/")]
        assert "/" not in operators
        assert len(operators) >= ARITH_CONFIG["min_terms"] - 1
        assert eval(expression) == int(item.gold)  # the gold is the true value of the expression


@pytest.mark.parametrize("name", ["gsm", "arith"])
def test_a_sign_slip_a_hedge_or_trailing_junk_is_wrong(name, request):
    """reasoning-gym's gsm checker read the first `\\b-?\\d+`, so all of these once scored 1.0."""
    task = request.getfixturevalue(name)
    for item in task.all_items():
        gold = item.gold
        wrong = [f"{gold} or 5", f"{gold}-", f"{gold}, or maybe 7", f"{gold} 12"]
        if to_fraction(gold) != 0:
            wrong.append(str(-to_fraction(gold)))
        assert [task.score(w, item) for w in wrong] == [0.0] * len(wrong), (item.id, gold)


def test_no_gsm_distractor_scores_as_right():
    task = get_task("gsm", size=60)
    item = task.all_items()[41]  # gsm/0/41: gold 454, first distractor -454 (a sign slip)
    assert (item.id, item.gold, item.metadata["distractors"][0]) == ("gsm/0/41", "454", "-454")
    for item in task.all_items():
        assert not any(task.score(d, item) for d in item.metadata["distractors"]), item.id
