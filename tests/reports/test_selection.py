"""The selection lines and the candidates table: the verdict words at their documented thresholds, the re-checked
count, the chosen mark, each figure in its own column. Expected texts are written out by hand from the docstrings
(CLEAR_P: "at or above which the choice is called clear"; LIKELY_P: "below which ... a near-tie")."""
from __future__ import annotations

import pytest

from rolegraph.optimize.final import FinalChoice
from rolegraph.optimize.final import TestScore as HeldOutScore
from rolegraph.reports.selection import candidate_rows, confidence_text, rechecked_count, selection_text

CLEAR = "a clear choice"
LIKELY = "likely the best of them, not certain"
NEAR_TIE = "a near-tie"


@pytest.mark.parametrize(("p", "verdict"), [(0.9, CLEAR), (0.89, LIKELY), (0.5, LIKELY), (0.49, NEAR_TIE)])
def test_the_verdict_at_the_thresholds(p, verdict):
    assert verdict in confidence_text({"p_best": p, "p_best_of": 3}, prefix="")


def test_two_candidates_get_a_line_and_one_gets_none():
    assert confidence_text({"p_best": 0.95, "p_best_of": 2}, prefix="") == (
        f"P(best of the 2 top candidates) 0.95, {CLEAR}"
    )
    assert confidence_text({"p_best": 1.0, "p_best_of": 1}) == ""


def test_the_line_counts_the_re_checked_candidates_apart():
    candidates = [{"validation_items": 8}, {"validation_items": 8}, {"validation_items": 0}, {}]
    assert rechecked_count(candidates) == 2
    row = {"p_best": 0.95, "p_best_of": 4}
    assert confidence_text(row, prefix="", candidates=candidates).startswith(
        "P(best of the 4 top candidates, 2 of them re-checked on validation items) 0.95"
    )
    every = [{"validation_items": 8}] * 4
    assert confidence_text(row, prefix="", candidates=every).startswith("P(best of the 4 re-checked candidates) 0.95")


def test_a_validation_accuracy_of_zero_is_shown_not_dropped():
    row = {"train_accuracy_raw": 0.5, "train_ci95": [0.2, 0.8], "train_items": 10,
           "validation_accuracy_raw": 0.0, "validation_ci95": [0.0, 0.3], "validation_items": 8}
    text = selection_text(row, prefix="")
    assert text.startswith("training 0.500 [0.200, 0.800] n=10; validation 0.000 [0.000, 0.300] n=8  (raw")


def _candidate(h: str, train: float, validation: float, combined: float) -> dict:
    return {"hash": h, "train_accuracy_raw": 0.5, "train_ci95": [0.1, 0.9], "train_items": 4,
            "validation_accuracy_raw": 0.25, "validation_ci95": [0.05, 0.7], "validation_items": 4,
            "train_objective": train, "validation_objective": validation, "combined_objective": combined,
            "p_best": 0.75}


def test_candidate_rows_mark_the_chosen_graph_and_keep_each_score_in_its_column():
    test = HeldOutScore(label="chosen", graph_hash="b" * 12, accuracy=0.5, ci95=(0.2, 0.8), n=10, latency_s=1.0,
                     dollars=0.0, flops_units=1.0, objective=0.5, simulated=True)
    final = FinalChoice(chosen_hash="b" * 12, candidates=[_candidate("a" * 12, 0.11, 0.22, 0.33),
                                                          _candidate("b" * 12, 0.44, 0.55, 0.66)], test=test)
    rows = candidate_rows(final)
    assert [r[0] for r in rows] == ["a" * 10, "b" * 10 + " (chosen)"]
    assert rows[1][1:] == ["0.500", "[0.100, 0.900]", "4", "0.250", "[0.050, 0.700]", "4", "0.440", "0.550",
                           "0.660", "0.750"]
