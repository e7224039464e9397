"""What a client gets for each kind of failed run (docs/tutorials/serve.md, "When a run fails"), over loopback
HTTP with a stub answerer that raises it: a budget stop or another error the graph found in the request is the
client's 400 `invalid_request_error` (no code); an unexpected exception is a 500 `server_error` with
`x-should-retry: false` and no traceback; a request too long by itself is a 400 with code
`context_length_exceeded` and param `messages`, streamed or not."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from rolegraph.errors import BudgetExceededError, RolegraphError
from rolegraph.serve.answerer import RequestTooLongError
from rolegraph.serve.app import ServeOptions, create_app
from rolegraph.sim.server import ServerThread


class Raising:
    model_id = "stub"
    streams = False

    def __init__(self) -> None:
        self.exc: BaseException = RuntimeError("unset")

    async def answer(self, question, *, seed=0, listener=None, on_text=None):
        raise self.exc


@pytest.fixture(scope="module")
def server():
    answerer = Raising()
    with ServerThread(create_app(answerer)) as s:
        s.answerer = answerer
        yield s


def _post(server, exc: BaseException, stream: bool = False) -> httpx.Response:
    server.answerer.exc = exc
    body = {"model": "stub", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=10)


@pytest.mark.parametrize(
    "exc",
    [BudgetExceededError("the run would exceed its $0.01 cap"), RolegraphError("the question names no known tool")],
)
def test_a_budget_stop_or_a_request_the_graph_refused_is_the_clients_400(server, exc):
    r = _post(server, exc)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] is None
    assert error["message"] == str(exc)
    assert "x-should-retry" not in r.headers


def test_an_unexpected_exception_is_a_500_not_retried_without_its_text(server):
    r = _post(server, KeyError("secret internals"))
    assert r.status_code == 500, r.text
    error = r.json()["error"]
    assert error["type"] == "server_error" and "secret internals" not in r.text
    assert r.headers["x-should-retry"] == "false"


def test_a_request_too_long_names_the_messages_and_the_code(server):
    r = _post(server, RequestTooLongError("the request is too long for the graph's model"))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
    )


def test_a_streamed_request_too_long_carries_the_code_in_band(server):
    r = _post(server, RequestTooLongError("the request is too long for the graph's model"), stream=True)
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    errors = [e["error"] for e in events if "error" in e]
    if r.status_code != 200:  # refused before the stream began: the plain error body
        errors = [r.json()["error"]]
    assert len(errors) == 1
    assert (errors[0]["type"], errors[0]["code"]) == ("invalid_request_error", "context_length_exceeded")


def test_a_streamed_unexpected_exception_is_a_server_error_in_band(server):
    r = _post(server, KeyError("secret internals"), stream=True)
    assert r.status_code == 200
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    errors = [e["error"] for e in events if "error" in e]
    assert len(errors) == 1 and errors[0]["type"] == "server_error"
    assert "secret internals" not in r.text


class Slow(Raising):
    async def answer(self, question, *, seed=0, listener=None, on_text=None):
        await asyncio.sleep(30)


def test_a_run_past_the_timeout_is_a_504():
    with ServerThread(create_app(Slow(), ServeOptions(timeout_s=0.2))) as s:
        body = {"model": "stub", "messages": [{"role": "user", "content": "hi"}]}
        r = httpx.post(f"{s.base_url}/chat/completions", json=body, timeout=20)
    assert r.status_code == 504, r.text
    assert r.json()["error"]["type"] == "server_error"
