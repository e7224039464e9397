import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.objectives import Objective


def test_accuracy_objective_is_accuracy():
    assert Objective().value(0.7, 30.0, 1.0) == 0.7


def test_joint_penalises_latency_relative_to_reference():
    obj = Objective(kind="joint", latency_weight=0.2, latency_ref=10.0)
    assert obj.value(0.8, 5.0, 0.0) == pytest.approx(0.7)
    assert obj.value(0.8, 5.0, 0.0) > obj.value(0.8, 10.0, 0.0)


def test_latency_cap_ranks_every_feasible_graph_above_every_infeasible_one():
    obj = Objective.build("accuracy", latency_cap=2.0)
    assert obj.kind == "latency_cap"
    assert obj.value(0.1, 1.9, 0.0) > obj.value(1.0, 2.1, 0.0)
    assert obj.value(0.6, 1.0, 0.0) > obj.value(0.5, 1.0, 0.0)


def test_cost_cap():
    obj = Objective.build("accuracy", cost_cap=0.01)
    assert obj.kind == "cost_cap"
    assert obj.value(0.2, 0.0, 0.005) > obj.value(0.9, 0.0, 0.02)


@pytest.mark.parametrize("kwargs", [{"latency_cap": -1.0}, {"cost_cap": 0.0}, {"latency_weight": -0.5}])
def test_bad_knobs_are_user_errors(kwargs):
    with pytest.raises(SearchError):
        Objective.build("accuracy", **kwargs)


def test_unknown_objective_names_the_known_ones():
    with pytest.raises(SearchError, match="joint"):
        Objective.build("speed")
