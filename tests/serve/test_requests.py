"""`rolegraph serve`'s app over loopback HTTP with a stub `Answerer` (no model): malformed requests get
OpenAI-style 4xx JSON errors, and finish_reason follows the output node's truncation."""
from __future__ import annotations

import json

import httpx
import openai
import pytest

from rolegraph.serve.answerer import Reply
from rolegraph.serve.app import create_app
from rolegraph.sim.server import ServerThread

NESTING = 100_000  # 200 KB of brackets: far deeper than Python's recursion limit
TEXT = "forty-two"


class StubAnswerer:
    """Answers every question at once; `truncated` says whether its output node was cut at max_tokens."""

    model_id = "stub"
    streams = False

    def __init__(self, truncated: int = 0):
        self.truncated = truncated
        self.seeds: list[int] = []

    async def answer(self, question, *, seed=0, listener=None, on_text=None):
        self.seeds.append(seed)
        if on_text is not None:
            on_text(TEXT)
        node = {"id": "out", "role": "solver", "model": "m", "truncated_calls": self.truncated}
        return Reply(text=TEXT, answer=None, tokens_in=3, tokens_out=2, simulated=False,
                     details={"output_node": "out", "nodes": [node]})


@pytest.fixture(scope="module")
def stub():
    answerer = StubAnswerer()
    with ServerThread(create_app(answerer)) as server:
        server.answerer = answerer
        yield server


def _post(base_url: str, content: str | bytes) -> httpx.Response:
    return httpx.post(f"{base_url}/chat/completions", content=content, timeout=30,
                      headers={"content-type": "application/json"})


def _body(**extra) -> str:
    return json.dumps({"model": "stub", "messages": [{"role": "user", "content": "hi"}], **extra})


@pytest.mark.parametrize("content, fragment", [
    ("[" * NESTING + "]" * NESTING, "nested too deeply"),
    ('{"model": "stub", "messages": [{"role": "user", "content": "hi"}], "seed": 18446744073709551616}', "'seed'"),
    (_body(seed=-(2**63) - 1), "'seed'"),
    (_body(n=True), "'n' must be 1"),
])
def test_malformed_requests_get_a_4xx_json_error(stub, content, fragment):
    before = len(stub.answerer.seeds)
    r = _post(stub.base_url, content)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"
    assert len(stub.answerer.seeds) == before  # refused before any run


def test_the_largest_64_bit_seed_is_still_accepted(stub):
    r = _post(stub.base_url, _body(seed=2**63 - 1))
    assert r.status_code == 200 and stub.answerer.seeds[-1] == 2**63 - 1


def test_the_openai_client_does_not_retry_a_bad_seed(stub):
    client = openai.OpenAI(base_url=stub.base_url, api_key="none", max_retries=2)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="stub", messages=[{"role": "user", "content": "hi"}], seed=2**64)


@pytest.mark.parametrize("truncated, expected", [(1, "length"), (0, "stop")])
def test_finish_reason_follows_the_output_node(truncated, expected):
    with ServerThread(create_app(StubAnswerer(truncated))) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0)
        messages = [{"role": "user", "content": "hi"}]
        plain = client.chat.completions.create(model="stub", messages=messages)
        assert plain.choices[0].finish_reason == expected
        chunks = list(client.chat.completions.create(model="stub", messages=messages, stream=True))
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert finishes == [expected]


def test_an_unexpected_failure_is_still_a_json_error():
    class Broken(StubAnswerer):
        @property
        def model_id(self):  # read by the /v1/models handler: a bug there must not give a plain-text 500
            raise KeyError("boom")

    with ServerThread(create_app(Broken())) as server:
        r = httpx.get(f"{server.base_url}/models", timeout=10)
    assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"


@pytest.mark.parametrize(("cause", "status"),
                         [("request", 400), ("context", 502), ("http", 502), ("connection", 502)])
def test_a_request_too_long_is_the_clients_fault_and_any_other_failed_node_the_upstreams(cause, status):
    """`RequestTooLongError` (the request alone overflowed a node: `request_overflowed`) is a 400; a node's failure
    is a 502 whatever its cause, an overflow the graph built (a reader of other nodes' outputs) included."""
    from rolegraph.errors import NodeFailedError
    from rolegraph.models.openai_errors import ModelCallError
    from rolegraph.serve.answerer import RequestTooLongError

    class Failing(StubAnswerer):
        async def answer(self, question, *, seed=0, listener=None, on_text=None):
            if cause == "request":
                raise RequestTooLongError("node 'out' call failed: request too long for its model")
            upstream = ModelCallError(f"model 'm' call failed: {cause}", status=None, cause=cause)
            raise NodeFailedError(f"node 'out' failed: {upstream}", "out") from upstream

    with ServerThread(create_app(Failing())) as server:
        for stream in (False, True):
            r = httpx.post(f"{server.base_url}/chat/completions", timeout=10,
                           json={"model": "stub", "messages": [{"role": "user", "content": "hi"}], "stream": stream})
            if r.status_code == 200:  # a stream that had started reports the error in-band
                assert stream and '"error"' in r.text
                continue
            assert r.status_code == status and "call failed: " in r.json()["error"]["message"]
            assert (cause == "request") == ("too long" in r.json()["error"]["message"])
