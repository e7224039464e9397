"""`rolegraph serve` against the real `openai` client (sync, async, streaming) and LangChain's ChatOpenAI,
with a real model behind the graph (SmolLM2-135M: llama.cpp's server, or in-process)."""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest

from rolegraph.models.pool import ModelPool

from .conftest import one_node_graph, serve

QUESTION = "Count from one to ten."


STREAM_SPREAD_S = 0.01


def test_models_lists_the_graph_as_one_model(served):
    client = openai.OpenAI(base_url=served.base_url, api_key="none")
    assert [m.id for m in client.models.list().data] == ["smol"]


def test_sync_client_gets_the_output_node_text(served):
    client = openai.OpenAI(base_url=served.base_url, api_key="none")
    reply = client.chat.completions.create(model="smol", messages=[{"role": "user", "content": QUESTION}])
    text = reply.choices[0].message.content
    assert text.strip() and reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens > 0 and reply.usage.prompt_tokens > 0
    details = reply.model_extra["rolegraph"]
    assert details["nodes"][0]["model"] == "llamacpp/smollm2-135m" and details["simulated"] is False


def test_stream_arrives_in_pieces_while_the_model_generates(served):
    """The check: more than one content chunk, the first well before the last (not finished text split up)."""
    client = openai.OpenAI(base_url=served.base_url, api_key="none")
    start = time.perf_counter()
    stream = client.chat.completions.create(model="smol", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True, stream_options={"include_usage": True})
    content, events, finish, usage = [], [], None, None
    for chunk in stream:
        ext = (chunk.model_extra or {}).get("rolegraph")
        if chunk.choices:
            piece = chunk.choices[0].delta.content
            if piece:
                content.append((time.perf_counter() - start, piece))
            finish = chunk.choices[0].finish_reason or finish
            if ext and "event" in ext:
                events.append(ext["event"])
        if chunk.usage is not None:
            usage = chunk.usage
    assert len(content) > 3
    first, last = content[0][0], content[-1][0]
    # SmolLM2 decodes ~10-100 tokens/s here: a real stream spreads its chunks over the generation (text
    # split after it finished arrives within about a millisecond; 0.04 s was seen for a short reply)
    assert last - first > STREAM_SPREAD_S and first < last
    assert events[:1] == ["node_start"] and events[-1] == "node_end" and finish == "stop"
    assert usage is not None and usage.completion_tokens >= len(content) - 1
    assert "".join(p for _, p in content).strip()


def test_async_client_concurrent_requests(served):
    async def main():
        client = openai.AsyncOpenAI(base_url=served.base_url, api_key="none")
        replies = await asyncio.gather(*(
            client.chat.completions.create(model="smol", messages=[{"role": "user", "content": q}], seed=1)
            for q in ("Say yes.", "Say no.")))
        await client.close()
        return replies

    replies = asyncio.run(main())
    assert all(r.choices[0].message.content.strip() for r in replies)


def test_langchain_chat_openai_talks_to_it(served):
    langchain_openai = pytest.importorskip("langchain_openai")
    llm = langchain_openai.ChatOpenAI(base_url=served.base_url, api_key="none", model="smol", max_retries=0)
    assert llm.invoke("Say hello.").content.strip()
    pieces = [c.content for c in llm.stream("Count to three.")]
    assert sum(1 for p in pieces if p) > 1


@pytest.mark.parametrize("body, status, fragment", [
    ("not json", 400, "not valid JSON"),
    ({"model": "smol"}, 400, "'messages' must be a non-empty list"),
    ({"model": "other", "messages": [{"role": "user", "content": "hi"}]}, 404, "does not exist"),
    ({"model": "smol", "messages": [{"role": "assistant", "content": "hi"}]}, 400, "last message must be the user"),
    ({"model": "smol", "n": 2, "messages": [{"role": "user", "content": "hi"}]}, 400, "'n' must be 1"),
    ({"model": "smol", "messages": [{"role": "user", "content": "hi"}],
      "tools": [{"type": "function", "function": {"name": "f"}}]}, 400, "takes no tools"),
    ({"model": "smol", "messages": [{"role": "user", "content": "x" * 3_000_000}]}, 413, "request body over"),
])
def test_bad_requests_get_openai_style_4xx_errors(served, body, status, fragment):
    content = body if isinstance(body, str) else json.dumps(body)
    r = httpx.post(f"{served.base_url}/chat/completions", content=content, timeout=30,
                   headers={"content-type": "application/json"})
    assert r.status_code == status
    error = r.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"


def test_the_openai_client_sees_a_bad_request_as_its_own_error(served):
    client = openai.OpenAI(base_url=served.base_url, api_key="none", max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 404 and "does not exist" in info.value.message
    r = httpx.get(f"{served.base_url}/nothing-here", timeout=10)
    assert r.status_code == 404 and "unknown path" in r.json()["error"]["message"]


def test_key_check(upstream_pool, tmp_path):
    with serve(one_node_graph("llamacpp/smollm2-135m"), upstream_pool, tmp_path, api_key="s3cret") as server:
        denied = openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            denied.models.list()
        allowed = openai.OpenAI(base_url=server.base_url, api_key="s3cret")
        assert [m.id for m in allowed.models.list().data] == ["smol"]


def test_in_process_local_model_streams_too(tmp_path):
    from rolegraph.models.local import engine_status

    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    with serve(one_node_graph("local/smollm2-135m", "local"), ModelPool.builtin(), tmp_path) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none")
        stream = client.chat.completions.create(model="local", messages=[{"role": "user", "content": QUESTION}],
                                                stream=True)
        pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
        assert len(pieces) > 3
        assert server.app.state.answerer.streams


def test_a_sim_graph_is_refused_in_one_line(tmp_path):
    from rolegraph.serve.answerer import GraphAnswerer, NotServableError
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings

    with pytest.raises(NotServableError, match="simulated models"):
        GraphAnswerer(one_node_graph("sim/llama-3.2-3b", role="solver"),
                      ModelHub(ModelPool.builtin(), Settings(home=tmp_path)))
