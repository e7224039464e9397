"""The oracle reference's arithmetic: the expected median over seeds of a search that stays or never does."""
from __future__ import annotations

import pytest

from benchmarks.oracle_floor import expected_median_stay, judge


def test_expected_median_of_four_searches_by_hand():
    # 4 seeds, each staying at 300 with chance 1/2, else counted as the cap 3000: 3 or 4 stay (5/16) -> 300;
    # exactly 2 (6/16) -> the mean of 300 and 3000; 0 or 1 (5/16) -> 3000
    assert expected_median_stay(0.5, 300, 3000, 4) == pytest.approx(5 / 16 * 300 + 6 / 16 * 1650 + 5 / 16 * 3000)
    assert expected_median_stay(1.0, 300, 3000, 4) == pytest.approx(300)
    assert expected_median_stay(0.0, 300, 3000, 4) == pytest.approx(3000)


def test_the_oracle_takes_its_best_split_and_is_compared_with_the_best_baseline():
    row = {"chance": {100: 0.25, 500: 0.95, 1000: 1.0}}
    base = {"best_baseline": {"stay": "tpe"}, "median": {"tpe": {"stay": 2000.0}, "agent-reinforce": {"stay": 2500.0}},
            "ratio": {"agent-reinforce": {"stay": 1.25}}}
    out = judge(row, base, top=3, cap=3000, seeds=4)
    # 1500 runs staying 95% of the time beats 300 runs staying 25% and 3000 runs staying always
    assert out["best_split"] == 500
    assert out["oracle_median_stay"] == pytest.approx(expected_median_stay(0.95, 1500, 3000, 4))
    assert out["oracle_ratio"] == pytest.approx(out["oracle_median_stay"] / 2000.0) and out["agent_ratio"] == 1.25
