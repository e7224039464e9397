"""`math_score` on free text: a prediction still holding its working (several lines, a 'Final answer:' marker,
an 'answer is' phrase, in any case) is scored on the answer it ends with, so a right final answer scores 1.0
and a wrong one 0.0, whatever numbers the working mentions on the way."""
from __future__ import annotations

import pytest

from rolegraph.tasks.scoring import math_score

GOLD = "7"

RIGHT = [
    "We add 3 and 4.\n7",  # several lines, no marker: the last line is the answer
    "Final answer: 7",  # the marker on a single line
    "FINAL ANSWER: 7",  # in capitals
    "So the answer is 7",
    "So The Answer Is 7",
    "3 + 4 = 7, so the answer is 7.",
]

WRONG = [
    "We add 3 and 4 to get 7.\nThen double it: 14.\nFinal answer: 14",
    "Final answer: 8",
    "FINAL ANSWER: 8",
    "7 is tempting, but the answer is 8",
    "We add 3 and 4.\n8",
]


@pytest.mark.parametrize("prediction", RIGHT)
def test_a_right_final_answer_in_free_text_scores_one(prediction):
    assert math_score(prediction, GOLD) == 1.0


@pytest.mark.parametrize("prediction", WRONG)
def test_a_wrong_final_answer_in_free_text_scores_zero(prediction):
    assert math_score(prediction, GOLD) == 0.0


@pytest.mark.parametrize("gold", [None, "7"])
def test_no_prediction_scores_zero(gold):
    assert math_score(None, gold) == 0.0
    assert math_score("7", None) == 0.0
