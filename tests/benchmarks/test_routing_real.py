"""The routing benchmark's real-model tally (`routing_real.by_agreement`): a tie has no majority answer, whatever
order the samples came in, and a question no sample answered is not counted as one sample agreeing."""

from __future__ import annotations

from itertools import permutations

import pytest

from benchmarks.routing_real import by_agreement, render


def test_three_different_answers_have_no_majority_even_when_the_first_is_right():
    # the old rule took the first of the tied answers: this question counted as a right 1/3 majority
    got = by_agreement([(["5", "3", "7"], "5")])
    assert got["1/3"] == {"n": 1, "accuracy": 0.0, "tied": 1}


@pytest.mark.parametrize("order", list(permutations(["5", "3", None])))
def test_a_tie_is_the_same_in_any_order(order):
    assert by_agreement([(list(order), "5")])["1/3"] == {"n": 1, "accuracy": 0.0, "tied": 1}


def test_a_majority_is_counted_under_its_share_and_is_right_or_not():
    got = by_agreement(
        [(["5", "5", "3"], "5"), (["3", "5", "3"], "5"), (["5", "5", "5"], "5"), ([None, "5", None], "5")]
    )
    assert got["2/3"] == {"n": 2, "accuracy": 0.5, "tied": 0}
    assert got["3/3"] == {"n": 1, "accuracy": 1.0, "tied": 0}
    assert got["1/3"] == {"n": 1, "accuracy": 1.0, "tied": 0}  # one answer, the others unanswered: not a tie


def test_a_question_no_sample_answered_is_under_0_of_3():
    got = by_agreement([([None, None, None], "5")])
    assert got["0/3"] == {"n": 1, "accuracy": 0.0, "tied": 0} and got["1/3"]["n"] == 0


def test_the_section_says_how_many_were_tied_and_the_rule():
    real = {
        "majority_accuracy_by_agreement": by_agreement([(["5", "3", "7"], "5"), (["5", "5", "5"], "5")]),
        "logprob_auroc": 0.5,
        "samples_with_logprobs": 6,
        "samples_right": 4,
    }
    text = render(real)
    assert "| 1/3 | 1 | 0.0 | 1 |" in text and "no majority answer" in text and "(real, not simulated)" in text


def test_a_skipped_section_is_not_announced_as_measuring_agreement(capsys):
    # `routing --real-items 0` printed "routing: agreement and correctness on the real local model" and then ran
    # nothing; its Markdown put "Skipped: ..." under that same heading
    from pathlib import Path

    from benchmarks.routing_real import real_local

    real = real_local({"real_items": 0}, Path("unused"))
    said = capsys.readouterr().err
    assert "agreement and correctness" not in said.lower()
    assert "not run" in said and "--real-items 0" in said
    md = render(real)
    assert "agreement and correctness" not in md.lower()
    assert md.startswith("## Real local model: not run\n") and "Skipped: no real-model items" in md
