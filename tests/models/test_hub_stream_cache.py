"""`--cache` (on by default) must not turn token streaming off: through the hub's cache layer a miss streams
from a real SSE endpoint in pieces and is stored; the same call again is a hit, sent whole and marked cached;
the streamed call is counted as paid (dollars and measured time), the hit as cached. Loopback server, real
`openai` client."""
from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.models.streaming import can_stream
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread

WORDS = ["Six ", "times ", "seven. ", "Final answer: 42"]
MESSAGES = [{"role": "user", "content": "What is 6 * 7?"}]


def _sse_server() -> tuple[FastAPI, list[dict]]:
    seen: list[dict] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        seen.append(body)

        def events():
            for w in WORDS:
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            last = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}}
            yield f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app, seen


def test_a_cache_miss_streams_and_is_stored_and_a_hit_comes_whole(tmp_path):
    app, seen = _sse_server()
    with ServerThread(app) as srv:
        spec = ModelSpec(id="sse/model", backend="openai", base_url=srv.base_url, model="m",
                         price_in=1.0, price_out=2.0)
        hub = ModelHub(ModelPool([spec], (spec.id,)), Settings(home=tmp_path / "home", cache=True))
        model = hub.get(spec.id)
        assert can_stream(model)  # what `rolegraph serve` asks before saying "streams from its model"

        async def go():
            try:
                first = [p async for p in model.stream(MESSAGES, max_tokens=32)]
                second = [p async for p in model.stream(MESSAGES, max_tokens=32)]
                whole = await model.complete(MESSAGES, max_tokens=32)
                return first, second, whole
            finally:
                await hub.aclose()

        first, second, whole = asyncio.run(go())
    *pieces, done = first
    assert pieces == WORDS and isinstance(done, Completion) and not done.cached  # streamed, piece by piece
    *again, hit = second
    assert again == ["".join(WORDS)] and hit.cached and hit.text == done.text  # the stored reply, whole
    assert whole.cached and whole.text == done.text  # `complete` finds what the stream stored
    assert len(seen) == 1 and seen[0]["stream"] is True
    assert (hub.stats.calls, hub.stats.cached) == (3, 2)
    assert hub.stats.paid_usd == spec.cost(9, 6)  # the streamed call was paid for, once
