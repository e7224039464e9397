"""llama.cpp's own server on loopback, through rolegraph's OpenAI-compatible backend and the real client."""
from __future__ import annotations

import asyncio

import httpx
import openai

from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.settings import Settings


def test_the_server_answers_the_openai_client(llamacpp):
    client = openai.OpenAI(base_url=llamacpp.base_url, api_key="none")
    reply = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "Say hello."}],
                                           max_tokens=8, temperature=0)
    assert reply.choices[0].message.content.strip()
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    props = httpx.get(f"{llamacpp.root}/props", timeout=5).json()
    assert props["default_generation_settings"]["n_ctx"] == llamacpp.n_ctx


def test_rolegraph_backend_reads_a_real_completion(llamacpp, tmp_path):
    model = OpenAIChatModel(llamacpp.spec(), Settings(home=tmp_path))

    async def main():
        try:
            return await model.complete([{"role": "user", "content": "What is 2 + 2?"}], max_tokens=16)
        finally:
            await model.aclose()

    out = asyncio.run(main())
    assert out.text and out.usage.output_tokens > 0 and out.latency_s > 0
    assert out.simulated is False and out.model_id == "llamacpp/smollm2-135m"
