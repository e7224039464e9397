"""A retried call's latency is its answering attempt's: the waits between attempts (Retry-After, backoff) are
not the model's time, and the figure is what timings.sqlite and the response cache keep for good."""
from __future__ import annotations

import asyncio
import time

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.models.timings import TIMINGS_FILE, CallTimings
from rolegraph.sim.faults import FaultConfig

from tests.models.conftest import http_spec, task_calls

RETRY_AFTER_S = 0.6  # the 429's wait; the 500 after it waits the backoff's first step (0.5 s)
FAULT_THEN_FAULT_THEN_OK = 1  # this seed's plan at rate 0.5: 429, 500, then an answer (asserted below)


def test_the_recorded_latency_is_the_answering_attempts_not_the_retries_waits(serve, settings):
    server = serve(FaultConfig(rate=0.5, kinds=["429", "500"], seed=FAULT_THEN_FAULT_THEN_OK,
                               retry_after_s=RETRY_AFTER_S))
    spec = http_spec(server.base_url)
    hub = ModelHub(ModelPool([*ModelPool.builtin(), spec]), settings)
    messages, key = task_calls(1)[0]

    async def main():
        model = hub.get(spec.id)
        try:
            started = time.perf_counter()
            first = await model.complete(messages, answer_key=key)
            wall = time.perf_counter() - started
            again = await model.complete(messages, answer_key=key)
            return first, wall, again
        finally:
            await hub.aclose()

    first, wall, again = asyncio.run(main())
    stats = server.app.state.stats
    assert stats.requests == 3 and stats.faults["429"] == 1 and stats.faults["500"] == 1  # two retries, then it
    assert wall >= RETRY_AFTER_S  # the call itself did wait for its retries
    assert 0 < first.latency_s < RETRY_AFTER_S / 2  # ... but a loopback sim answer takes milliseconds
    rows = CallTimings(settings.home / TIMINGS_FILE).rows(spec)
    assert [r[2] for r in rows] == pytest.approx([first.latency_s])  # the latency fit learns the attempt's time
    assert again.cached and again.latency_s == pytest.approx(first.latency_s)  # and the cache replays it
