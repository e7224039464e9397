"""`watch_attempts` lets a caller see the requests the backend's retry policy sent for its calls: a timed-out
attempt re-sent before the reply is counted with why it failed, per task (a concurrent caller's attempts are
not mixed in), and calls outside the block are not watched."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.attempts import CALL_ATTEMPTS, watch_attempts
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.sim.server_thread import ServerThread

TIMEOUT_S = 0.3
SLOW_S = 1.5


def _server() -> FastAPI:
    """The first request whose first message is "slow" sleeps past the timeout; every other one answers."""
    app = FastAPI()
    slept: list[int] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        if body["messages"][0]["content"] == "slow" and not slept:
            slept.append(1)
            await asyncio.sleep(SLOW_S)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]}

    return app


def test_a_timed_out_attempt_is_counted_for_its_caller_only(settings):
    async def no_wait(_: float) -> None:
        return None

    with ServerThread(_server()) as srv:
        spec = ModelSpec(id="ep/m", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, settings, timeout_s=TIMEOUT_S, max_attempts=3, sleep=no_wait)

        async def call(text: str):
            with watch_attempts() as seen:
                out = await model.complete([{"role": "user", "content": text}])
            return out, seen

        async def run():
            try:
                (slow, slow_seen), (fast, fast_seen) = await asyncio.gather(call("slow"), call("fast"))
                await model.complete([{"role": "user", "content": "unwatched"}])
                return slow, slow_seen, fast, fast_seen
            finally:
                await model.aclose()

        slow, slow_seen, fast, fast_seen = asyncio.run(run())
    assert slow.text == fast.text == "ok"
    assert (slow_seen.sent, slow_seen.total) == (1, 2)
    assert len(slow_seen.failed) == 1 and "timed out" in slow_seen.failed[0]
    assert (fast_seen.sent, fast_seen.failed) == (1, [])  # the other task's re-sent attempt is not its own
    assert CALL_ATTEMPTS.get() is None
