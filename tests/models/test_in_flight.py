"""A real endpoint's call whose caller is cancelled mid-call still finishes: the endpoint bills it whether or not
anyone reads the reply, so the reply is counted (`paid_usd`) and cached as if the caller had waited, and the same
call again is a cache hit that sends nothing. Before, the cancelled call was neither counted nor cached and a
resume sent the byte-identical request again (paid twice upstream, once in `paid_usd`)."""
from __future__ import annotations

import asyncio
import threading

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.conftest import http_spec
from tests.models.slow_server import PRICE_IN, PRICE_OUT, SlowBilling

MODEL = "llc/slow"
ASK = [{"role": "user", "content": "What is 3 * 4?"}]


@pytest.fixture
def slow():
    server = SlowBilling(delay_s=0.4)
    with ServerThread(server.app) as thread:
        yield server, thread.base_url


def _hub(base_url: str, tmp_path) -> ModelHub:
    spec = http_spec(base_url, model="m", model_id=MODEL, answer_key=False).model_copy(
        update={"price_in": PRICE_IN, "price_out": PRICE_OUT})
    return ModelHub(ModelPool([spec]), Settings(home=tmp_path / "home", cache=True))


def test_a_caller_cancelled_mid_call_leaves_the_reply_counted_and_cached(slow, tmp_path):
    server, base_url = slow
    hub = _hub(base_url, tmp_path)

    async def go():
        model = hub.get(MODEL)
        call = asyncio.create_task(model.complete(ASK, max_tokens=16))
        await asyncio.to_thread(server.arrived.wait, 10)  # the request is at the server: it will be billed
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        kept = len(hub.in_flight)  # the call goes on without its caller
        await hub.in_flight.settle()
        paid = hub.stats.paid_usd
        again = await model.complete(ASK, max_tokens=16)
        await hub.aclose()
        return paid, again, kept

    paid, again, kept = asyncio.run(go())
    server.settled()
    assert len(server.bodies) == len(server.served) == 1  # the second call sent nothing: it was in the cache
    assert again.cached and again.text == "Final answer: 7"
    assert paid == pytest.approx(server.billed(), rel=1e-12) and paid > 0
    assert hub.stats.paid == 1 and kept == 1


def test_a_call_cancelled_before_the_guard_admits_it_is_not_made(slow, tmp_path):
    """Only admitted calls outlive their callers: one refused by the guard, or cancelled before it, ends there
    (a stop must not start calls)."""
    server, base_url = slow
    hub = _hub(base_url, tmp_path)

    class Refusing:
        def reserve(self, spec, messages, max_tokens):
            from rolegraph.errors import BudgetExceededError

            raise BudgetExceededError("dollar cap: test")

        def release(self, held):
            raise AssertionError("nothing was held")

    async def go():
        hub.spend_guard = Refusing()
        from rolegraph.errors import BudgetExceededError

        with pytest.raises(BudgetExceededError):
            await hub.get(MODEL).complete(ASK, max_tokens=16)
        assert len(hub.in_flight) == 0
        await hub.aclose()

    asyncio.run(go())
    assert server.bodies == [] and hub.stats.paid_usd == 0


def test_an_interrupt_waits_a_bounded_time_and_says_so(tmp_path):
    """Ctrl-C waits for the calls in flight at most the given time, with one line saying how many and how to
    leave them; calls still running then are left, and that is said too."""
    server = SlowBilling(delay_s=3.0)
    said: list[str] = []
    with ServerThread(server.app) as thread:
        hub = _hub(thread.base_url, tmp_path)
        hub.in_flight.notice = said.append

        async def go():
            calls = [asyncio.create_task(hub.get(MODEL).complete([{"role": "user", "content": f"q{i}"}]))
                     for i in range(2)]
            await asyncio.to_thread(server.arrived.wait, 10)
            await asyncio.sleep(0.2)
            for c in calls:
                c.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            left = await hub.in_flight.settle(0.3)
            await hub.aclose()
            return left

        left = asyncio.run(go())
    assert left == 2
    assert said == ["waiting for 2 paid calls in flight (interrupt again to leave them)",
                    "left 2 paid calls in flight after 0.3 s: their replies are not kept, so running it again sends them again"]


def test_a_call_still_queued_for_a_slot_when_its_caller_is_cancelled_is_never_sent(slow, tmp_path):
    """A call waiting for the endpoint's concurrency limit has not been sent, so nothing bills it: a stop cancels
    it (it would otherwise be sent after the stop, and a stop over a full queue would wait for all of it)."""
    server, base_url = slow
    spec = http_spec(base_url, model="m", model_id=MODEL, answer_key=False).model_copy(
        update={"price_in": PRICE_IN, "price_out": PRICE_OUT, "max_concurrency": 1})
    hub = ModelHub(ModelPool([spec]), Settings(home=tmp_path / "home", cache=True))

    async def go():
        model = hub.get(MODEL)
        asks = [[{"role": "user", "content": f"What is {k} * 4?"}] for k in range(3)]
        calls = [asyncio.create_task(model.complete(a, max_tokens=16)) for a in asks]
        await asyncio.to_thread(server.arrived.wait, 10)  # the first is at the server, the others wait for its slot
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        kept = len(hub.in_flight)
        await hub.in_flight.settle()
        paid = hub.stats.paid_usd
        await hub.aclose()
        return paid, kept

    paid, kept = asyncio.run(go())
    server.settled()
    assert len(server.bodies) == len(server.served) == 1 and kept == 1  # only the sent call went on
    assert paid == pytest.approx(server.billed(), rel=1e-12) and paid > 0


def test_a_kept_call_whose_attempt_fails_sends_no_retry_after_its_caller_left(tmp_path):
    """A failed attempt billed nothing, so a call kept only to be counted and cached ends there: a retry after the
    stop would be a new request (with the default policy, several over minutes of backoff)."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    arrived, requests = threading.Event(), []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def busy():
        requests.append(1)
        arrived.set()
        await asyncio.sleep(0.4)
        return JSONResponse({"error": {"message": "overloaded"}}, status_code=503)

    with ServerThread(app) as thread:
        spec = http_spec(thread.base_url, model="m", model_id=MODEL, answer_key=False).model_copy(
            update={"price_in": PRICE_IN, "price_out": PRICE_OUT})
        hub = ModelHub(ModelPool([spec]), Settings(home=tmp_path / "home", cache=True))

        async def go():
            call = asyncio.create_task(hub.get(MODEL).complete(ASK, max_tokens=16))
            await asyncio.to_thread(arrived.wait, 10)
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            kept = len(hub.in_flight)
            await hub.in_flight.settle(20)
            await asyncio.sleep(1.5)  # the policy's first backoff is well under this: a retry would have come
            await hub.aclose()
            return kept

        kept = asyncio.run(go())
    assert kept == 1 and len(requests) == 1 and hub.stats.paid_usd == 0
