"""Who is at fault when a node's prompt does not fit its model (docs/tutorials/serve.md, "When a run fails"): a
request that is itself too long (an entry node's first call, holding only its role's instructions and the request)
is the client's 400 `invalid_request_error` (code `context_length_exceeded`, param `messages`); an overflow the
graph built (a predecessor's output, a loop's earlier round) is the server's 502 `server_error` naming the node.
Every context overflow used to be a 400, telling a client whose 30-character question was fine to change it.

The upstream is a loopback OpenAI-compatible endpoint that refuses, as OpenAI does, any prompt over `LIMIT`
characters, and replies at length to the role named by `long_for`."""
from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread

from .conftest import serve

MODEL = "tiny/window"
LIMIT = 3000  # characters of prompt the upstream takes; the built-in roles' prompts are about 500
LONG_REPLY = "word " * 800  # 4000 characters: a prompt holding it cannot fit
SHORT_QUESTION = "What is six times seven?"
LONG_QUESTION = "Please consider this. " * 200  # 4400 characters: too long with any role's prompt


class Upstream:
    """Counts its requests; refuses a prompt over LIMIT characters with OpenAI's context error."""

    def __init__(self) -> None:
        self.requests = 0
        self.long_for = ""
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests += 1
        prompt = "".join(str(m.get("content") or "") for m in body["messages"])
        if len(prompt) > LIMIT:
            error = {"message": f"This model's maximum context length is {LIMIT} tokens. However, your messages "
                                f"resulted in {len(prompt)} tokens.", "type": "invalid_request_error",
                     "param": "messages", "code": "context_length_exceeded"}
            return JSONResponse({"error": error}, status_code=400)
        text = LONG_REPLY if self.long_for and prompt.startswith(self.long_for) else "Final answer: 42"
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return JSONResponse({"id": "up", "object": "chat.completion", "created": 0, "model": body["model"],
                             "choices": [choice], "usage": usage})


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    with ServerThread(up.app) as server:
        up.base_url = server.base_url
        yield up


@pytest.fixture
def fresh(upstream):
    upstream.requests, upstream.long_for = 0, ""
    return upstream


def _pool(upstream: Upstream) -> ModelPool:
    spec = ModelSpec(id=MODEL, backend="openai", base_url=upstream.base_url, model="tiny", params_b=0.135,
                     layers=30, hidden=576)
    return ModelPool([*ModelPool.builtin(), spec])


def _graph(nodes: list[tuple[str, str]], edges=(), loops=()) -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "g", "nodes": [{"id": i, "role": r, "model": MODEL, "params": {"max_tokens": 16}} for i, r in nodes],
        "edges": [list(e) for e in edges], "loops": list(loops)})


ONE = _graph([("answer", "solver")])
CHAIN = _graph([("solve", "solver"), ("check", "verifier")], [("solve", "check")])
LOOP = _graph([("solve", "solver"), ("verify", "verifier")], [("solve", "verify")],
              [{"from": "verify", "to": "solve", "max_rounds": 2, "until": "never", "sees": "all"}])


def _plain(base_url: str, question: str) -> httpx.Response:
    body = {"model": "g", "messages": [{"role": "user", "content": question}]}
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=60)


def _stream_error(base_url: str, question: str) -> dict:
    body = {"model": "g", "stream": True, "messages": [{"role": "user", "content": question}]}
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=60) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]", lines
    return json.loads(lines[-2].removeprefix("data: "))["error"]


def test_a_request_too_long_for_the_entry_node_is_the_clients_400(fresh, tmp_path):
    with serve(ONE, _pool(fresh), tmp_path) as server:
        reply = _plain(server.base_url, LONG_QUESTION)
        assert fresh.requests == 1
        streamed = _stream_error(server.base_url, LONG_QUESTION)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error", "context_length_exceeded", "messages")
    assert error["message"].startswith("the request is too long for the graph's model: node 'answer'"), error
    assert "x-should-retry" not in reply.headers  # a 4xx: the client does not retry it anyway
    assert (streamed["type"], streamed["code"], streamed["param"]) == (
        "invalid_request_error", "context_length_exceeded", "messages")  # as the plain response has it


def test_an_overflow_built_from_a_predecessors_output_is_the_servers_502(fresh, tmp_path):
    fresh.long_for = "Role: solver."  # the first node's long reply does not fit the second node's prompt
    with serve(CHAIN, _pool(fresh), tmp_path) as server:
        reply = _plain(server.base_url, SHORT_QUESTION)
        assert fresh.requests == 2  # the solver answered; the verifier's prompt was refused
        streamed = _stream_error(server.base_url, SHORT_QUESTION)
    assert reply.status_code == 502, reply.text
    error = reply.json()["error"]
    assert error["type"] == "server_error" and error["code"] is None
    assert error["message"].startswith("node 'check' (verifier on tiny/window) failed"), error
    assert reply.headers["x-should-retry"] == "false"
    assert streamed["type"] == "server_error" and streamed["message"].startswith("node 'check'")


def test_an_entry_nodes_later_loop_round_that_overflows_is_the_servers_502(fresh, tmp_path):
    """`solve` reads only the request in round 1, but round 2 also reads the verifier's long feedback."""
    fresh.long_for = "Role: verifier."
    with serve(LOOP, _pool(fresh), tmp_path) as server:
        reply = _plain(server.base_url, SHORT_QUESTION)
    assert fresh.requests == 3  # solve@1, verify@1, and solve@2 refused
    assert reply.status_code == 502, reply.text
    error = reply.json()["error"]
    assert error["type"] == "server_error" and error["message"].startswith("node 'solve@2' (solver on"), error
