"""OpenAI-shaped loopback servers for the tests: ones that do not take `n` (coalesced sampling), and one that answers
slowly the first time (timeouts)."""
from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

LLAMA_CPP_FIELD_N = "Field 'n': Value must be between 1 <= value <= 1"  # llama.cpp server's 400 for n > 1


class RecordingChat:
    """An OpenAI-shaped loopback app whose /v1/chat/completions records each request body (`bodies`) and answers
    with the subclass's `reply(body)`: the skeleton every server of these tests shares."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.app = FastAPI()

        @self.app.post("/v1/chat/completions")
        async def chat(request: Request):
            body = json.loads(await request.body())
            self.bodies.append(body)
            return await self.reply(body)

    async def reply(self, body: dict) -> Any:
        raise NotImplementedError


class NoNServer(RecordingChat):
    """An OpenAI-shaped server without `n`: `mode="refuse"` answers a request for n > 1 with a 400 carrying
    `message` (llama.cpp's server's by default), `mode="one"` returns a single choice like llama-cpp-python's.
    Bodies are recorded."""

    def __init__(self, mode: str, message: str = LLAMA_CPP_FIELD_N):
        super().__init__()
        self.mode, self.message = mode, message

    async def reply(self, body: dict) -> Any:
        if self.mode == "refuse" and body.get("n", 1) != 1:
            return JSONResponse({"error": {"code": 400, "type": "invalid_request_error", "message": self.message}},
                                status_code=400)
        choice = {"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "content": f"reply {len(self.bodies)}\nFinal answer: 7"},
                  "logprobs": {"content": [{"token": "a", "logprob": -0.5}, {"token": "b", "logprob": -1.5}]}}
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice],
                "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}}


class SlowFirstTime(RecordingChat):
    """Answers each distinct request (its messages) after `slow_s` the first time, at once after that: a client
    waiting less abandons the first attempt and its retry is answered. `slow` holds the bodies it answered slowly."""

    def __init__(self, slow_s: float):
        super().__init__()
        self.slow_s = slow_s
        self.seen: set[str] = set()
        self.slow: list[dict] = []
        self._lock = threading.Lock()

    async def reply(self, body: dict) -> Any:
        key = json.dumps(body["messages"], sort_keys=True)
        with self._lock:
            first = key not in self.seen
            self.seen.add(key)
            if first:
                self.slow.append(body)
        if first:
            await asyncio.sleep(self.slow_s)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Final answer: 7"}}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}}


class Canned(RecordingChat):
    """Answers every request with the same `content` and usage (`prompt_tokens`, `completion_tokens`), whatever it
    asked: a priced endpoint whose replies a test fixes. Bodies are recorded."""

    def __init__(self, content: str, prompt_tokens: int, completion_tokens: int):
        super().__init__()
        self.content, self.usage = content, (prompt_tokens, completion_tokens)

    async def reply(self, body: dict) -> Any:
        prompt, completion = self.usage
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": self.content}}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}
