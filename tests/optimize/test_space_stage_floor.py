"""Every message for a budget too small for a staged space names the smallest feasible budget, also when the check
that fails is a stage's (or the output node's) models not fitting alone, and the budget it names is enough."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"
GSM_STAGES = (  # docs/tutorials/spaces.md's gsm_stages.yaml: an optional 8B planner, solvers, a 3B/8B output
    (Stage("plan", "planner", (S8,), (0, 1)), Stage("solve", "solver", (S1, S3, S8), (1, 2, 3, 4))),
    StageOutput(("fuser", "verifier"), (S3, S8)),
)
REQUIRED_8B = ((Stage("solve", "solver", (S8,), (1,)),), StageOutput(("fuser",), (S1,)))
ALL_OPTIONAL = ((Stage("plan", "planner", (S8,), (0, 1)),), StageOutput(("fuser",), (S1,)))


def _space(pool, shape, budget):
    stages, output = shape
    return SearchSpace(pool=pool, models=(S1, S3, S8), budget=budget, family="math", stages=stages,
                       stage_output=output)


def _minimum(message: str) -> float:
    return float(message.split("smallest feasible budget is ")[1].split()[0])


@pytest.mark.parametrize(("shape", "budget", "where"), [
    (GSM_STAGES, 1.0, "the output node"),  # the 1B fits alone, neither output model does
    (REQUIRED_8B, 1.5, "stage 'solve'"),  # the only model of a required stage does not fit alone
    (ALL_OPTIONAL, 1.5, "stage 'plan'"),  # every stage optional and none of their models fits
])
def test_a_stage_that_fits_no_model_names_the_smallest_feasible_budget(pool, shape, budget, where):
    with pytest.raises(SearchError) as info:
        _space(pool, shape, budget)
    message = str(info.value)
    assert "\n" not in message and where in message and "even alone" in message
    floor = _minimum(message)
    assert floor > budget
    _space(pool, shape, floor * 1.001)  # the budget it names is enough ...
    with pytest.raises(SearchError):
        _space(pool, shape, floor * 0.99)  # ... and about the least that is


def test_both_checks_name_the_same_minimum(pool):
    """At 1 unit the output node's models fail alone; at 3 units only the smallest staged graph fails."""
    with pytest.raises(SearchError) as alone:
        _space(pool, GSM_STAGES, 1.0)
    with pytest.raises(SearchError) as staged:
        _space(pool, GSM_STAGES, 3.0)
    assert "even alone" not in str(staged.value)
    assert _minimum(str(alone.value)) == _minimum(str(staged.value))
