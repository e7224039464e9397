"""A streaming client gets the whole answer whatever the graph: an output node that cannot stream its reply
(it runs in a loop, where only the last round is the answer, or it uses tools, whose calls' text is not its
output) sends its text as one content chunk when the run is done; a plain output node still streams token by
token; never both (no text twice). The real `openai` client against `rolegraph serve` on loopback, over a
scripted OpenAI-shaped upstream on loopback that streams when asked (a real model would only be slower)."""
from __future__ import annotations

import json
import zlib

import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread

from .conftest import serve

QUESTION = "What is 6 * 7?"
TOOL_RESULT_MARK = "calculator said"
TEXT_CALL = 'CALL calculator {"expression": "6*7"}'


def _text_for(messages: list[dict], answer: int = 42) -> str:
    """A reply that depends on the whole conversation: a loop's rounds (each reads the last one's feedback)
    get different texts, so the answer shows which round it is; the same request gets the same text."""
    tag = zlib.crc32(json.dumps(messages, sort_keys=True).encode())
    tool = [m["content"] for m in messages if m["role"] == "tool"]
    said = f" The {TOOL_RESULT_MARK} {tool[-1]}." if tool else ""
    return f"Reply {tag} to {len(messages)} messages.{said} Final answer: {answer}"


def _reply(text: str | None, tool_calls: list[dict] | None = None) -> dict:
    message = {"role": "assistant", "content": text, **({"tool_calls": tool_calls} if tool_calls else {})}
    finish = "tool_calls" if tool_calls else "stop"
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 6, "total_tokens": 16}}


def _sse(text: str) -> StreamingResponse:
    """The text word by word, then the usage chunk and [DONE], as an OpenAI server streams."""
    words = [w + " " for w in text.split(" ")[:-1]] + [text.split(" ")[-1]]

    def events():
        base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
        for w in words:
            yield f"data: {json.dumps(base | {'choices': [{'index': 0, 'delta': {'content': w}}]})}\n\n"
        done = base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(done)}\n\n"
        usage = {"prompt_tokens": 10, "completion_tokens": len(words), "total_tokens": 10 + len(words)}
        yield f"data: {json.dumps(base | {'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


def scripted_upstream(bodies: list[dict]) -> FastAPI:
    """Model `plain` answers 42 in text (`41`: 41); `tools` asks for the calculator natively, then answers with its result;
    `text-tools` writes the plain-text tool call first, then answers. Streams when asked, except a tool call."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        bodies.append(body)
        messages, model = body["messages"], body["model"]
        answered = any(m["role"] in ("tool", "assistant") for m in messages)
        if model == "tools" and body.get("tools") and not answered:
            name = body["tools"][0]["function"]["name"]
            call = {"id": "call_1", "type": "function",
                    "function": {"name": name, "arguments": json.dumps({"expression": "6*7"})}}
            if body.get("stream"):  # the node's runtime must not stream a call that may be a tool call
                return JSONResponse({"error": {"message": "test upstream: streamed tool call"}}, status_code=418)
            return _reply(None, [call])
        text = TEXT_CALL if model == "text-tools" and not answered else _text_for(messages, 41 if model == "41" else 42)
        return _sse(text) if body.get("stream") else _reply(text)

    return app


def _graph(name: str, nodes: list[dict], **extra) -> GraphSpec:
    return GraphSpec.model_validate({"name": name, "nodes": nodes, **extra})


LOOP = _graph("loop", [{"id": "solve", "role": "solver", "model": "up/41", "params": {"max_tokens": 64}},
                       {"id": "verify", "role": "verifier", "model": "up/plain", "params": {"max_tokens": 64}}],
              edges=[["solve", "verify"]], output="verify",
              loops=[{"from": "verify", "to": "solve", "max_rounds": 3, "until": "accepted"}])
TOOLS = _graph("tools", [{"id": "calc", "role": "solver", "model": "up/tools",
                          "params": {"tools": ["calculator"], "max_tokens": 48, "temperature": 0.0}}])
TEXT_TOOLS = _graph("text-tools", [{"id": "calc", "role": "solver", "model": "up/text-tools",
                                    "params": {"tools": ["calculator"], "tool_protocol": "text", "max_tokens": 48}}])
PLAIN = _graph("plain", [{"id": "answer", "role": "solver", "model": "up/plain", "params": {"max_tokens": 64}}])


@pytest.fixture(scope="module")
def upstream():
    bodies: list[dict] = []
    with ServerThread(scripted_upstream(bodies)) as server:
        server.bodies = bodies
        specs = [ModelSpec(id=f"up/{m}", backend="openai", base_url=server.base_url, model=m, max_retries=0)
                 for m in ("plain", "41", "tools", "text-tools")]
        server.pool = ModelPool([*ModelPool.builtin(), *specs])
        yield server


def _both(base_url: str, model: str) -> tuple[str, list[openai.types.chat.ChatCompletionChunk]]:
    """The non-streamed answer's text and the chunks of the same question streamed."""
    client = openai.OpenAI(base_url=base_url, api_key="none", max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]
    whole = client.chat.completions.create(model=model, messages=messages).choices[0].message.content
    chunks = list(client.chat.completions.create(model=model, messages=messages, stream=True))
    return whole or "", chunks


def _contents(chunks) -> list[str]:
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


@pytest.mark.parametrize("spec, reason", [(LOOP, "loop"), (TOOLS, "tools"), (TEXT_TOOLS, "tools")],
                         ids=["loop", "native-tools", "text-tools"])
def test_an_output_node_that_cannot_stream_sends_its_whole_text_once(upstream, tmp_path, spec, reason):
    with serve(spec, upstream.pool, tmp_path) as server:
        answerer = server.app.state.answerer
        assert not answerer.streams and reason in answerer.whole_reason  # what the startup line says
        whole, chunks = _both(server.base_url, spec.name)
    assert whole.endswith("Final answer: 42") and TEXT_CALL not in whole
    assert _contents(chunks) == [whole]  # one content chunk: all of the text, nothing twice
    finishes = [i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason]
    content_at = [i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content]
    assert len(finishes) == 1 and content_at[0] < finishes[0]
    assert chunks[finishes[0]].choices[0].finish_reason == "stop"


def test_the_loop_answer_is_its_last_round(upstream, tmp_path):
    with serve(LOOP, upstream.pool, tmp_path) as server:
        whole, chunks = _both(server.base_url, "loop")
    last = chunks[[i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason][0]]
    nodes = last.model_extra["rolegraph"]["nodes"]
    verifies = [n for n in nodes if n["id"].startswith("verify")]
    assert len(verifies) == 3  # the verifier (42) never agrees with the solver (41): three rounds
    assert _contents(chunks) == [whole]


def test_the_tool_result_reaches_the_streamed_answer(upstream, tmp_path):
    with serve(TOOLS, upstream.pool, tmp_path) as server:
        whole, chunks = _both(server.base_url, "tools")
    assert f"{TOOL_RESULT_MARK} 42" in "".join(_contents(chunks)) == whole
    assert not any(b.get("stream") and b.get("tools") for b in upstream.bodies)


def test_a_plain_output_node_still_streams_token_by_token(upstream, tmp_path):
    with serve(PLAIN, upstream.pool, tmp_path) as server:
        assert server.app.state.answerer.streams and server.app.state.answerer.whole_reason is None
        whole, chunks = _both(server.base_url, "plain")
    pieces = _contents(chunks)
    assert len(pieces) > 1 and "".join(pieces) == whole and whole.endswith("Final answer: 42")
    assert any(b.get("stream") for b in upstream.bodies)  # the upstream was asked for a stream


@pytest.mark.parametrize("text, sent, rest", [
    ("Final answer: 42", "", "Final answer: 42"),  # nothing streamed: all of it, once
    ("Final answer: 42", "Final ", "answer: 42"),  # a stream cut short: the rest
    ("Final answer: 42", "Final answer: 42", ""),  # streamed whole: nothing again
    ("Answer: 42", "Final answer: 42", ""),  # deltas a parser rewrote: never sent twice
])
def test_what_is_left_to_send(text, sent, rest):
    from rolegraph.serve.app import unsent

    assert unsent(text, sent) == rest
