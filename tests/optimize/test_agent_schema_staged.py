"""The LLM agent's reply schema on a staged space offers only what the stages leave open: each slot its stage's
models and role, no edge to learn (the stages decide them). A reply a grammar decoder can write is then one the
staged validation (`stage_feedback.closed_targets`) accepts, where it used to be refused as "invalid"."""
from __future__ import annotations

import json

import jsonschema
import pytest

from rolegraph.optimize.agent_schema import reply_schema
from rolegraph.optimize.llm_agent import parse_reply
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.stages import Stage, StageOutput

S1, S3, S8 = "sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b"


@pytest.fixture
def space(pool):
    # slots n0 = plan (planner of 3b|8b), n1-n2 = search (searcher of 1b|3b), n3-n5 = solve (solver of 1b|3b|8b)
    stages = (
        Stage("plan", "planner", (S3, S8), (0, 1)),
        Stage("search", "searcher", (S1, S3), (1, 2)),
        Stage("solve", "solver", (S1, S3, S8), (1, 2, 3)),
    )
    return SearchSpace(pool=pool, models=(), budget=24.0, family="qa", stages=stages,
                       stage_output=StageOutput(("fuser", "verifier"), (S3, S8)))


def _reply(update: dict) -> dict:
    return {"gradient": {"helped": ["a"], "hurt": [], "summary": "s"}, "update": update}


PRESENCE = {"n0": 0.5, "n1": 1.0, "n2": 0.2, "n3": 1.0, "n4": 0.5, "n5": 0.0}


def test_a_reply_within_the_stages_fits_the_schema_and_passes_validation(space):
    update = {"presence": PRESENCE,
              "models": {"n0": {S8: 0.7}, "n1": {S1: 0.6}, "n3": {S8: 0.9}, "out": {S3: 0.5}},
              "roles": {"out": {"verifier": 0.6}}}
    jsonschema.validate(_reply(update), reply_schema(space))
    reply, problems = parse_reply(json.dumps(_reply(update)), ProbabilisticGraph(space))
    assert problems == [] and reply is not None


@pytest.mark.parametrize("update", [
    {"models": {"n0": {S1: 0.6}}},  # the plan stage runs 3b or 8b only
    {"models": {"n1": {S8: 0.6}}},  # the search stage runs 1b or 3b only
    {"models": {"out": {S1: 0.6}}},  # the output runs 3b or 8b only
    {"roles": {"n1": {"solver": 0.6}}},  # a search slot is a searcher
    {"roles": {"n3": {"planner": 0.6}}},  # a solve slot is a solver
    {"edges": {"n0->n1": 0.9}},  # edges are decided by the stages
    {"edges": {"n3->out": 0.9}},
    {"proposed_graph": {"nodes": {"n0": {"role": "solver", "model": S3},
                                  "out": {"role": "fuser", "model": S8}}}},
    {"proposed_graph": {"nodes": {"n1": {"role": "searcher", "model": S8},
                                  "out": {"role": "fuser", "model": S8}}}},
    {"proposed_graph": {"nodes": {"n1": {"role": "searcher", "model": S3},
                                  "out": {"role": "fuser", "model": S8}}, "edges": ["n1->out"]}},
], ids=["plan-1b", "search-8b", "out-1b", "search-as-solver", "solve-as-planner", "edge-plan-search",
        "edge-solve-out", "proposed-role", "proposed-model", "proposed-edges"])
def test_a_closed_choice_cannot_be_written(space, update):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_reply({"presence": PRESENCE, **update}), reply_schema(space))


@pytest.mark.parametrize("update", [
    {"models": {"n0": {S1: 0.6}}},
    {"roles": {"n1": {"solver": 0.6}}},
    {"edges": {"n0->n1": 0.9}},
], ids=["plan-1b", "search-as-solver", "edge"])
def test_what_the_schema_now_refuses_was_refused_by_the_validation_too(space, update):
    """The schema closes exactly choices the staged validation names as problems: nothing it allowed is lost."""
    _, problems = parse_reply(json.dumps(_reply({"presence": PRESENCE, **update})), ProbabilisticGraph(space))
    assert problems


def test_a_proposed_graph_gets_the_edges_its_stages_give_it(space):
    """The schema asks for no edges; the parser gives the declared nodes the stages' edges (each non-empty stage
    reads the previous one, the output the last), replacing any a model wrote without a grammar."""
    nodes = {"n0": {"role": "planner", "model": S3}, "n1": {"role": "searcher", "model": S1},
             "n3": {"role": "solver", "model": S3}, "n4": {"role": "solver", "model": S3},
             "out": {"role": "fuser", "model": S8}}
    jsonschema.validate(_reply({"presence": PRESENCE, "proposed_graph": {"nodes": nodes}}), reply_schema(space))
    for written in ([], ["n0->out", "n1->n4"]):
        update = {"presence": PRESENCE, "proposed_graph": {"nodes": nodes, "edges": written}}
        reply, problems = parse_reply(json.dumps(_reply(update)), ProbabilisticGraph(space))
        assert problems == [] and reply is not None
        assert sorted(reply.update.proposed_graph.edges) == sorted(
            [("n0", "n1"), ("n1", "n3"), ("n1", "n4"), ("n3", "out"), ("n4", "out")])


def test_a_free_form_proposal_keeps_the_edges_it_wrote(pool):
    space = SearchSpace(pool=pool, models=(S1, S3), budget=18, max_nodes=3)
    update = {"presence": {"n0": 1.0, "n1": 0.0},
              "proposed_graph": {"nodes": {"n0": {"role": "solver", "model": S1},
                                           "out": {"role": "fuser", "model": S3}}, "edges": ["n0->out"]}}
    reply, problems = parse_reply(json.dumps(_reply(update)), ProbabilisticGraph(space))
    assert problems == [] and reply.update.proposed_graph.edges == [("n0", "out")]


def test_a_slot_of_a_fixed_width_stage_has_no_presence_to_set(pool):
    """A stage with one allowed width runs that many nodes whatever its slots' presence (the sampler rounds the
    count to the nearest allowed width): the schema neither asks for nor allows a presence there."""
    stages = (Stage("search", "searcher", (S1, S3), (1, 2)), Stage("solve", "solver", (S3,), (1,)))
    space = SearchSpace(pool=pool, models=(), budget=24.0, family="qa", stages=stages,
                        stage_output=StageOutput(("fuser",), (S3,)))
    schema = reply_schema(space)
    presence = schema["properties"]["update"]["properties"]["presence"]
    assert sorted(presence["properties"]) == ["n0", "n1"] and sorted(presence["required"]) == ["n0", "n1"]
    jsonschema.validate(_reply({"presence": {"n0": 1.0, "n1": 0.5}}), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_reply({"presence": {"n0": 1.0, "n1": 0.5, "n2": 0.1}}), schema)


def test_the_probability_table_says_fixed_for_a_fixed_width_stages_slots(pool):
    stages = (Stage("search", "searcher", (S1, S3), (1, 2)), Stage("solve", "solver", (S3,), (1,)))
    space = SearchSpace(pool=pool, models=(), budget=24.0, family="qa", stages=stages,
                        stage_output=StageOutput(("fuser",), (S3,)))
    rows = {line.split()[0]: line.split()[1] for line in ProbabilisticGraph(space).table().splitlines()[1:4]}
    assert rows["n2"] == "fixed"
    assert rows["n0"] != "fixed" and float(rows["n0"]) >= 0 and float(rows["n1"]) >= 0
