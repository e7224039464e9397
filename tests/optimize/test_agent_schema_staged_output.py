"""On a staged space the output node's models are the output stage's, not the first slot's: with a plan stage of
1b|3b and an output of 3b|8b, the schema lets the reply weigh 8b for the output and never 1b (and the reverse for
the plan slot)."""

from __future__ import annotations

import pytest

from rolegraph.optimize.agent_schema import reply_schema
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


@pytest.fixture
def schema(pool):
    stages = (Stage("plan", "planner", (S1, S3), (1,)), Stage("solve", "solver", (S3, S8), (1,)))
    space = SearchSpace(
        pool=pool, models=(), budget=24.0, family="qa", stages=stages, stage_output=StageOutput(("fuser",), (S3, S8))
    )
    return reply_schema(space)["properties"]["update"]["properties"]


def test_the_output_offers_the_output_stages_models(schema):
    assert set(schema["models"]["properties"]["out"]["properties"]) == {S3, S8}


def test_the_plan_slot_offers_its_stages_models(schema):
    assert set(schema["models"]["properties"]["n0"]["properties"]) == {S1, S3}


def test_the_output_offers_the_output_stages_roles(schema):
    assert set(schema["roles"]["properties"]["out"]["properties"]) == {"fuser"}
