"""The LLM agent's reply schema (ids as enums, probabilities on a bounded grid, nodes keyed by id) and the
repairs and checks after parsing: near-miss sums rescaled, extra keys ignored, no-change updates found."""
from __future__ import annotations

import json

import jsonschema
import pytest

from rolegraph.optimize.agent_schema import changes_something, reply_schema
from rolegraph.optimize.feedback import GraphUpdate
from rolegraph.optimize.llm_agent import parse_reply
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS as ALL_SIM

SIM_MODELS = ALL_SIM[:3]  # the 70B is too big alone for 18 units: the space leaves it out


@pytest.fixture
def space(pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS, budget=18, max_nodes=4)
    assert space.models == SIM_MODELS
    return space


def _reply(update: dict) -> dict:
    return {"gradient": {"helped": ["a"], "hurt": [], "summary": "s"}, "update": update}


GOOD = {"presence": {"n0": 0.9, "n1": 0.2, "n2": 0.0},
        "models": {"out": {SIM_MODELS[-1]: 0.8}},
        "roles": {"n0": {"solver": 0.6}, "out": {"fuser": 0.7}},
        "edges": {"n0->out": 0.95, "n0->n2": 0.1},
        "proposed_graph": {"nodes": {"n0": {"role": "solver", "model": SIM_MODELS[0]},
                                     "out": {"role": "fuser", "model": SIM_MODELS[-1]}},
                           "edges": ["n0->out"]}}


def test_a_good_reply_fits_the_schema_and_parses(space):
    schema = reply_schema(space)
    jsonschema.validate(_reply(GOOD), schema)
    reply, problems = parse_reply(json.dumps(_reply(GOOD)), ProbabilisticGraph(space))
    assert problems == [] and reply is not None
    assert [(n.id, n.role) for n in reply.update.proposed_graph.nodes] == [("n0", "solver"), ("out", "fuser")]
    assert reply.update.proposed_graph.edges == [("n0", "out")]
    assert [(e.src, e.dst, e.prob) for e in reply.update.edges] == [("n0", "out", 0.95), ("n0", "n2", 0.1)]


def test_the_plain_prompt_forms_still_parse(space):
    """Without structured output a model may write edges and nodes as lists: both forms are read."""
    plain = {"presence": {"n0": 0.9}, "edges": [{"src": "n0", "dst": "out", "prob": 0.9}],
             "proposed_graph": {"nodes": [{"id": "n0", "role": "solver", "model": SIM_MODELS[0]},
                                          {"id": "out", "role": "fuser", "model": SIM_MODELS[1]}],
                                "edges": [["n0", "out"]]}}
    reply, problems = parse_reply(json.dumps(_reply(plain)), ProbabilisticGraph(space))
    assert problems == [] and reply.update.edges[0].dst == "out" and reply.update.proposed_graph.edges == [("n0", "out")]


@pytest.mark.parametrize("bad", [
    {"presence": {"n0": 0.9}},  # presence must name every worker slot
    {"presence": {"n0": 0.5, "n1": 0.5, "n2": 0.5, "n7": 0.5}},  # unknown node id
    {"presence": {"n0": 0.5, "n1": 0.5, "n2": 3}},  # a probability off the grid of [0, 1]
    {"presence": {"n0": 0.5, "n1": 0.5, "n2": 0.33}},  # off the 0.05 grid
    {**GOOD, "models": {"out": {"gpt-9": 0.5}}},  # unknown model id
    {**GOOD, "roles": {"out": {"planner": 0.5}}},  # a role the output may not take
    {**GOOD, "proposed_graph": {"nodes": {"n0": {"role": "solver", "model": SIM_MODELS[0]}}, "edges": []}},  # no out
    {**GOOD, "edges": {"out->n0": 0.5}},  # edges start at a worker
    {**GOOD, "edges": {"n1->n0": 0.5}},  # ... and go to a higher slot: no cycle can be written
    {**GOOD, "proposed_graph": {**GOOD["proposed_graph"], "edges": ["n2->n1"]}},
])
def test_the_schema_refuses_unknown_ids_and_unbounded_probabilities(space, bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_reply(bad), reply_schema(space))


def test_near_miss_sums_are_rescaled_and_larger_ones_rejected(space):
    pg = ProbabilisticGraph(space)
    near = {"models": {"n0": {SIM_MODELS[0]: 0.7, SIM_MODELS[1]: 0.45}}}  # sums to 1.15
    reply, problems = parse_reply(json.dumps(_reply(near)), pg)
    assert problems == [] and reply is not None
    assert sum(reply.update.models["n0"].values()) == pytest.approx(1.0)
    assert reply.update.models["n0"][SIM_MODELS[0]] == pytest.approx(0.7 / 1.15)
    assert reply.notes and "rescaled" in reply.notes[0]
    far = {"models": {"n0": {SIM_MODELS[0]: 0.7, SIM_MODELS[1]: 0.6}}}  # sums to 1.3
    reply, problems = parse_reply(json.dumps(_reply(far)), pg)
    assert reply is None and any("sum to 1.300" in p for p in problems)


def test_extra_keys_anywhere_are_ignored(space):
    data = _reply({"presence": {"n0": 0.9}, "comment": "extra", "edges": [{"src": "n0", "dst": "out",
                                                                           "prob": 0.5, "why": "x"}]})
    data["confidence"] = "high"
    data["gradient"]["mood"] = "good"
    reply, problems = parse_reply(json.dumps(data), ProbabilisticGraph(space))
    assert problems == [] and reply.update.presence == {"n0": 0.9} and reply.update.edges[0].prob == 0.5


def test_an_update_that_restates_the_current_probabilities_changes_nothing(space):
    pg = ProbabilisticGraph(space)
    p = pg.probs()
    same = GraphUpdate(presence={f"n{i}": float(p.presence[i]) for i in range(space.worker_slots)})
    assert not changes_something(same, pg)
    assert not changes_something(GraphUpdate(), pg)
    assert changes_something(GraphUpdate(presence={"n0": float(p.presence[0]) + 0.3}), pg)
    assert changes_something(GraphUpdate.model_validate({"proposed_graph": GOOD["proposed_graph"]}), pg)
