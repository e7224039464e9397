"""`until: agreement` stops a loop only when every answering node gave the same answer: a node that gave no
answer used to be left out of the comparison, so one answer beside a silent node counted as agreement."""
from __future__ import annotations

import pytest

from rolegraph.graphs.loops import agreement


@pytest.mark.parametrize("missing", [None, "", "   ", "."])
def test_a_node_without_an_answer_breaks_agreement(missing):
    assert not agreement({"a": {"answer": "42"}, "b": {"answer": missing}})
    assert not agreement({"a": {"answer": "42"}, "b": {"answer": "42"}, "c": {"answer": missing}})


def test_a_node_whose_result_has_no_answer_field_breaks_agreement():
    assert not agreement({"a": {"answer": "42"}, "b": {"error": "model call failed"}})


def test_no_node_answering_is_no_agreement():
    assert not agreement({"a": {"answer": None}, "b": {"answer": None}})
    assert not agreement({})


def test_every_node_giving_the_same_answer_still_agrees():
    assert agreement({"a": {"answer": "42"}, "b": {"answer": " 42. "}, "c": {"answer": 42}})
    assert not agreement({"a": {"answer": "42"}, "b": {"answer": "41"}})
