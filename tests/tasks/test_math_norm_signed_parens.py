"""A parenthesised signed answer is its number: `(-3)` equals `-3` as `(3)` equals `3` (found by mutation testing:
the unwrapping rule's atoms carried no sign). Tuples, intervals and a sign's meaning are untouched."""
from __future__ import annotations

import pytest

from rolegraph.tasks.math_norm import math_equal


@pytest.mark.parametrize("a, b", [("(-3)", "-3"), ("(-0.5)", "(-1/2)"), ("(-0.5)", "-1/2"), ("(+4)", "4"),
                                  ("(-3)", "(-3)")])
def test_a_parenthesised_signed_number_is_the_number(a, b):
    assert math_equal(a, b) and math_equal(b, a)


@pytest.mark.parametrize("a, b", [("(-3)", "3"), ("(-1,2)", "-1"), ("(-1,2)", "(1,2)"), ("(-1/2)", "1/2")])
def test_signs_and_tuples_still_count(a, b):
    assert not math_equal(a, b) and not math_equal(b, a)
