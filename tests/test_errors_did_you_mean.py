"""`did_you_mean` with a name that is not a string (None or a number from Python) suggests nothing and still
lists the known names, instead of raising a TypeError from difflib inside the message that explains the mistake."""
from __future__ import annotations

import pytest

from rolegraph.errors import did_you_mean, shown_arg


@pytest.mark.parametrize("name", [None, 5, 2.5])
def test_a_non_string_name_lists_the_known_names(name):
    assert did_you_mean(name, ["b", "a"]) == " Known: a, b."
    assert did_you_mean(name, ["b", "a"], list_known=False) == ""


def test_a_string_name_still_gets_suggestions():
    assert did_you_mean("cofee", ["coffee", "tea"]) == " Did you mean: coffee?"


def test_shown_arg_is_a_short_repr_on_one_line():
    assert shown_arg(None) == "None" and shown_arg("5") == "'5'"
    long = shown_arg(list(range(1000)))
    assert len(long) == 80 and long.endswith("...")
