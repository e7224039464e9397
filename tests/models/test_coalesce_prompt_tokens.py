"""The prompt tokens of a coalesced (`n`) request are counted once and shared among its choices, however the server
reports usage: the way llama.cpp's server does (the first choice's alone: `prompt_tokens` the prompt's length, read
once for the k choices, `completion_tokens` one choice's count) or the way OpenAI and vLLM do (the prompt once, the
completions summed); each choice keeps its own output tokens either way. Real loopback servers and the real `openai`
client."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.sim.server import ServerThread
from tests.models.fake_servers import RecordingChat

FAST = {"timeout_s": 5.0, "backoff_base_s": 0.001, "backoff_cap_s": 0.01}
PROMPT_TOKENS = 198
CHOICE_TOKENS = [7, 5]  # each choice's own output tokens (its log-probability entries say so)
PRICES = {"price_in": 0.5, "price_out": 1.0}  # dollars per million tokens
MESSAGES = [{"role": "user", "content": "What is 6 x 7?"}]


class UsageServer(RecordingChat):
    """An OpenAI-shaped server taking `n`: `style="llamacpp"` reports one choice's usage, `style="openai"` the
    prompt once and the completions summed. Request bodies are recorded."""

    def __init__(self, style: str):
        super().__init__()
        self.style = style

    async def reply(self, body: dict) -> Any:
        n = body.get("n", 1)
        counts = CHOICE_TOKENS[:n]
        choices = [{"index": i, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": f"six sevens {i}\nFinal answer: 42"},
                    "logprobs": {"content": [{"token": "t", "logprob": -0.1}] * c}}
                   for i, c in enumerate(counts)]
        completion = counts[0] if self.style == "llamacpp" else sum(counts)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion,
                          "total_tokens": PROMPT_TOKENS + completion}}


def _two_samples(style: str, settings):
    server = UsageServer(style)
    with ServerThread(server.app) as srv:
        spec = ModelSpec(id="rec/m", backend="openai", base_url=srv.base_url, model="m", **PRICES)
        model = OpenAIChatModel(spec, settings, **FAST)

        async def go():
            try:
                return await model.complete_n(MESSAGES, samples=[1, 2], temperature=0.7, max_tokens=64, seed=1)
            finally:
                await model.aclose()

        outs = asyncio.run(go())
    assert [b.get("n", 1) for b in server.bodies] == [2]  # one coalesced request
    return outs


@pytest.mark.parametrize("style", ["llamacpp", "openai"])
def test_the_prompt_is_counted_once_and_shared_however_usage_is_reported(settings, style):
    """llama.cpp processes the prompt once for the k choices (its /metrics say so) and OpenAI bills it once: k nodes
    are charged one prompt, not k (a llama.cpp reply used to give each node the whole prompt)."""
    outs = _two_samples(style, settings)
    assert [c.usage.input_tokens for c in outs] == [PROMPT_TOKENS // 2, PROMPT_TOKENS // 2]
    assert [c.usage.output_tokens for c in outs] == CHOICE_TOKENS
    want = [(PROMPT_TOKENS // 2 * 0.5 + out * 1.0) / 1e6 for out in CHOICE_TOKENS]
    assert [c.cost_usd for c in outs] == pytest.approx(want)
