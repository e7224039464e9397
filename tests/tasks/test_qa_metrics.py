import pytest

from rolegraph.tasks.qa_metrics import exact_match, f1_score, normalize_answer


def test_normalisation_drops_case_punctuation_articles_and_extra_spaces():
    assert normalize_answer("  The  Analytical-Engine! ") == "analyticalengine"
    assert normalize_answer("An apple, a day") == "apple day"


def test_exact_match_after_normalisation():
    assert exact_match("the Eiffel Tower.", "Eiffel Tower") == 1.0
    assert exact_match("Eiffel", "Eiffel Tower") == 0.0
    assert exact_match(None, "Eiffel Tower") == 0.0


def test_f1_gives_partial_credit_from_token_overlap():
    score = f1_score("Eiffel Tower in Paris", "the Eiffel Tower")
    precision, recall = 2 / 4, 2 / 2
    assert score == pytest.approx(2 * precision * recall / (precision + recall))
    assert f1_score("Louvre", "Eiffel Tower") == 0.0
    assert f1_score(None, "x") == 0.0


def test_yes_no_answers_get_no_partial_credit():
    assert f1_score("yes they were", "yes") == 0.0
    assert f1_score("Yes", "yes") == 1.0
    assert f1_score("no", "no answer here") == 0.0


def test_noanswer_is_a_closed_answer_as_in_the_official_hotpotqa_f1():
    """hotpot_evaluate_v1.py f1_score: a normalised prediction or gold in ['yes', 'no', 'noanswer'] that differs from
    the other scores 0, so 'noanswer' against 'noanswer today' gets no token credit (overlap 1 would give 2/3)."""
    assert f1_score("noanswer", "noanswer today") == 0.0
    assert f1_score("noanswer today", "noanswer") == 0.0
    assert f1_score("No-answer", "noanswer") == 1.0  # the hyphen is punctuation: both normalise to 'noanswer'
