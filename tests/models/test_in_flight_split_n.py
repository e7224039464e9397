"""A coalesced call split into several `n` requests (the endpoint takes n up to 2) whose caller is stopped while its
first part is on the wire: that part is kept (its reply counted and cached, one entry per sample) and the parts still
queued for the endpoint's slot are cancelled unsent, so a resume sends exactly the parts never sent. Before, the
queued parts shared the kept call's fate and went out after the stop; and had a part come back before the stop with
nothing on the wire, the whole call was cancelled and that billed reply was lost."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.responses import JSONResponse

from rolegraph.models.hub import ModelHub
from rolegraph.models.in_flight import InFlightCalls, Unsent, sending
from rolegraph.models.openai_backend import request_seed
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import http_spec
from tests.models.fake_servers import RecordingChat

MODEL = "llc/two-slots"
LIMIT = 2
PRICE_IN, PRICE_OUT = 50.0, 100.0
PROMPT_TOKENS, TOKENS_PER_CHOICE = 20, 3
ASK = [{"role": "user", "content": "Name a colour."}]
WARM = [{"role": "user", "content": "Name a fruit."}]
SAMPLING = {"temperature": 0.7, "max_tokens": 16, "seed": 5}


class LimitedN(RecordingChat):
    """Takes n up to `LIMIT` (llama.cpp's 400 above it), answers after `delay_s` with summed usage; `served` holds
    the bodies it answered (so billed), `arrived` is set by each request it will answer."""

    def __init__(self, delay_s: float):
        super().__init__()
        self.delay_s = delay_s
        self.served: list[dict] = []
        self.arrived = threading.Event()

    async def reply(self, body: dict) -> Any:
        n = body.get("n", 1)
        if n > LIMIT:
            message = f"Field 'n': Value must be between 1 <= value <= {LIMIT}, but got {n}"
            return JSONResponse({"error": {"code": 400, "type": "invalid_request_error", "message": message}},
                                status_code=400)
        self.arrived.set()
        await asyncio.sleep(self.delay_s)
        self.served.append(body)
        each, cut = _tokens(body), body["max_tokens"] < TOKENS_PER_CHOICE
        choices = [{"index": i, "finish_reason": "length" if cut else "stop",
                    "message": {"role": "assistant", "content": "red" if cut else f"colour {len(self.served)}.{i}"}}
                   for i in range(n)]
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": choices,
                "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": each * n,
                          "total_tokens": PROMPT_TOKENS + each * n}}


def _tokens(body: dict) -> int:
    """Output tokens per choice: the usage probe's one-token cut included, so its summed usage proves the rule."""
    return min(TOKENS_PER_CHOICE, body["max_tokens"])


def _billed(bodies: list[dict]) -> float:
    """Dollars of these requests at the server's own counts and the pool's prices."""
    return sum((PROMPT_TOKENS * PRICE_IN + _tokens(b) * b.get("n", 1) * PRICE_OUT) / 1e6 for b in bodies)


def test_a_stop_keeps_the_sent_part_and_sends_no_queued_part(tmp_path):
    server = LimitedN(delay_s=0.4)
    with ServerThread(server.app) as thread:
        spec = http_spec(thread.base_url, model="m", model_id=MODEL, answer_key=False, max_concurrency=1)
        spec = spec.model_copy(update={"price_in": PRICE_IN, "price_out": PRICE_OUT})
        hub = ModelHub(ModelPool([spec]), Settings(home=tmp_path / "home", cache=True))

        async def go():
            model = hub.get(MODEL)
            await model.complete_n(WARM, samples=[0, 1, 2], **SAMPLING)  # teaches the limit (n=3 refused)
            warm = len(server.served)
            server.arrived.clear()
            paid_before = hub.stats.paid_usd
            call = asyncio.create_task(model.complete_n(ASK, samples=[0, 1, 2, 3, 4, 5], **SAMPLING))
            await asyncio.to_thread(server.arrived.wait, 10)  # part [0, 1] is on the wire, [2, 3] and [4, 5] queue
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            kept = len(hub.in_flight)
            await hub.in_flight.settle()
            await asyncio.sleep(0.6)  # a queued part sent after the stop would be at the server by now
            stopped = server.served[warm:]
            paid = hub.stats.paid_usd - paid_before
            counted = hub.stats.calls
            again = await model.complete_n(ASK, samples=[0, 1, 2, 3, 4, 5], **SAMPLING)  # the resume
            resumed = server.served[warm + len(stopped):]
            await hub.aclose()
            return kept, stopped, paid, counted, again, resumed, warm

        kept, stopped, paid, counted, again, resumed, warm = asyncio.run(go())
    assert kept == 1
    assert [b["n"] for b in stopped] == [2] and stopped[0]["seed"] == SAMPLING["seed"]  # only part [0, 1] went
    assert paid == pytest.approx(_billed(stopped), rel=1e-12) and paid > 0  # counted as the server billed it
    assert counted == 3 + 2  # the warm-up's three samples, then the two kept ones
    assert [c.cached for c in again] == [True, True, False, False, False, False]  # one cache entry per sample
    assert sorted((b["n"], b["seed"]) for b in resumed) == sorted(
        (2, request_seed(SAMPLING["seed"], s)) for s in (2, 4))  # only the parts never sent go on resume
    assert len(server.bodies) == len(server.served) + 1  # and nothing else: the warm-up's refused n=3


def test_a_stop_sends_no_usage_probe_after_the_kept_part(tmp_path):
    """The first `n` reply in full whose usage proves no rule would be followed by a usage probe: after a stop it is
    not sent (a stop sends nothing more), the reply is read the safe way, and that guess is not kept as a lesson."""
    from rolegraph.models.pool import NLesson

    server = LimitedN(delay_s=0.4)
    with ServerThread(server.app) as thread:
        spec = http_spec(thread.base_url, model="m", model_id=MODEL, answer_key=False, max_concurrency=1)
        pool = ModelPool([spec.model_copy(update={"price_in": PRICE_IN, "price_out": PRICE_OUT})])
        endpoint = (spec.endpoint or "", spec.api_name)
        pool.lessons.keep(*endpoint, NLesson(n_ok=LIMIT, n_max=LIMIT))  # the limit known, the usage rule not
        hub = ModelHub(pool, Settings(home=tmp_path / "home", cache=True))

        async def go():
            call = asyncio.create_task(hub.get(MODEL).complete_n(ASK, samples=[0, 1, 2, 3], **SAMPLING))
            await asyncio.to_thread(server.arrived.wait, 10)
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            await hub.in_flight.settle()
            await asyncio.sleep(0.6)
            paid = hub.stats.paid_usd
            await hub.aclose()
            return paid

        paid = asyncio.run(go())
    assert [(b["n"], b["max_tokens"]) for b in server.bodies] == [(2, SAMPLING["max_tokens"])]  # no probe, no part
    assert paid > 0 and pool.lessons.recall(*endpoint).n_usage is None


def test_a_call_with_a_part_answered_and_none_on_the_wire_is_kept_for_that_part():
    """A split call stopped between parts (one answered, the next not yet sent) is kept to hand the answered part's
    reply up (counted, cached), and the next part is not sent; nothing answered and nothing on the wire: cancelled."""

    async def go():
        calls = InFlightCalls(notice=lambda line: None)
        answered, resume, sent = asyncio.Event(), asyncio.Event(), []

        async def split_call() -> str:
            with sending():
                sent.append("first")
            answered.set()
            await resume.wait()  # between the parts: nothing on the wire
            try:
                with sending():
                    sent.append("second")
            except Unsent:
                return "kept"
            return "sent both"

        task = asyncio.create_task(calls.run(split_call))
        await answered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        kept = len(calls)
        resume.set()
        await calls.settle()
        return kept, sent

    kept, sent = asyncio.run(go())
    assert kept == 1 and sent == ["first"]
