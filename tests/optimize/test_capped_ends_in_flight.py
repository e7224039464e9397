"""A step stopped by the dollar cap ends its other evaluations before the stop leaves the step: left running,
their calls finished after the search had written its paid total and closed its ledger, so their replies sat
in the response cache (a resume replays them free) while no session counted their dollars (paid_usd
0.00771802 capped and resumed vs 0.0077443 uninterrupted). Their real calls already sent are not dropped with
them: the stop waits for those (tests/optimize/test_cap_stop_in_flight.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.models.in_flight import InFlightCalls
from rolegraph.optimize.context import SearchContext


def test_a_cap_stop_cancels_the_steps_other_evaluations():
    finished: list[str] = []

    async def refused():
        await asyncio.sleep(0)
        raise BudgetExceededError("dollar cap")

    async def in_flight():
        await asyncio.sleep(0.2)  # a call still retrying when the sibling's call was refused
        finished.append("in flight")

    async def main():
        with pytest.raises(BudgetExceededError):
            await SearchContext._capped(SimpleNamespace(spend=None, hub=SimpleNamespace(in_flight=InFlightCalls())),
                                        in_flight(), refused())  # type: ignore[arg-type]
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.sleep(0.3)  # long enough for a sibling left running to finish
        return pending

    pending = asyncio.run(main())
    assert finished == [] and pending == []
