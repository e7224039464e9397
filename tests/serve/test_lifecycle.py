"""`rolegraph serve` when a request ends early: the client disconnects, or the server shuts down mid-run;
and the reply's finish_reason when the output node was cut at its max_tokens.

The graphs here run on a slow, counting, OpenAI-compatible loopback upstream (written below), so a test
sees exactly which upstream calls were made after the client or the server gave up."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.pool import ModelPool
from rolegraph.sim.server import ServerThread

from .conftest import serve

SLOW_ID = "slow/echo"
CALL_S = 1.0  # each upstream call takes this long
CLIENT_GIVES_UP_S = 0.4  # well inside the first node's call
QUIET_S = 3 * CALL_S + 1.0  # long enough for a three-node chain to finish, had it kept running
REPLY = "Final answer: 42"


class Upstream:
    """A slow OpenAI-compatible chat endpoint that counts the requests it receives (plain and streamed)."""

    def __init__(self) -> None:
        self.requests = 0
        self.delay_s = CALL_S
        self.finish = "stop"
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.chat)

    def reset(self, delay_s: float = CALL_S, finish: str = "stop") -> None:
        self.requests, self.delay_s, self.finish = 0, delay_s, finish

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests += 1
        await asyncio.sleep(self.delay_s)
        usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        head = {"id": "chatcmpl-up", "created": 0, "model": body["model"]}
        if not body.get("stream"):
            choice = {"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": self.finish}
            return JSONResponse(head | {"object": "chat.completion", "choices": [choice], "usage": usage})

        def event(delta: dict, finish: str | None = None, **extra) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return f"data: {json.dumps(head | {'object': 'chat.completion.chunk', 'choices': [choice]} | extra)}\n\n"

        async def events():
            yield event({"role": "assistant", "content": ""})
            for word in REPLY.split(" "):
                yield event({"content": word + " "})
            yield event({}, self.finish)
            yield f"data: {json.dumps(head | {'object': 'chat.completion.chunk', 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    with ServerThread(up.app) as server:
        up.base_url = server.base_url
        yield up


def chain(length: int) -> GraphSpec:
    nodes = [{"id": f"n{i}", "role": "chat", "model": SLOW_ID, "params": {"max_tokens": 16}} for i in range(length)]
    edges = [[f"n{i}", f"n{i + 1}"] for i in range(length - 1)]
    return GraphSpec.model_validate({"name": "slow", "nodes": nodes, "edges": edges})


def pool(upstream: Upstream) -> ModelPool:
    spec = ModelSpec(id=SLOW_ID, backend="openai", base_url=upstream.base_url, model="echo", params_b=0.135,
                     layers=30, hidden=576, context_window=2048)
    return ModelPool([*ModelPool.builtin(), spec])


def ask(base_url: str, timeout: float = 30, **extra) -> httpx.Response:
    body = {"model": "slow", "messages": [{"role": "user", "content": "What is six times seven?"}], **extra}
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=timeout)


def wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_plain_client_that_disconnects_stops_the_run(upstream, tmp_path):
    upstream.reset()
    with serve(chain(3), pool(upstream), tmp_path) as server:
        with pytest.raises(httpx.ReadTimeout):
            ask(server.base_url, timeout=CLIENT_GIVES_UP_S)
        time.sleep(QUIET_S)
        # only the first node's call was made: the run was cancelled while it was in flight
        assert upstream.requests == 1
        # the server is still fine and its gate is free again
        upstream.reset(delay_s=0.0)
        assert ask(server.base_url).status_code == 200 and upstream.requests == 3


def test_a_plain_client_that_disconnects_ends_its_upstream_call_unfinished(upstream, tmp_path):
    """A search keeps a real call its caller left (to count and cache it for the resume); serve does not: no one
    asks a left run again, so the upstream request is closed and its generation (a llama.cpp slot) stops."""
    upstream.reset()
    with serve(chain(1), pool(upstream), tmp_path) as server:
        hub = server.app.state.answerer.hub
        with pytest.raises(httpx.ReadTimeout):
            ask(server.base_url, timeout=CLIENT_GIVES_UP_S)
        time.sleep(CALL_S + 1.0)  # had the call been kept, it would have finished and been counted by now
        assert upstream.requests == 1 and hub.stats.calls == 0 and len(hub.in_flight) == 0


def _in_background(call):
    """Runs `call` in a thread; its result (or the exception it raised) lands in the returned box."""
    box: dict = {}

    def target():
        try:
            box["result"] = call()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            box["result"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_shutdown_ends_a_plain_request_with_a_503_json_error(upstream, tmp_path, caplog):
    upstream.reset(delay_s=30.0)
    server = serve(chain(1), pool(upstream), tmp_path).start()
    thread, box = _in_background(lambda: ask(server.base_url))
    wait_for(lambda: upstream.requests == 1)
    with caplog.at_level(logging.WARNING):
        server.stop()  # uvicorn's graceful shutdown: waits 1 s, then cancels the request's task
        thread.join(10)
    reply = box["result"]
    assert reply.status_code == 503 and reply.headers["content-type"].startswith("application/json")
    assert "shutting down" in reply.json()["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_shutdown_ends_a_stream_with_an_error_event_and_done(upstream, tmp_path, caplog):
    upstream.reset(delay_s=30.0)
    server = serve(chain(1), pool(upstream), tmp_path).start()

    def read_stream() -> list[str]:
        body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "Six times seven?"}]}
        with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, timeout=30) as r:
            return [line for line in r.iter_lines() if line.startswith("data: ")]

    thread, box = _in_background(read_stream)
    wait_for(lambda: upstream.requests == 1)
    with caplog.at_level(logging.WARNING):
        server.stop()
        thread.join(10)
    lines = box["result"]
    assert isinstance(lines, list), f"the stream broke off: {lines!r}"
    assert lines[-1] == "data: [DONE]"
    error = json.loads(lines[-2].removeprefix("data: "))["error"]
    assert "shutting down" in error["message"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize("stream", [False, True])
def test_finish_reason_is_length_when_the_output_node_was_cut(upstream, tmp_path, stream):
    upstream.reset(delay_s=0.0, finish="length")
    with serve(chain(1), pool(upstream), tmp_path) as server:
        if not stream:
            reply = ask(server.base_url).json()
            details = reply["rolegraph"]
            finish = reply["choices"][0]["finish_reason"]
        else:
            with httpx.stream("POST", f"{server.base_url}/chat/completions", timeout=30, json={
                    "model": "slow", "stream": True, "messages": [{"role": "user", "content": "Six times seven?"}]}) as r:
                chunks = [json.loads(x[6:]) for x in r.iter_lines() if x.startswith("data: {")]
            final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"])
            details, finish = final["rolegraph"], final["choices"][0]["finish_reason"]
    assert finish == "length"


def test_finish_reason_stays_stop_for_a_whole_reply(upstream, tmp_path):
    upstream.reset(delay_s=0.0)
    with serve(chain(1), pool(upstream), tmp_path) as server:
        assert ask(server.base_url).json()["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(("signame", "exit_code"), [("SIGINT", 130), ("SIGTERM", -15)])
def test_a_stop_signal_on_the_cli_ends_in_flight_requests_cleanly(upstream, tmp_path, signame, exit_code):
    """The real `rolegraph serve` process, SIGINT or SIGTERM with a plain and a streamed request in flight: a 503 JSON
    error, a final error event and [DONE], and no traceback on stderr. Ctrl-C exits 130; SIGTERM's process dies of
    the signal (Popen's -15, a shell's 143). uvicorn re-raises a captured SIGTERM as its `serve()` returns, and with
    the default action that had killed the process before the requests it had just cancelled wrote their answers
    (the plain client got `Server disconnected without sending a response`, the stream an incomplete chunked read)."""
    import os
    import signal

    from rolegraph.serve.guard import SHUTDOWN_CODE, SHUTDOWN_MESSAGE
    from rolegraph.settings import HOME_ENV
    from tests.cli.test_serve_cmd import Started

    upstream.reset(delay_s=30.0)
    pool_file, graph_file = tmp_path / "pool.yaml", tmp_path / "slow.yaml"
    pool_file.write_text(f"models:\n  - {{id: {SLOW_ID}, backend: openai, base_url: '{upstream.base_url}', "
                         "model: echo, params_b: 0.135, layers: 30, hidden: 576, context_window: 2048}\n")
    graph_file.write_text(f"name: slow\nnodes:\n  - {{id: answer, role: solver, model: {SLOW_ID}}}\n")
    server = Started(["serve", str(graph_file), "--pool", str(pool_file)], os.environ | {HOME_ENV: str(tmp_path)})
    try:
        def read_stream() -> list[str]:
            body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "Six times seven?"}]}
            with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, timeout=30) as r:
                return [line for line in r.iter_lines() if line.startswith("data: ")]

        plain, plain_box = _in_background(lambda: ask(server.base_url))
        streamed, stream_box = _in_background(read_stream)
        wait_for(lambda: upstream.requests == 2)
        server.proc.send_signal(getattr(signal, signame))
        plain.join(15)
        streamed.join(15)
        code = server.proc.wait(15)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    reply, lines = plain_box["result"], stream_box["result"]
    assert isinstance(reply, httpx.Response), f"the plain request broke off: {reply!r}"
    assert reply.status_code == 503, reply.text
    error = reply.json()["error"]
    assert error["message"] == SHUTDOWN_MESSAGE and error["code"] == SHUTDOWN_CODE
    assert isinstance(lines, list), f"the stream broke off: {lines!r}"
    assert lines[-1] == "data: [DONE]" and '"server shutting down; retry the request"' in lines[-2], lines
    assert code == exit_code, "".join(server.err)[-3000:]
    time.sleep(0.2)  # the stderr reader thread drains the pipe
    err = "".join(server.err)
    assert "Traceback" not in err, err[-3000:]
    # the documented stop is not an error: the command's own line, not uvicorn's "ERROR: Cancel 2 running task(s)"
    assert "ERROR" not in err, err[-3000:]
    assert "serve: stopping: 2 request(s) in flight ended with 503 server_shutting_down" in err, err[-3000:]


@pytest.mark.parametrize("seed", [2**63 - 1, -(2**63)])
def test_the_extreme_seeds_accepted_run_through_to_the_upstream(upstream, tmp_path, seed):
    """The seed range `serve` accepts is one the graph run and its upstream requests can carry (no 5xx)."""
    upstream.reset(delay_s=0.0)
    with serve(chain(2), pool(upstream), tmp_path) as server:
        reply = ask(server.base_url, seed=seed)
    assert reply.status_code == 200, reply.text
    assert upstream.requests == 2
