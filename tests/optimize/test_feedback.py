import asyncio

import numpy as np
import pytest

from rolegraph.chat.types import Completion
from rolegraph.optimize.feedback import (EdgeProb, GraphUpdate, InitContext, PilotRow, ProposedGraph,
                                         ProposedNode, StepContext, apply_update, validate_update)
from rolegraph.optimize.llm_agent import LLMFeedbackAgent, parse_reply
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS


@pytest.fixture
def pg(pool):
    return ProbabilisticGraph(SearchSpace(pool=pool, models=SIM_MODELS, budget=18, max_nodes=5))


def test_valid_update_passes_and_moves_probabilities_by_the_step(pg):
    upd = GraphUpdate(presence={"n0": 0.9}, models={"out": {"sim/llama-3.1-8b": 0.8}},
                      roles={"n1": {"verifier": 0.5}}, edges=[EdgeProb(src="n0", dst="n2", prob=0.9)])
    assert validate_update(upd, pg) == []
    new = apply_update(pg, upd, 0.5)
    p0, p1 = pg.probs(), new.probs()
    assert p1.presence[0] == pytest.approx(0.5 + 0.5 * (0.9 - 0.5))
    k = pg.space.models.index("sim/llama-3.1-8b")
    assert p1.out_model[k] == pytest.approx(p0.out_model[k] + 0.5 * (0.8 - p0.out_model[k]))
    assert p1.out_model.sum() == pytest.approx(1.0)
    assert p1.edges[pg.edge_index(0, 2)] > p0.edges[pg.edge_index(0, 2)]
    assert np.array_equal(p1.presence[1:], p0.presence[1:])  # untouched choices keep their probability


@pytest.mark.parametrize("update, problem", [
    (GraphUpdate(presence={"n9": 0.5}), "unknown worker node id 'n9'"),
    (GraphUpdate(models={"x": {"sim/llama-3.2-1b": 0.5}}), "unknown node id 'x'"),
    (GraphUpdate(models={"n0": {"gpt-99": 0.5}}), "unknown model 'gpt-99'"),
    (GraphUpdate(roles={"out": {"planner": 0.5}}), "unknown role 'planner'"),
    (GraphUpdate(models={"n0": {"sim/llama-3.2-1b": 0.7, "sim/llama-3.2-3b": 0.6}}), "sum to"),
    (GraphUpdate(edges=[EdgeProb(src="n2", dst="n1", prob=0.5)]), "would create a cycle"),
    (GraphUpdate(edges=[EdgeProb(src="out", dst="n1", prob=0.5)]), "would create a cycle"),
    (GraphUpdate(edges=[EdgeProb(src="n0", dst="zz", prob=0.5)]), "unknown node id 'zz'"),
    (GraphUpdate(proposed_graph=ProposedGraph(
        nodes=[ProposedNode(id="n0", role="solver", model="sim/llama-3.2-1b"),
               ProposedNode(id="n1", role="solver", model="sim/llama-3.2-1b"),
               ProposedNode(id="out", role="fuser", model="sim/llama-3.2-3b")],
        edges=[("n0", "n1"), ("n1", "n0"), ("n1", "out")])), "cycle"),
    (GraphUpdate(proposed_graph=ProposedGraph(
        nodes=[ProposedNode(id=f"n{i}", role="solver", model="sim/llama-3.1-8b") for i in range(4)]
        + [ProposedNode(id="out", role="fuser", model="sim/llama-3.1-8b")],
        edges=[(f"n{i}", "out") for i in range(4)])), "over the budget"),
])
def test_bad_updates_are_rejected(pg, update, problem):
    problems = validate_update(update, pg)
    assert problems and any(problem in p for p in problems), problems


def test_probabilities_out_of_range_are_rejected_by_parsing(pg):
    reply, problems = parse_reply('{"gradient": {"summary": "x"}, "update": {"presence": {"n0": 1.5}}}', pg)
    assert reply is None and any("presence" in p for p in problems)
    reply, problems = parse_reply('no json here', pg)
    assert reply is None and problems == ["no JSON object in the reply"]
    reply, problems = parse_reply('```json\n{"gradient": {"helped": ["a"]}, "update": {"edges": '
                                  '[{"src": "n0", "dst": "out", "prob": 0.9}]}}\n```', pg)
    assert reply is not None and reply.update.edges[0].prob == 0.9


class ScriptedModel:
    """A ChatModel that replies from a script (a stand-in for a real endpoint in these unit tests)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.calls = []

    @property
    def model_id(self) -> str:
        return "test/scripted"

    async def complete(self, messages, **kwargs):
        self.calls.append(messages)
        text = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        return Completion(text=text, model_id=self.model_id)


def _step_ctx(pg):
    return StepContext(space=pg.space, pg=pg, iteration=1, evaluations=[], best_graph=None, best_objective=None,
                       best_n=0, task="gsm")


def test_llm_agent_retries_with_the_problems_then_succeeds(pg):
    good = '{"gradient": {"summary": "fewer nodes"}, "update": {"presence": {"n3": 0.2}}}'
    model = ScriptedModel(['{"update": {"presence": {"n7": 0.2}}, "gradient": {}}', good])
    fb = asyncio.run(LLMFeedbackAgent(model).step(_step_ctx(pg)))
    assert fb.agent == "llm:test/scripted" and fb.attempts == 2 and fb.fallback is None
    assert fb.update.presence == {"n3": 0.2}
    retry_prompt = model.calls[1][-1]["content"]
    assert "rejected" in retry_prompt and "n7" in retry_prompt
    system = model.calls[0][0]["content"]
    assert "Width and depth" in system and "Grow the graph outward from the output" in system


def test_llm_agent_falls_back_to_statistical_after_two_retries(pg):
    model = ScriptedModel(["I think more nodes are better."])
    fb = asyncio.run(LLMFeedbackAgent(model).step(_step_ctx(pg)))
    assert len(model.calls) == 3  # one try and two retries
    assert fb.agent.startswith("statistical") and "fallback" in fb.agent
    assert fb.fallback and "no usable update in 3 attempts" in fb.fallback and fb.fallback_reason == "invalid"
    assert validate_update(fb.update, pg) == []


def test_llm_initialisation_falls_back_too(pg):
    spec = pg.space.single("sim/llama-3.2-3b")
    row = PilotRow(label="single 3b", graph=spec, accuracy=0.4, latency_s=1.0, dollars=0.0, budget_cost=2.6,
                   objective=0.4, n=8)
    fb = asyncio.run(LLMFeedbackAgent(ScriptedModel(["{bad json"])).initial(
        InitContext(space=pg.space, pg=pg, pilot=[row], task="gsm")))
    assert fb.fallback and fb.agent.startswith("statistical")
