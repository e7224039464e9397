"""`money` keeps the sign of a negative amount: under MONEY_FLOOR it printed "<$0.000000001" for -4e-20, so a
float's negative residue read as a positive cost."""
from __future__ import annotations

import pytest

from rolegraph.money import money


@pytest.mark.parametrize("amount, shown", [
    (-4e-20, "-<$0.000000001"),
    (-0.0000392, "-$0.0000392"),
    (-0.5, "-$0.50"),
    (-12.5, "-$12.50"),
])
def test_a_negative_amount_keeps_its_minus_sign(amount, shown):
    assert money(amount) == shown


def test_a_positive_amount_under_the_floor_has_no_sign():
    assert money(4e-20) == "<$0.000000001" and money(-4e-20, "") == "-<0.000000001"
