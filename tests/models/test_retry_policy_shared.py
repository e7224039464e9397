"""Calls and stream openings retry under one policy, built in one place (`OpenAIChatModel._retrying`): the
same attempts, the same waits, and a change to the policy reaches both."""

from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.openai_backend import ModelCallError, OpenAIChatModel
from rolegraph.settings import Settings
from tests.models.conftest import RecordingSleep

CLOSED = "http://127.0.0.1:9/v1"  # nothing listens: every attempt is refused (a transient failure)
MESSAGES = [{"role": "user", "content": "hi"}]
ATTEMPTS = 3
BACKOFF = [0.5, 1.0]  # the backoff's first two steps: waits before attempts 2 and 3


def test_a_call_and_a_stream_retry_alike_through_the_one_policy(tmp_path, monkeypatch):
    built: list[int] = []
    original = OpenAIChatModel._retrying

    def counting(self):
        built.append(self.max_attempts)
        return original(self)

    monkeypatch.setattr(OpenAIChatModel, "_retrying", counting)
    spec = ModelSpec(id="mine/closed", backend="openai", base_url=CLOSED, model="m")

    async def run(kind: str) -> tuple[str, list[float]]:
        sleep = RecordingSleep()
        model = OpenAIChatModel(spec, Settings(home=tmp_path, cache=False), max_attempts=ATTEMPTS, sleep=sleep)
        try:
            with pytest.raises(ModelCallError) as info:
                if kind == "call":
                    await model.complete(MESSAGES)
                else:
                    async for _ in model.stream(MESSAGES):
                        pass
            return str(info.value), sleep.waits
        finally:
            await model.aclose()

    call_message, call_waits = asyncio.run(run("call"))
    stream_message, stream_waits = asyncio.run(run("stream"))
    assert built == [ATTEMPTS, ATTEMPTS]  # each path asked the one policy once
    assert call_waits == BACKOFF and stream_waits == BACKOFF
    assert "connection refused" in call_message and "connection refused" in stream_message
