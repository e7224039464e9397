"""A call's first attempt goes before tenacity is asked (`OpenAIChatModel._timed_retries`): a reply needs no retry
decision, so a call answered at once builds no `AsyncRetrying`; a failed first attempt is handed to tenacity as its
attempt 1, so what is retried, the waits, the attempt counts and the messages are the policy's as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.responses import JSONResponse

from rolegraph.models.attempts import single_attempt
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import RecordingSleep, http_spec
from tests.models.fake_servers import RecordingChat

MESSAGES = [{"role": "user", "content": "hi"}]
RETRY_AFTER_S = 2.0
BACKOFF = [0.5, 1.0]  # the default backoff's first two steps (base 0.5 s, doubling): waits before attempts 2, 3


class ScriptedServer(RecordingChat):
    """Answers request i with `script[i]`: "ok" (a reply naming i), "429" (Retry-After), "503" or "400"."""

    def __init__(self, script: list[str]):
        super().__init__()
        self.script = script

    async def reply(self, body: dict) -> Any:
        i = len(self.bodies) - 1
        step = self.script[min(i, len(self.script) - 1)]
        if step == "ok":
            choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"reply {i}"}}
            return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
        headers = {"retry-after": str(RETRY_AFTER_S)} if step == "429" else None
        error = {"error": {"message": f"scripted {step}", "type": "server_error", "code": None}}
        return JSONResponse(error, status_code=int(step), headers=headers)


def _call(tmp_path, monkeypatch, script: list[str], *, max_attempts: int = 3, single: bool = False):
    """(reply text or the error's message, requests the server got, waits asked for, retry objects built)."""
    built: list[int] = []
    original = OpenAIChatModel._retrying

    def counting(self):
        built.append(1)
        return original(self)

    monkeypatch.setattr(OpenAIChatModel, "_retrying", counting)
    server = ScriptedServer(script)
    sleep = RecordingSleep()

    async def go() -> str:
        spec = http_spec(base_url, answer_key=False, model_id="mine/scripted")
        model = OpenAIChatModel(spec, Settings(home=tmp_path, cache=False), max_attempts=max_attempts, sleep=sleep)
        try:
            if single:
                with single_attempt():
                    return (await model.complete(MESSAGES)).text
            return (await model.complete(MESSAGES)).text
        except ModelCallError as exc:
            return str(exc)
        finally:
            await model.aclose()

    with ServerThread(server.app) as thread:
        base_url = thread.base_url
        out = asyncio.run(go())
    return out, len(server.bodies), sleep.waits, len(built)


def test_a_call_answered_at_once_builds_no_retry_object(tmp_path, monkeypatch):
    out, requests, waits, built = _call(tmp_path, monkeypatch, ["ok"])
    assert (out, requests, waits) == ("reply 0", 1, [])
    assert built == 0


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (["429", "ok"], ("reply 1", 2, [RETRY_AFTER_S], 1)),  # the failure replayed: its Retry-After is waited
        (["503", "503", "ok"], ("reply 2", 3, BACKOFF, 1)),
        (["503"], ("after 3 attempts", 3, BACKOFF, 1)),  # the first failure counts as tenacity's attempt 1
        (["400", "ok"], ("HTTP 400: scripted 400", 1, [], 1)),  # not transient: tried once, no attempts said
    ],
)
def test_a_failed_first_attempt_is_the_policys_attempt_one(tmp_path, monkeypatch, script, expected):
    out, requests, waits, built = _call(tmp_path, monkeypatch, script)
    text, want_requests, want_waits, want_built = expected
    assert text in out and (requests, waits, built) == (want_requests, want_waits, want_built)
    if text.startswith("HTTP 400"):
        assert "attempt" not in out


def test_a_single_attempt_call_is_not_retried(tmp_path, monkeypatch):
    out, requests, waits, built = _call(tmp_path, monkeypatch, ["503", "ok"], single=True)
    assert "after 1 attempt:" in out and (requests, waits, built) == (1, [], 1)
