"""The paid dollars a run stores do not depend on the order its calls finished in, and a paid call's dollars are
counted before the response cache holds its reply (what lets `PaidLedger` survive a kill)."""
from __future__ import annotations

import asyncio
import itertools
import math
import random

from rolegraph.items import AnswerKey
from rolegraph.models.hub import CallStats, ModelHub
from rolegraph.settings import Settings

# per-call dollars of the size a sim search pays (prices per token x a few hundred tokens)
AMOUNTS = [0.1, 0.2, 0.3, 1.1e-05, 3.3e-07, 2.7e-05, 4.61e-06, 7.7e-08, 0.000123, 9.9e-06] * 3


def _naive(amounts: list[float]) -> float:
    total = 0.0
    for a in amounts:
        total += a
    return total


def _stats_total(amounts: list[float]) -> float:
    stats = CallStats()
    for a in amounts:
        stats.add_paid(a)
    return stats.paid_usd


def test_the_same_calls_in_another_order_give_the_same_paid_total():
    orders = [AMOUNTS, AMOUNTS[::-1], *(random.Random(seed).sample(AMOUNTS, len(AMOUNTS)) for seed in range(20))]
    assert len({_naive(order) for order in orders}) > 1  # plain float sums of these do depend on the order
    totals = {_stats_total(order) for order in orders}
    assert totals == {math.fsum(AMOUNTS)}  # one figure, the correctly rounded exact sum


def test_a_total_set_directly_is_carried_on():
    stats = CallStats(paid_usd=5.0)
    stats.add_paid(0.25)
    stats.paid_usd += 1.0  # an older caller adding to the field itself
    stats.add_paid(0.25)
    assert stats.paid_usd == 6.5


def test_every_add_reaches_the_listener():
    seen: list[float] = []
    stats = CallStats()
    stats.on_paid = lambda: seen.append(stats.paid_usd)
    for a in itertools.islice(AMOUNTS, 3):
        stats.add_paid(a)
    assert seen == [0.1, math.fsum([0.1, 0.2]), math.fsum([0.1, 0.2, 0.3])]


def test_a_paid_call_is_counted_before_its_reply_is_cached(pool, tmp_path):
    """A kill between the two must leave the dollars counted: a resume replays a cached reply free."""

    async def main() -> tuple[list[int], int, float]:
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        model = hub.get("sim/llama-3.2-1b")
        cached_when_counted: list[int] = []
        hub.stats.on_paid = lambda: cached_when_counted.append(len(hub._response_cache()))
        try:
            key = AnswerKey(item_id="q1", gold="5")
            await model.complete([{"role": "user", "content": "What is 2 + 3?"}], max_tokens=32, answer_key=key)
            return cached_when_counted, len(hub._response_cache()), hub.stats.paid_usd
        finally:
            await hub.aclose()

    counted, cached_after, paid = asyncio.run(main())
    assert paid > 0
    assert counted == [0] and cached_after == 1  # counted once, while the cache did not hold the reply yet
