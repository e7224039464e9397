"""`money` at the edges of its floor: MONEY_FLOOR ($0.000000001) is the smallest amount written out, so the floor
itself reads as the amount it is, and anything under it (half of it, say) reads as "<$0.000000001", never as a
digit string that claims more precision than any price has."""

from __future__ import annotations

import pytest

from rolegraph.money import money

FLOOR_TEXT = "$0.000000001"  # one billionth of a dollar, nine decimals: the floor as the docstring states it


def test_an_amount_exactly_at_the_floor_is_shown_as_itself_not_as_below_it():
    assert money(1e-9) == FLOOR_TEXT
    assert money(-1e-9) == "-" + FLOOR_TEXT


@pytest.mark.parametrize("amount", [5e-10, 9.9e-10, 1.5e-10])
def test_an_amount_under_the_floor_reads_as_below_the_floor(amount):
    assert money(amount) == "<" + FLOOR_TEXT
    assert money(-amount) == "-<" + FLOOR_TEXT


def test_just_above_the_floor_keeps_its_figures():
    assert money(1.23e-9) == "$0.00000000123"
