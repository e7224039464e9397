"""A text whose first bracket closes before its end is not one tuple: `(1,2))` is `(1,2)` and a stray `)`, so its
parts are never compared element by element (one stray bracket must not make a malformed answer equal another one
whose "elements" merely have the same value)."""
from __future__ import annotations

import pytest

from rolegraph.tasks.math_norm import math_equal


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("(1,2))", "(1.0,2))"),
        ("(0.5,2))", "(1/2,2))"),
        ("[1,3)]", "[1.0,3)]"),
        ("(1,2))", "(1,2)"),
    ],
)
def test_a_bracket_closed_early_is_not_read_as_a_tuple(prediction, gold):
    assert not math_equal(prediction, gold)
    assert not math_equal(gold, prediction)


@pytest.mark.parametrize(("prediction", "gold"), [("(1,2)", "(1.0,2)"), ("(0.5,2)", "(1/2,2)"), ("[1,3)", "[1.0,3)")])
def test_well_formed_tuples_still_compare_element_by_element(prediction, gold):
    assert math_equal(prediction, gold)
