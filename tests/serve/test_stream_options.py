"""`stream_options` is checked like `stream`: a non-object, or an `include_usage` that is not a boolean, is a 400
naming the parameter. `bool(options.get("include_usage"))` turned usage on for "no" or any non-empty string, and
`stream_options or {}` let `0`, `""` or `[]` pass as no options."""
from __future__ import annotations

import json

import httpx
import openai
import pytest

from rolegraph.serve.app import create_app
from rolegraph.sim.server import ServerThread

from .test_requests import StubAnswerer


@pytest.fixture(scope="module")
def stub():
    with ServerThread(create_app(StubAnswerer())) as server:
        yield server


def _ask(base_url: str, **extra) -> httpx.Response:
    body = {"model": "stub", "stream": True, "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(f"{base_url}/chat/completions", json=body, timeout=30)


@pytest.mark.parametrize("options, message", [
    ({"include_usage": "no"}, "'stream_options.include_usage' must be a boolean"),
    ({"include_usage": "true"}, "'stream_options.include_usage' must be a boolean"),
    ({"include_usage": 1}, "'stream_options.include_usage' must be a boolean"),
    ({"include_usage": [True]}, "'stream_options.include_usage' must be a boolean"),
    ("include_usage", "'stream_options' must be an object"),
    (0, "'stream_options' must be an object"),
    ("", "'stream_options' must be an object"),
    ([], "'stream_options' must be an object"),
    (False, "'stream_options' must be an object"),
])
def test_a_stream_options_that_is_not_a_boolean_flag_is_a_400(stub, options, message):
    reply = _ask(stub.base_url, stream_options=options)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error == {"message": message, "type": "invalid_request_error", "param": "stream_options", "code": None}


def _usage_chunks(reply: httpx.Response) -> list[dict]:
    chunks = [json.loads(line[6:]) for line in reply.text.splitlines() if line.startswith("data: {")]
    return [c for c in chunks if "usage" in c]


@pytest.mark.parametrize("options, usage_chunks", [
    ({"include_usage": True}, 1),
    ({"include_usage": False}, 0),
    ({"include_usage": None}, 0),
    ({}, 0),
    (None, 0),
])
def test_a_boolean_or_absent_include_usage_is_honoured(stub, options, usage_chunks):
    reply = _ask(stub.base_url, stream_options=options)
    assert reply.status_code == 200, reply.text
    assert reply.text.rstrip().endswith("data: [DONE]")
    assert len(_usage_chunks(reply)) == usage_chunks


def test_the_openai_client_gets_a_bad_request_error_for_a_string_include_usage(stub):
    client = openai.OpenAI(base_url=stub.base_url, api_key="none", max_retries=0, timeout=30)
    with pytest.raises(openai.BadRequestError, match="include_usage' must be a boolean"):
        client.chat.completions.create(model="stub", stream=True, messages=[{"role": "user", "content": "hi"}],
                                       stream_options={"include_usage": "no"})  # type: ignore[typeddict-item]
    client.close()
