"""`SearchConfig` counts are whole numbers and `SearchSpace`'s budget a finite positive number (or None), each
refused in one SearchError line: 2.5 iterations used to run 3, "8" to fail later as a TypeError, a NaN budget
to be called "too small for any graph", and an infinite one to pass as a budget."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.space import SearchSpace

from .helpers import TINY_MODELS


@pytest.mark.parametrize("kwargs, message", [
    ({"iterations": 2.5}, "iterations must be a whole number, got 2.5"),
    ({"batch": "8"}, "batch must be a whole number, got '8'"),
    ({"samples": True}, "samples must be a whole number, got True"),
    ({"test_items": 4.0}, "test items must be a whole number, got 4.0"),
    ({"max_evaluations": 0}, "max evaluations must be at least 1, got 0"),
    ({"route_items": 1.5}, "route items must be a whole number, got 1.5"),
    ({"seed": "0"}, "seed must be a whole number, got '0'"),
    ({"max_dollars": float("inf")}, "max dollars must be a finite positive number"),
    ({"max_dollars": float("nan")}, "max dollars must be a finite positive number"),
])
def test_a_count_that_is_not_a_whole_number_is_refused(kwargs, message):
    with pytest.raises(SearchError, match=message.replace("(", r"\(")):
        SearchConfig(**kwargs)


def test_numpy_integers_are_taken_as_plain_ints():
    config = SearchConfig(iterations=np.int64(3), batch=np.int32(8))
    assert type(config.iterations) is int and type(config.batch) is int
    json.dumps(config.to_dict())  # what a run's store keeps


@pytest.mark.parametrize("budget", [float("nan"), float("inf"), -1.0, 0, "18", True])
def test_a_budget_must_be_a_finite_positive_number(pool, budget):
    with pytest.raises(SearchError, match="the budget must be a") as info:
        SearchSpace(pool=pool, models=TINY_MODELS, budget=budget)
    assert "too small for any graph" not in str(info.value)


def test_a_whole_number_budget_and_no_budget_are_fine(pool):
    assert SearchSpace(pool=pool, models=TINY_MODELS, budget=18).budget == 18
    assert SearchSpace(pool=pool, models=TINY_MODELS, budget=None).budget is None
