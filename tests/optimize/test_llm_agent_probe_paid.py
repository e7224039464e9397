"""The LLM feedback agent's structured-output probe is a paid call like the agent's others: it goes through the
hub's model, so its dollars are in `paid_usd` (counted once) and a dollar cap too small for it refuses it before
it is sent. It went straight over HTTP: with `--agent-model llc/smol` a real search's store said $0.35905 against
$0.36105 served, the gap exactly the 1-token probe (38 tokens in, 1 out), which `--max-dollars` could not refuse."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.feedback import StepContext
from rolegraph.optimize.llm_agent import LLMFeedbackAgent
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.spending import SpendMeter
from rolegraph.sim.server_thread import ServerThread
from tests.models.fake_servers import RecordingChat

from .conftest import SIM_MODELS

VALID = '{"gradient": {"summary": "wider"}, "update": {"presence": {"n0": 0.9, "n1": 0.9, "n2": 0.9}}}'
PRICE_IN, PRICE_OUT = 2000.0, 4000.0
"""Dollars per million tokens: large, so each call's dollars are plain to see."""
PROBE_USAGE = (38, 1)
"""The probe's tokens as llama.cpp's server counted them for SmolLM2 (prompt, completion)."""
CALL_USAGE = (900, 60)


class AgentServer(RecordingChat):
    """Takes `json_schema`; answers the probe (max_tokens 1) with `{` and the agent's request with `VALID`, each
    with its usage."""

    async def reply(self, body: dict):
        probe = body.get("max_tokens") == 1
        prompt, completion = PROBE_USAGE if probe else CALL_USAGE
        text = "{" if probe else VALID
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "served",
                "choices": [{"index": 0, "finish_reason": "length" if probe else "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}


def _dollars(prompt: int, completion: int) -> float:
    return (prompt * PRICE_IN + completion * PRICE_OUT) / 1_000_000


@pytest.fixture
def pg(pool):
    return ProbabilisticGraph(SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=4))


def _spec(base_url: str) -> ModelSpec:
    return ModelSpec(id="ep/agent", backend="openai", base_url=base_url, model="served", context_window=8192,
                     price_in=PRICE_IN, price_out=PRICE_OUT, max_retries=0)


def _step(agent: LLMFeedbackAgent, pg, hub: ModelHub):
    ctx = StepContext(space=pg.space, pg=pg, iteration=1, evaluations=[], best_graph=None, best_objective=None,
                      best_n=0, task="gsm")

    async def run():
        try:
            return await agent.step(ctx)
        finally:
            await hub.aclose()

    return asyncio.run(run())


def test_the_probes_dollars_are_in_paid_usd_once(pg, settings):
    server = AgentServer()
    with ServerThread(server.app) as srv:
        spec = _spec(srv.base_url)
        hub = ModelHub(ModelPool([spec]), settings)
        agent = LLMFeedbackAgent(hub.get(spec.id), spec=spec)
        fb = _step(agent, pg, hub)
    assert fb.fallback is None and agent.describe()["structured_output"] == "json_schema"
    assert [b["max_tokens"] == 1 for b in server.bodies] == [True, False]  # the probe, then the agent's request
    assert server.bodies[0]["response_format"]["type"] == "json_schema"
    assert hub.stats.paid_usd == pytest.approx(_dollars(*PROBE_USAGE) + _dollars(*CALL_USAGE), rel=1e-12)
    assert hub.stats.paid == 2


def test_a_cap_too_small_for_the_probe_refuses_it_before_it_is_sent(pg, settings):
    server = AgentServer()
    with ServerThread(server.app) as srv:
        spec = _spec(srv.base_url)
        hub = ModelHub(ModelPool([spec]), settings)
        # the cap of the probe's one output token: its worst case (prompt + max_tokens 1) is past it, however the
        # guard estimates the prompt
        hub.spend_guard = SpendMeter.start(hub.stats, max_usd=_dollars(0, 1))
        agent = LLMFeedbackAgent(hub.get(spec.id), spec=spec)
        fb = _step(agent, pg, hub)
    assert server.bodies == []  # neither the probe nor the agent's request reached the server
    assert hub.stats.paid_usd == 0
    note = agent.describe()["structured_note"]
    assert "structured-output probe was refused" in note and "dollar cap" in note
    assert fb.fallback is not None and "dollar cap" in fb.fallback  # the step's own call was refused too
