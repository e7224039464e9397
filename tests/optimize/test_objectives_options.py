"""Objective options that conflict, or that the objective would ignore, are one-line user errors; a cap that no
graph met is said, not passed off as a success."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from rolegraph.errors import RolegraphError, SearchError
from rolegraph.optimize.objectives import Objective


@pytest.mark.parametrize(
    ("kind", "kwargs", "words"),
    [
        ("accuracy", {"latency_weight": 0.5}, "--latency-weight applies only to --objective joint"),
        ("joint", {"cost_cap": 1e-5}, "--cost-cap does not combine with --objective joint"),
        ("joint", {"latency_cap": 2.0}, "--latency-cap does not combine with --objective joint"),
        ("accuracy", {"latency_cap": 5.0, "cost_cap": 1e-7}, "not both"),
        ("accuracy", {"latency_cap": 5.0, "latency_weight": 0.2}, "--latency-weight"),
        ("latency_cap", {"latency_cap": 5.0, "cost_cap": 1e-7}, "not both"),
        ("cost_cap", {"latency_cap": 5.0}, "does not take --latency-cap"),
    ],
)
def test_options_the_objective_would_drop_are_refused_in_one_line(kind, kwargs, words):
    with pytest.raises(SearchError) as info:
        Objective.build(kind, **kwargs)
    assert isinstance(info.value, RolegraphError)  # the CLI's exit 2
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kind", "kwargs", "built"),
    [
        ("joint", {"latency_weight": 0.5}, "joint"),
        ("accuracy", {"latency_cap": 2.0}, "latency_cap"),
        ("accuracy", {"cost_cap": 1e-5}, "cost_cap"),
        ("accuracy", {}, "accuracy"),
    ],
)
def test_consistent_options_still_build(kind, kwargs, built):
    assert Objective.build(kind, **kwargs).kind == built


def _fig(latency_s: float, dollars: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(latency_s=latency_s, dollars=dollars)


def test_an_unmet_latency_cap_is_said_with_the_best_latency_reached():
    obj = Objective.build("accuracy", latency_cap=0.5)
    note = obj.cap_miss(_fig(5.65), [_fig(2.9), _fig(7.0)])
    assert note == "no graph met the latency cap of 0.5 s (best: 2.90 s/item)"
    assert obj.cap_miss(_fig(0.4), [_fig(2.9)]) is None


def test_an_unmet_cost_cap_is_said_and_uncapped_objectives_say_nothing():
    obj = Objective.build("accuracy", cost_cap=1e-7)
    assert obj.cap_miss(_fig(1.0, 3e-6), [_fig(1.0, 2e-6)]) == (
        "no graph met the cost cap of $1e-07 per item (best: $2e-06 per item)"
    )
    assert Objective().cap_miss(_fig(99.0, 1.0)) is None
    assert Objective.build("joint").cap_miss(_fig(99.0, 1.0)) is None


def test_a_chosen_graph_over_the_cap_on_test_items_is_not_called_a_graph_that_none_met():
    """Chosen within the cap on its training items, over it on the test items: 'no graph met' would be false."""
    obj = Objective.build("accuracy", latency_cap=2.0)
    note = obj.cap_miss(_fig(2.2), [_fig(1.5), _fig(3.0)])
    assert note == "the chosen graph's test latency 2.20 s/item is over the latency cap of 2 s, which it met on the items it was chosen on"
    cost = Objective.build("accuracy", cost_cap=1e-5).cap_miss(_fig(1.0, 2e-5), [_fig(1.0, 5e-6)])
    assert cost is not None and cost.startswith("the chosen graph's test cost $2e-05 per item is over the cost cap")
