"""A stop's "waiting for N paid calls in flight" line is said once per stop, and again at the next stop: once the
calls one stop waited for have all finished, a later stop that waits for calls of its own says so too (silence
there reads as a hang). A stop whose wait is itself interrupted (a second Ctrl-C) cancels the calls it leaves."""

from __future__ import annotations

import asyncio

from rolegraph.models.in_flight import InFlightCalls, sending


async def _keep_one(calls: InFlightCalls, tasks: list | None = None) -> asyncio.Event:
    """Start a call, wait until its request is on the wire, cancel its caller: the call is kept, still running
    (its task appended to `tasks`)."""
    on_wire, finish = asyncio.Event(), asyncio.Event()

    async def call() -> int:
        if tasks is not None:
            tasks.append(asyncio.current_task())
        with sending():
            on_wire.set()
            await finish.wait()
        return 1

    caller = asyncio.create_task(calls.run(call))
    await on_wire.wait()
    caller.cancel()
    try:
        await caller
    except asyncio.CancelledError:
        pass
    assert len(calls) == 1
    return finish


def test_each_stop_that_waits_says_so():
    said: list[str] = []

    async def main() -> list[int]:
        calls = InFlightCalls(notice=said.append)
        left = []
        for _ in range(2):  # two stops, one after the other, each with a call of its own in flight
            finish = await _keep_one(calls)
            asyncio.get_running_loop().call_soon(finish.set)
            left.append(await calls.settle())
            assert len(calls) == 0
        return left

    assert asyncio.run(main()) == [0, 0]
    waiting = [line for line in said if line.startswith("waiting for 1 paid call in flight")]
    assert len(waiting) == 2, said


def test_a_stop_that_is_itself_interrupted_leaves_the_calls_and_says_so():
    """A second Ctrl-C cancels the wait, and with it the calls still in flight: none goes on unseen."""
    said: list[str] = []

    async def main() -> bool:
        calls = InFlightCalls(notice=said.append)
        tasks: list = []
        finish = await _keep_one(calls, tasks)  # not set before the wait is interrupted: no reply comes
        kept = tasks[0]
        waiting = asyncio.create_task(calls.settle())
        while not said:  # the wait has begun (it says so first)
            await asyncio.sleep(0)
        waiting.cancel()
        try:
            await waiting
        except asyncio.CancelledError:
            pass
        await asyncio.wait([kept], timeout=5.0)  # a bound only: a call left uncancelled never ends here
        cancelled = kept.cancelled()
        finish.set()  # let an uncancelled call end, so the loop closes either way
        await asyncio.gather(kept, return_exceptions=True)
        return cancelled

    assert asyncio.run(main()) is True
    assert said[-1] == "left 1 paid call in flight: their replies are not kept, so running it again sends them again"
