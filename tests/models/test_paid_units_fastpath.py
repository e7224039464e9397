"""`CallStats.add_paid` keeps the exact sum as a whole number of 2**-1074 (every float is one), not as a `Fraction`:
the same correctly rounded totals, at a fraction of the Python work on a path run once per paid call."""

from __future__ import annotations

import random
import sys
from fractions import Fraction

import pytest

from rolegraph.models.in_flight import CallStats

SMALLEST = 5e-324  # the smallest subnormal: the unit itself
EXTREMES = [SMALLEST, 3 * SMALLEST, 2.2250738585072014e-308, 1e-300, 0.1, 0.2, 0.3, 1e20, 1.5e-5, 7.7e-08, 0.0]


def _exact_total(amounts: list[float], start: float = 0.0) -> float:
    """The exact sum of the floats, rounded once: what the stats must say (computed here with Fractions)."""
    return float(sum((Fraction(a) for a in amounts), Fraction(start)))


def _total(amounts: list[float], start: float = 0.0) -> float:
    stats = CallStats(paid_usd=start)
    for a in amounts:
        stats.add_paid(a)
    return stats.paid_usd


@pytest.mark.parametrize("seed", range(5))
def test_totals_are_the_exact_sum_rounded_once_in_any_order(seed):
    rng = random.Random(seed)
    amounts = [rng.random() * 10 ** rng.randint(-12, 3) for _ in range(200)] + EXTREMES
    orders = [amounts, amounts[::-1], rng.sample(amounts, len(amounts))]
    assert {_total(order) for order in orders} == {_exact_total(amounts)}


def test_a_subnormal_is_not_lost_and_a_direct_start_is_carried_on():
    assert _total([SMALLEST, SMALLEST]) == 2 * SMALLEST
    assert _total([1.0, SMALLEST, -1.0]) == SMALLEST  # a plain float sum would give 0.0
    assert _total([0.25, 0.5], start=5.0) == 5.75
    stats = CallStats()
    stats.add_paid(0.1)
    stats.paid_usd = 2.0  # an older caller setting the field itself: the exact sum starts again from it
    stats.add_paid(0.1)
    assert stats.paid_usd == _exact_total([0.1], start=2.0)


def test_an_add_is_one_python_call_deep():
    """What the change was for: a Fraction add runs ~10 Python-level calls (its constructor, operator fallbacks,
    numerator and denominator properties, __float__) on every paid call; the integer sum runs one helper."""
    stats = CallStats()
    stats.add_paid(0.1)
    calls: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        stats.add_paid(0.2)
    finally:
        sys.setprofile(None)
    assert len(calls) <= 2, calls  # add_paid and one helper
