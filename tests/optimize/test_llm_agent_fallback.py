"""When the LLM agent falls back, it says why, and it never asks again when asking cannot help: a 400
"context exceeded" or an unreachable endpoint ends the step at once (the backend already retried what
is transient); a reply that changes nothing is `empty`; a server that refuses `response_format` gets
plain-prompt JSON from then on; a prompt that leaves no room to answer is `context` without a call."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.models.endpoint import EndpointInfo
from rolegraph.models.openai_backend import ModelCallError
from rolegraph.chat.types import Completion
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.llm_agent import LLMFeedbackAgent
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

VALID = '{"gradient": {"summary": "wider"}, "update": {"presence": {"n0": 0.9, "n1": 0.9, "n2": 0.9}}}'


class Scripted:
    """Answers or raises from a script, recording each call's keyword arguments."""

    def __init__(self, script):
        self.script = list(script)
        self.calls: list[dict] = []

    @property
    def model_id(self) -> str:
        return "test/agent"

    async def complete(self, messages, **kwargs):
        self.calls.append({"messages": messages, **kwargs})
        item = self.script[min(len(self.calls) - 1, len(self.script) - 1)]
        if isinstance(item, BaseException):
            raise item
        return Completion(text=item, model_id=self.model_id)


@pytest.fixture
def pg(pool):
    return ProbabilisticGraph(SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=4))


def _step(agent, pg):
    ctx = StepContext(space=pg.space, pg=pg, iteration=1, evaluations=[], best_graph=None, best_objective=None,
                      best_n=0, task="gsm")
    return asyncio.run(agent.step(ctx))


def _agent(model, structured="none", window=8192):
    return LLMFeedbackAgent(model, endpoint=EndpointInfo(window, "pool entry", structured))


def test_context_exceeded_ends_the_step_at_once(pg):
    model = Scripted([ModelCallError("model 'x' call failed: HTTP 400: context exceeded: ...", status=400,
                                     cause="context")])
    fb = _step(_agent(model), pg)
    assert len(model.calls) == 1 and fb.attempts == 1
    assert fb.fallback_reason == "context" and "context exceeded" in fb.fallback
    assert fb.agent == "statistical (fallback)"


def test_an_unreachable_endpoint_is_not_asked_again(pg):
    model = Scripted([ModelCallError("model 'x' call failed after 6 attempts: connection refused", cause="refused")])
    fb = _step(_agent(model), pg)
    assert len(model.calls) == 1 and fb.fallback_reason == "error" and "connection refused" in fb.fallback


def test_a_reply_that_changes_nothing_is_empty(pg):
    p = pg.probs()
    same = ('{"gradient": {"summary": "keep"}, "update": {"presence": {'
            + ", ".join(f'"n{i}": {p.presence[i]:.6f}' for i in range(pg.space.worker_slots)) + "}}}")
    model = Scripted([same])
    fb = _step(_agent(model), pg)
    assert len(model.calls) == 3 and fb.fallback_reason == "empty"
    assert "changes no probability" in model.calls[1]["messages"][-1]["content"]


def test_retries_sample_and_a_valid_retry_is_an_llm_step(pg):
    model = Scripted(["not json", VALID])
    fb = _step(_agent(model), pg)
    assert fb.agent == "llm:test/agent" and fb.fallback is None and fb.attempts == 2
    assert model.calls[0]["temperature"] == 0.0 and model.calls[1]["temperature"] > 0
    assert model.calls[0]["sample"] != model.calls[1]["sample"]


def test_structured_output_is_sent_and_a_refusal_switches_to_plain_json(pg):
    model = Scripted([ModelCallError("HTTP 500: json_schema not supported", status=500, cause="http"), VALID])
    agent = _agent(model, structured="json_schema")
    fb = _step(agent, pg)
    first, second = model.calls
    assert first["response_format"]["type"] == "json_schema"
    assert "enum" in str(first["response_format"]["json_schema"]["schema"])
    assert "response_format" not in second and fb.fallback is None
    assert agent.describe()["structured_output"] == "none"


def test_the_json_object_form_carries_the_schema(pg):
    model = Scripted([VALID])
    _step(_agent(model, structured="json_object"), pg)
    fmt = model.calls[0]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["required"] == ["gradient", "update"]


def test_max_tokens_is_what_the_window_leaves(pg):
    model = Scripted([VALID])
    agent = _agent(model, window=1500)
    _step(agent, pg)
    sent = model.calls[0]
    left = 1500 - agent.budget.tokens(sent["messages"]) - agent.budget.safety
    assert sent["max_tokens"] == left and 128 <= left < 1024


def test_no_room_to_answer_falls_back_as_context_without_a_call(pg):
    model = Scripted([VALID])
    fb = _step(_agent(model, window=400), pg)
    assert model.calls == [] and fb.fallback_reason == "context" and "400-token" in fb.fallback
