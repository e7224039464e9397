"""A slow OpenAI-shaped loopback server that keeps its own record of what it served (and so billed), for the tests
of calls left in flight by a stop: what a search counted is checked against the server's books, not rolegraph's."""
from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from tests.models.fake_servers import RecordingChat

PRICE_IN, PRICE_OUT = 50.0, 100.0  # dollars per million tokens, as the probe's pool priced llama.cpp's server


def usage_of(body: dict) -> tuple[int, int]:
    """(prompt, completion) tokens the server bills for a request: fixed by the request alone, so the same
    request is billed the same in every run."""
    return len(json.dumps(body["messages"])) // 4 + 1, 3 + len(body["messages"])


def dollars(pt: int, ct: int) -> float:
    return (pt * PRICE_IN + ct * PRICE_OUT) / 1e6


class SlowBilling(RecordingChat):
    """Answers each request after `delay_s` with 'Final answer: 7'; `served` holds the body of every reply it
    finished (generated, so billed, whether or not the caller was still there to read it), `arrived` is set at
    the first request."""

    def __init__(self, delay_s: float):
        super().__init__()
        self.delay_s = delay_s
        self.served: list[dict] = []
        self.arrived = threading.Event()
        self._lock = threading.Lock()

    async def reply(self, body: dict) -> Any:
        self.arrived.set()
        await asyncio.sleep(self.delay_s)
        pt, ct = usage_of(body)
        with self._lock:
            self.served.append(body)
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Final answer: 7"}}],
                "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}

    def billed(self, start: int = 0) -> float:
        """Dollars of the replies served from the `start`-th on, at the server's own prices and token counts."""
        return sum(dollars(*usage_of(b)) for b in self.served[start:])

    def settled(self, timeout_s: float = 10.0) -> None:
        """Wait until every request that arrived has been served (a caller that left does not stop the server)."""
        for _ in range(int(timeout_s / 0.01)):
            if len(self.served) >= len(self.bodies):
                return
            threading.Event().wait(0.01)
        raise AssertionError(f"{len(self.bodies) - len(self.served)} requests never served")
