"""The agent's request fits a real 2,048-token window: llama.cpp's own server with SmolLM2-135M counts the
prompt (its `usage.prompt_tokens`), and prompt plus `max_tokens` must not pass the context. The prompt is
the number-heavy one of a long search (200 graphs scored); on SmolLM2 it ran at ~2.3 characters per token
and the first request asked for 1,487 + 770 tokens of a 2,048 window.

The server is asked to decode one token of each reply: what is checked is the agent's request (its prompt, as the
server counts it, and its max_tokens), never the reply, and no later prompt depends on a reply (the agent keeps
only the server's prompt count; max_retries=0, so a reply that does not parse falls back without a re-ask).
Decoding the replies in full (555 and 155 tokens) was about half of the test's time."""
from __future__ import annotations

import asyncio

from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.optimize.feedback import InitContext, PilotRow, StepContext
from rolegraph.optimize.llm_agent import LLMFeedbackAgent
from rolegraph.optimize.probabilistic import ProbabilisticGraph
from rolegraph.optimize.space import SearchSpace

from .conftest import SIM_MODELS

CONTEXT = 2048
DECODED = 1
"""Tokens the server is asked to decode per reply: the check is on the request, not the reply."""


class _Recorded:
    """The real model, with each request's max_tokens and the server's prompt count kept; the server decodes at
    most `DECODED` tokens of the reply (the prompt it counts is the same whatever max_tokens says)."""

    def __init__(self, inner: OpenAIChatModel):
        self.inner = inner
        self.spec = inner.spec
        self.sent: list[tuple[int, int]] = []

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    async def complete(self, messages, **kwargs):
        out = await self.inner.complete(messages, **{**kwargs, "max_tokens": min(kwargs["max_tokens"], DECODED)})
        self.sent.append((out.usage.input_tokens, kwargs["max_tokens"]))
        return out


def _graph(k: int) -> GraphSpec:
    return GraphSpec(name=f"g{k}", nodes=[NodeSpec(id="n0", role="solver", model=SIM_MODELS[k % 3]),
                                          NodeSpec(id="out", role="fuser", model=SIM_MODELS[(k // 3) % 3])],
                     edges=[("n0", "out")], output="out")


def _pilot(k: int) -> PilotRow:
    return PilotRow(label=f"{k % 4 + 1} x llama-3.2-{k % 3 + 1}b -> fuser", graph=_graph(k),
                    accuracy=0.7 - k / 100, latency_s=5.29 + k, dollars=0.00006 * (k + 1), n=16,
                    objective=0.7 - k / 100, budget_cost=5.98 + k)


def test_smollm2_counts_the_agents_first_requests_inside_its_window(llamacpp, settings, pool):
    space = SearchSpace(pool=pool, models=SIM_MODELS[:3], budget=18, max_nodes=6)
    pg = ProbabilisticGraph(space)
    scored = [(_graph(k), 0.9 - k / 400, 4 + k % 5) for k in range(200)]
    step = StepContext(space=space, pg=pg, iteration=2, evaluations=[], best_graph=scored[0][0],
                       best_objective=scored[0][1], best_n=scored[0][2], task="gsm", scored=scored)
    init = InitContext(space=space, pg=pg, pilot=[_pilot(k) for k in range(6)], task="gsm")
    model = _Recorded(OpenAIChatModel(llamacpp.spec("llamacpp/smollm2", context_window=CONTEXT), settings))
    agent = LLMFeedbackAgent(model, max_retries=0)

    async def run():
        try:
            await agent.initial(init)
            await agent.step(step)
        finally:
            await model.inner.aclose()

    asyncio.run(run())
    probe, *asked = model.sent  # the structured-output probe goes through the model too (a paid call)
    assert probe[1] == 1 and len(asked) == 2, model.sent
    for prompt_tokens, max_tokens in asked:
        assert prompt_tokens > 0 and prompt_tokens + max_tokens <= CONTEXT, model.sent
