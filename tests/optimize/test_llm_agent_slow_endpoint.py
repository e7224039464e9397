"""The LLM agent on a slow server (a loopback server that sleeps past a small timeout):

- a structured-output probe that timed out (it is a call of the agent's model, so under the model's timeout)
  decides nothing: the step asks without a schema, says so (a
  logged warning and the summary's endpoint note), and the next step probes again and uses the form the
  server takes; after `MAX_PROBES` undecided probes the agent stops probing and says that too;
- requests the backend re-sent after a timeout are never silent: an accepted step's notes count them and
  name the pool's `timeout_s`; a step whose every request timed out falls back as `timeout`, with the
  number of requests sent."""
from __future__ import annotations

import asyncio
import logging

import pytest
from fastapi import FastAPI, Request

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.endpoint import EndpointInfo, describe_endpoint
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.optimize import llm_agent as agent_module
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.llm_agent import LLMFeedbackAgent
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.sim.server_thread import ServerThread
from tests.sent_timeouts_support import every_phase, spy_on_sent_timeouts

from .conftest import SIM_MODELS

VALID = '{"gradient": {"summary": "wider"}, "update": {"presence": {"n0": 0.9, "n1": 0.9, "n2": 0.9}}}'
SHORT_S = 0.3
"""The timeouts under test; the slow server sleeps `SLOW_S`, well past them."""
SLOW_S = 1.5


def _completion(text: str) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "served",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}}


def _server(slow_probes: int = 0, slow_calls: int = 0) -> tuple[FastAPI, list[dict]]:
    """Takes `json_schema`; the first `slow_probes` probes (max_tokens 1) and the first `slow_calls` agent
    requests sleep past the timeouts (llama.cpp's single slot busy with other work behaves so)."""
    seen: list[dict] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        seen.append(body)
        probe = body.get("max_tokens") == 1
        done = sum(1 for b in seen[:-1] if (b.get("max_tokens") == 1) == probe)
        if done < (slow_probes if probe else slow_calls):
            await asyncio.sleep(SLOW_S)
        return _completion('{"ok": true}' if probe else VALID)

    return app, seen


def _spec(base_url: str) -> ModelSpec:
    return ModelSpec(id="ep/agent", backend="openai", base_url=base_url, model="served", context_window=8192)


@pytest.fixture
def pg(pool):
    return ProbabilisticGraph(SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=4))


def _ctx(pg, iteration: int) -> StepContext:
    return StepContext(space=pg.space, pg=pg, iteration=iteration, evaluations=[], best_graph=None,
                       best_objective=None, best_n=0, task="gsm")


def _steps(agent, pg, n: int):
    async def run():
        return [await agent.step(_ctx(pg, i + 1)) for i in range(n)]

    return asyncio.run(run())


def _agent_requests(seen: list[dict]) -> list[dict]:
    return [b for b in seen if b.get("max_tokens") != 1]


def _short(spec: ModelSpec, settings) -> OpenAIChatModel:
    """The agent's model with a timeout the slow server's sleep passes, one attempt a call."""
    return OpenAIChatModel(spec, settings, timeout_s=SHORT_S, max_attempts=1)


def test_a_timed_out_probe_is_undecided_not_a_finding(settings):
    app, _ = _server(slow_probes=1)
    with ServerThread(app) as srv:
        spec = _spec(srv.base_url)
        info = asyncio.run(describe_endpoint(spec, _short(spec, settings)))
    assert info.structured == "none"
    assert info.undecided is not None and "timed out" in info.undecided


def test_the_agent_probes_again_at_the_next_step_and_says_so(pg, settings, caplog):
    app, seen = _server(slow_probes=1)
    with ServerThread(app) as srv, caplog.at_level(logging.WARNING):
        spec = _spec(srv.base_url)
        agent = LLMFeedbackAgent(_short(spec, settings), spec=spec)
        first = _steps(agent, pg, 1)[0]
        note = agent.describe().get("structured_note", "")
        second = _steps(agent, pg, 1)[0]
    requests = _agent_requests(seen)
    assert first.fallback is None and second.fallback is None
    assert "response_format" not in requests[0]  # the probe decided nothing: no schema this step
    assert requests[1]["response_format"]["type"] == "json_schema"  # probed again, and found
    assert "timed out" in note and "asked again next step" in note
    assert any("timed out" in r.getMessage() and "ep/agent" in r.getMessage() for r in caplog.records)
    assert agent.describe()["structured_output"] == "json_schema"


def test_the_agent_stops_probing_after_max_probes(pg, settings):
    steps = agent_module.MAX_PROBES + 1
    app, seen = _server(slow_probes=100)
    with ServerThread(app) as srv:
        spec = _spec(srv.base_url)
        agent = LLMFeedbackAgent(_short(spec, settings), spec=spec)
        _steps(agent, pg, steps)
    probes = [b for b in seen if b.get("max_tokens") == 1]
    assert len(probes) == agent_module.MAX_PROBES  # one a step, then no more
    assert all("response_format" not in b for b in _agent_requests(seen))
    described = agent.describe()
    assert described["structured_output"] == "none" and "go without a schema" in described["structured_note"]


def _timed_agent(spec: ModelSpec, settings, attempts: int) -> LLMFeedbackAgent:
    async def no_wait(_: float) -> None:
        return None

    model = OpenAIChatModel(spec, settings, timeout_s=SHORT_S, max_attempts=attempts, sleep=no_wait)
    return LLMFeedbackAgent(model, spec=spec, endpoint=EndpointInfo(8192, "pool entry", "json_schema"))


def test_a_request_re_sent_after_a_timeout_is_in_the_steps_notes(pg, settings):
    app, seen = _server(slow_calls=1)
    with ServerThread(app) as srv:
        fb = _steps(_timed_agent(_spec(srv.base_url), settings, attempts=3), pg, 1)[0]
    assert len(seen) == 2 and fb.fallback is None
    assert any("1 of 2 requests" in n and "timed out" in n and "timeout_s" in n for n in fb.notes), fb.notes


@pytest.mark.timeout(60)  # a hang guard only: how long the step took is not asserted (timing lives in benchmarks/)
def test_a_step_whose_requests_all_timed_out_falls_back_as_timeout(pg, settings, monkeypatch):
    sent_timeouts = spy_on_sent_timeouts(monkeypatch)
    app, seen = _server(slow_calls=100)
    with ServerThread(app) as srv:
        fb = _steps(_timed_agent(_spec(srv.base_url), settings, attempts=2), pg, 1)[0]
    assert len(seen) == 2
    assert sent_timeouts == [every_phase(SHORT_S)] * 2  # each attempt was sent with the agent's timeout
    assert fb.fallback_reason == "timeout"
    assert "after 2 attempts" in fb.fallback and "2 requests sent" in fb.fallback and "timeout_s" in fb.fallback
