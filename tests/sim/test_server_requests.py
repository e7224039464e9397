"""serve-sim's answers to malformed requests (OpenAI-style JSON 4xx, never a plain-text 500), its reading of
`null` fields, and its hint to a twin pool entry that sends no answer key."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.models.conftest import HTTP_ID, SIM_ID, http_spec, task_calls

NESTING = 100_000  # 200 KB of brackets: far deeper than Python's recursion limit


def _body(**extra) -> dict:
    messages, key = task_calls(1)[0]
    return {"model": SIM_ID, "messages": messages, "max_tokens": 1024, "seed": 5,
            "rolegraph": {"answer_key": key.model_dump(), "sample": 0}, **extra}


def _post(server, content: dict | str) -> httpx.Response:
    url = f"{server.base_url}/chat/completions"
    if isinstance(content, str):
        return httpx.post(url, content=content, headers={"content-type": "application/json"}, timeout=30)
    return httpx.post(url, json=content, timeout=30)


@pytest.mark.parametrize("content, needle", [
    ({**_body(), "messages": ["hi"]}, "messages[0]"),
    ({**_body(), "messages": [{"role": "user", "content": 7}]}, "messages[0].content"),
    ({**_body(), "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "only text parts"),
    ('{"model": "%s", "messages": [{"role": "user", "content": "hi"}], "seed": 1e400}' % SIM_ID, "bad request field"),
    ("[" * NESTING + "]" * NESTING, "nested too deeply"),
])
def test_malformed_requests_get_a_400_json_error(server, content, needle):
    resp = _post(server, content)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert needle in error["message"] and error["type"] == "invalid_request_error"


@pytest.mark.parametrize("method, path, status", [("GET", "/v1/nothing-here", 404), ("POST", "/v1/models", 405)])
def test_unknown_paths_and_methods_get_openai_style_errors(server, method, path, status):
    resp = httpx.request(method, f"http://{server.host}:{server.port}{path}", timeout=10)
    assert resp.status_code == status
    error = resp.json()["error"]  # not FastAPI's {"detail": "Not Found"}
    assert path in error["message"] and error["type"] == "invalid_request_error"


def test_text_parts_read_as_the_same_text(server):
    plain = _body()
    parts = _body()
    parts["messages"] = [{**m, "content": [{"type": "text", "text": m["content"]}]} for m in plain["messages"]]
    as_parts = _post(server, parts)
    assert as_parts.status_code == 200, as_parts.text
    assert as_parts.json()["choices"][0]["message"] == _post(server, plain).json()["choices"][0]["message"]


def test_null_temperature_means_the_default(server):
    omitted = _post(server, _body())
    null = _post(server, _body(temperature=None))
    assert null.status_code == 200, null.text
    assert null.json()["choices"][0]["message"]["content"] == omitted.json()["choices"][0]["message"]["content"]


def test_a_twin_without_answer_key_is_told_to_set_it(server, tmp_path):
    """A pool entry pointing at serve-sim without `answer_key: true` gets no key from rolegraph even on a task item:
    serve-sim's refusal says what to change in the pool entry (not "for a free-form question ...")."""
    twin = http_spec(server.base_url, answer_key=False)
    hub = ModelHub(ModelPool([*ModelPool.builtin(), twin]), Settings(home=tmp_path, cache=False))
    messages, key = task_calls(1)[0]

    async def call():
        try:
            return await hub.get(HTTP_ID).complete(messages, answer_key=key, max_tokens=64)
        finally:
            await hub.aclose()

    with pytest.raises(Exception, match="answer_key: true") as info:
        asyncio.run(call())
    assert "answer key" in str(info.value)
