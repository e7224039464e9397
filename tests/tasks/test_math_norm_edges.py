"""Answer normalisation at its edges, each a way a right answer could be scored wrong or a wrong one right:
mixed numbers with a unit denominator or a zero one, a multiple-choice letter with one parenthesis, a leading
plus sign and a sentence-final period on a non-numeric answer, and answers that normalise to nothing."""
from __future__ import annotations

import pytest

from rolegraph.tasks.math_norm import math_equal


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        (r"3\frac{2}{1}", "5"),  # the mixed number 3 2/1 is 3 + 2 = 5
        (r"-1\frac{3}{1}", "-4"),
        ("C)", "C"),  # a choice letter written with one parenthesis
        ("(C", "C"),
        (r"+\sqrt{2}", r"\sqrt{2}"),  # a leading + is presentation on any answer, not only on numbers
        (r"+\pi", r"\pi"),
        (r"3\sqrt{2}.", r"3\sqrt{2}"),  # a sentence-final period
        (r"\pi.", r"\pi"),
    ],
)
def test_presentation_variants_are_equal_both_ways(prediction, gold):
    assert math_equal(prediction, gold)
    assert math_equal(gold, prediction)


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        (r"3\frac{2}{1}", "32"),  # read as the mixed number 5, never as the digits 3 and 2/1 run together
        (r"3\frac{2}{1}", "6"),
        ("C)", "D"),
        (r"-\sqrt{2}", r"\sqrt{2}"),
    ],
)
def test_different_answers_stay_different(prediction, gold):
    assert not math_equal(prediction, gold)
    assert not math_equal(gold, prediction)


def test_a_mixed_number_with_a_zero_denominator_is_wrong_not_an_error():
    assert math_equal(r"2\frac{1}{0}", "2") is False
    assert math_equal(r"2\frac{1}{0}", r"2\frac{1}{0}") is True  # the same text is still the same text


@pytest.mark.parametrize(("prediction", "gold"), [("", ""), ("$", r"\%"), (" ", "$$"), (r"\text{}", "")])
def test_answers_that_normalise_to_nothing_are_never_equal(prediction, gold):
    assert math_equal(prediction, gold) is False


def test_a_list_written_with_a_space_is_not_a_thousands_number():
    """'1, 125' lists two solutions: read as 1,125 it made the wrong answer 1125 right and the right answer in
    another order ('125, 1') wrong; '1,125' (no space) stays one thousands number."""
    from rolegraph.tasks.math_norm import math_equal

    assert not math_equal("1125", "1, 125") and not math_equal("3500", "3, 500")
    assert math_equal("125, 1", "1, 125")
    assert math_equal("1125", "1,125") and math_equal("1,125", "1125")
