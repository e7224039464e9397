"""Statistics against values worked out by hand (formulas in the comments)."""
from __future__ import annotations

import math

import pytest

from rolegraph.evaluate.stats import EXACT_MCNEMAR_MAX, mcnemar, mean, p95, paired_bootstrap, wilson_interval


def test_wilson_eight_of_ten():
    # p=0.8, z^2=3.8416: centre=(0.8+0.19208)/1.38416, half=1.96*sqrt(0.016+0.009604)/1.38416
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.49016, abs=1e-4)
    assert hi == pytest.approx(0.94332, abs=1e-4)


def test_wilson_zero_of_ten_is_not_degenerate():
    # centre = half = 0.19208 / 1.38416 = 0.138768: the interval is [0, 0.2775]
    lo, hi = wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert hi == pytest.approx(0.27754, abs=1e-4)


def test_wilson_all_right_mirrors_none_right():
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0)
    assert lo == pytest.approx(1 - 0.27754, abs=1e-4)


def test_wilson_fractional_successes_and_empty():
    lo, hi = wilson_interval(4.5, 9)  # mean F1 of 0.5 over 9 items: symmetric around 0.5
    assert lo + hi == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_mcnemar_exact_small_counts():
    # one item only B gets, four only A gets: P(X<=1 | n=5) = 6/32, two-sided 0.375
    a = [1, 1, 1, 1, 0, 1, 0]
    b = [0, 0, 0, 0, 1, 1, 0]
    assert mcnemar(a, b) == (1, 4, pytest.approx(0.375))
    # six discordant pairs all one way: 2 * (1/64)
    assert mcnemar([0] * 6, [1] * 6) == (6, 0, pytest.approx(0.03125))


def test_mcnemar_no_discordant_pairs_and_partial_credit():
    assert mcnemar([1, 0, 1], [1, 0, 1]) == (0, 0, 1.0)
    # F1 scores: >= 0.5 counts as right
    assert mcnemar([0.4, 0.9], [0.6, 0.2])[:2] == (1, 1)
    assert mcnemar([0.5, 0.0], [0.0, 0.5])[:2] == (1, 1)  # exactly 0.5 is right: "at or above"


def test_mcnemar_twelve_discordant_pairs_are_exact_not_chi_square():
    # 12 pairs all one way: exact two-sided 2 * C(12, 0) / 2^12 = 2/4096 (the chi-square form would give
    # erfc(sqrt(((12 - 1)^2 / 12) / 2)) = 0.0015, three times as large)
    assert mcnemar([1] * 12, [0] * 12) == (0, 12, pytest.approx(2 / 4096))


def test_mcnemar_large_counts_switch_to_chi_square_smoothly():
    half = EXACT_MCNEMAR_MAX // 2
    exact = mcnemar([1] * (half - 100) + [0] * (half + 100), [0] * (half - 100) + [1] * (half + 100))[2]
    approx = mcnemar([1] * (half - 100) + [0] * (half + 101), [0] * (half - 100) + [1] * (half + 101))[2]
    assert exact == pytest.approx(approx, rel=0.1)
    chi2 = (abs(half - 100 - (half + 101)) - 1) ** 2 / (2 * half + 1)
    assert approx == pytest.approx(math.erfc(math.sqrt(chi2 / 2)))


def test_mcnemar_length_mismatch():
    with pytest.raises(ValueError):
        mcnemar([1, 0], [1])


def test_paired_bootstrap_constant_difference():
    diff, lo, hi, p = paired_bootstrap([0.0] * 10, [1.0] * 10, n_boot=500, seed=1)
    assert (diff, lo, hi) == (1.0, 1.0, 1.0)
    assert p == pytest.approx(1 / 501)  # no resample is as far from 1 as 1 is from 0


def test_paired_bootstrap_identical_scores_have_p_one():
    a = [1, 0, 1, 1, 0]
    assert paired_bootstrap(a, a, n_boot=200) == (0.0, 0.0, 0.0, 1.0)


def test_paired_bootstrap_interval_and_seed():
    a = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0] * 3
    b = [1, 1, 1, 0, 1, 1, 1, 0, 1, 0] * 3
    first = paired_bootstrap(a, b, n_boot=1000, seed=7)
    assert first == paired_bootstrap(a, b, n_boot=1000, seed=7)
    diff, lo, hi, p = first
    assert diff == pytest.approx(0.2)  # 6 of 30 items gained, none lost
    assert 0.0 <= lo <= diff <= hi <= 0.5
    assert p < 0.05


def test_paired_bootstrap_empty():
    assert paired_bootstrap([], []) == (0.0, 0.0, 0.0, 1.0)


def test_p95_and_mean():
    assert p95([5, 1, 4, 2, 3]) == pytest.approx(4.8)  # position 0.95*4 = 3.8 between 4 and 5
    assert p95(list(range(1, 101))) == pytest.approx(95.05)  # position 94.05
    assert p95([7.0]) == 7.0
    assert p95([]) == 0.0
    assert mean([1, 2, 6]) == 3.0
    assert mean([]) == 0.0


def test_paired_bootstrap_interval_is_the_central_95_percent():
    # 200 of 400 items gained 1, the rest 0: resampled means are Binomial(400, 1/2) / 400, whose central 95%
    # is 0.5 +- 1.96 * sqrt(0.25 / 400) = [0.451, 0.549] (a 90% interval would be [0.459, 0.541])
    _, lo, hi, _ = paired_bootstrap([0.0] * 400, [1.0] * 200 + [0.0] * 200)
    assert lo == pytest.approx(0.451, abs=0.005) and hi == pytest.approx(0.549, abs=0.005)
