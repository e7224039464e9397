"""A request for a reply a graph cannot give, JSON mode or a JSON schema (`response_format`) or per-token
log-probabilities (`logprobs`, `top_logprobs`), is refused with a 400 in OpenAI's error format that says why,
through the official `openai` client; it was accepted and answered with free text and `logprobs: null`, the
client never told. `response_format` {"type": "text"} and `logprobs` false stay accepted."""

from __future__ import annotations

import openai
import pytest

from rolegraph.serve.app import create_app
from rolegraph.sim.server import ServerThread
from tests.serve.test_requests import TEXT, StubAnswerer

MESSAGES = [{"role": "user", "content": "hi"}]
SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}},
}
FREE_TEXT = "a graph's answer is its output node's free text, which no JSON mode or schema constrains"
NO_LOGPROBS = "a graph's answer is built from its nodes' replies (often from several models), so it has no per-token"


@pytest.fixture(scope="module")
def stub():
    answerer = StubAnswerer()
    with ServerThread(create_app(answerer)) as server:
        server.answerer = answerer
        yield server


@pytest.fixture
def client(stub):
    return openai.OpenAI(base_url=stub.base_url, api_key="none", max_retries=2)


def _refused(stub, client, **extra) -> dict:
    before = len(stub.answerer.seeds)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="stub", messages=MESSAGES, **extra)
    assert info.value.status_code == 400
    assert len(stub.answerer.seeds) == before  # refused before any run, and not retried
    body = info.value.body
    assert set(body) == {"message", "type", "param", "code"}, body
    assert body["type"] == "invalid_request_error"
    return body


@pytest.mark.parametrize(("shape", "kind"), [({"type": "json_object"}, "json_object"), (SCHEMA, "json_schema")])
def test_json_mode_and_a_json_schema_are_refused_saying_why(stub, client, shape, kind):
    body = _refused(stub, client, response_format=shape)
    assert body["param"] == "response_format" and body["code"] == "unsupported_value"
    assert body["message"].startswith(f"response_format type '{kind}' is not supported: {FREE_TEXT}")
    assert "\n" not in body["message"]


@pytest.mark.parametrize("extra", [{"logprobs": True}, {"logprobs": True, "top_logprobs": 3}])
def test_logprobs_are_refused_saying_why(stub, client, extra):
    body = _refused(stub, client, **extra)
    assert body["param"] == "logprobs" and body["code"] == "unsupported_value"
    assert body["message"].startswith(f"logprobs are not supported: {NO_LOGPROBS}")


def test_top_logprobs_alone_is_refused(stub, client):
    body = _refused(stub, client, top_logprobs=2)
    assert body["param"] == "top_logprobs" and body["message"].startswith("logprobs are not supported")


@pytest.mark.parametrize(
    ("extra", "param", "message"),
    [
        ({"response_format": "json"}, "response_format", "'response_format' must be an object with a string 'type'"),
        ({"response_format": {}}, "response_format", "'response_format' must be an object with a string 'type'"),
        ({"logprobs": "yes"}, "logprobs", "'logprobs' must be a boolean"),
    ],
)
def test_malformed_values_are_named(stub, client, extra, param, message):
    body = _refused(stub, client, extra_body=extra)
    assert body["param"] == param and body["message"] == message


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"response_format": {"type": "text"}},
        {"logprobs": False},
        {"logprobs": False, "top_logprobs": 0},
        {"response_format": {"type": "text"}, "logprobs": False, "stream": False},
    ],
)
def test_plain_text_and_no_logprobs_stay_accepted(client, extra):
    reply = client.chat.completions.create(model="stub", messages=MESSAGES, **extra)
    assert reply.choices[0].message.content == TEXT and reply.choices[0].logprobs is None


def test_a_streamed_request_for_json_mode_is_refused_before_the_stream(stub, client):
    body = _refused(stub, client, response_format={"type": "json_object"}, stream=True)
    assert body["param"] == "response_format"
