"""`InFlightCalls.run` waits for its call's task on a future of its own, woken by the task's done callback, instead of
through `asyncio.shield` (a future, two callbacks and a loop handle more per call): the caller sees the same result,
the same exception, and the same cancellation rules (kept while on the wire, cancelled unsent otherwise)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from rolegraph.models.in_flight import InFlightCalls, sending


def _quiet() -> InFlightCalls:
    return InFlightCalls(notice=lambda line: None)


async def _answer() -> str:
    await asyncio.sleep(0)
    return "reply"


def test_the_caller_gets_the_reply_and_the_failure_as_they_came():
    class Boom(Exception):
        pass

    async def fails() -> str:
        await asyncio.sleep(0)
        raise Boom("no")

    async def go():
        calls = _quiet()
        ok = await calls.run(_answer)
        with pytest.raises(Boom, match="no"):
            await calls.run(fails)
        return ok, len(calls)

    assert asyncio.run(go()) == ("reply", 0)


def test_a_caller_cancelled_on_the_wire_leaves_its_call_running_and_queued_ones_cancelled():
    async def go():
        calls = _quiet()
        gate = asyncio.Event()
        finished: list[str] = []

        async def on_wire() -> str:
            with sending():
                await gate.wait()
            finished.append("sent")
            return "kept"

        async def queued() -> str:
            await gate.wait()  # not yet sending: a stop cancels it unsent
            finished.append("queued")
            return "never"

        callers = [asyncio.create_task(calls.run(on_wire)), asyncio.create_task(calls.run(queued))]
        await asyncio.sleep(0.01)
        for c in callers:
            c.cancel()
        results = await asyncio.gather(*callers, return_exceptions=True)
        kept = len(calls)
        gate.set()
        await calls.settle()
        return [type(r).__name__ for r in results], kept, finished

    results, kept, finished = asyncio.run(go())
    assert results == ["CancelledError", "CancelledError"]
    assert kept == 1 and finished == ["sent"]


def test_no_shield_on_the_call_path():
    """What the change was for: `asyncio.shield` and its two callbacks ran on every real call."""
    names: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            names.add(frame.f_code.co_name)

    async def go():
        calls = _quiet()
        await calls.run(_answer)  # warm
        sys.setprofile(profile)
        try:
            return await calls.run(_answer)
        finally:
            sys.setprofile(None)

    assert asyncio.run(go()) == "reply"
    assert "_answer" in names  # the profile saw the call itself
    assert not {"shield", "_inner_done_callback", "_outer_done_callback"} & names
