"""agreement_real's counting, without the model: a tied top count has no majority, whatever the samples' order."""
from __future__ import annotations

import itertools

import pytest

from benchmarks.agreement_real import majority, summarise


def test_a_two_two_tie_has_no_majority_in_any_order():
    answers = ["le bristol", "paris", "rome", "le bristol", "paris"]
    for order in itertools.permutations(answers):
        assert majority(list(order)) == (None, 2, True)


def test_a_clear_majority_is_found_in_any_order_and_unanswered_samples_vote_for_nothing():
    for order in itertools.permutations(["7", "7", "28", None, None]):
        assert majority(list(order)) == ("7", 2, False)
    assert majority([None] * 5) == (None, 0, False)
    assert majority(["1", "2", "3", "4", "5"]) == (None, 1, True)


def _row(kind, gold, answers):
    top, share, tied = majority(answers)
    return {"kind": kind, "gold": gold, "answers": answers, "share": share, "tied": tied,
            "majority_right": top == gold, "one_sample_right": sum(a == gold for a in answers) / 5}


def test_a_tie_counts_under_its_share_as_not_right_and_as_tied():
    rows = [_row("capitals", "paris", ["paris", "lyon", "paris", "lyon", "nice"]),  # 2-2-1: tied, not right
            _row("capitals", "paris", ["paris", "paris", "lyon", "nice", "rome"]),  # 2-1-1-1: right
            _row("capitals", "rome", ["rome"] * 5)]
    s = summarise(rows)["capitals"]
    assert s["by_share"][2] == {"items": 2, "majority_right": 1, "tied": 1}
    assert s["by_share"][5] == {"items": 1, "majority_right": 1, "tied": 0}
    assert s["tied"] == 1 and s["majority_right"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("argv", [["--arith", "-1"], ["--capitals", "x"]])
def test_a_negative_count_is_one_line_and_exit_2(argv, capsys, tmp_path):
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["agreement_real", "--out", str(tmp_path), *argv])
    assert exc.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("kwargs", [{"arith": 0, "capitals": 0}, {"capitals": 26}, {"arith": -1}])
def test_run_refuses_impossible_counts_before_starting_the_server(kwargs, tmp_path):
    from benchmarks.agreement_real import run
    from benchmarks.common import UsageError

    with pytest.raises(UsageError):
        run(out_dir=tmp_path, **kwargs)
