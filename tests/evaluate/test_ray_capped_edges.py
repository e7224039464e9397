"""`take_chunk`, where a returned Ray chunk reaches the driver: its calls, cached calls and paid dollars are added
to the hub (the dollars are what `--max-dollars` and the report count), its scores land at their items, and the
count of items it filled (what the progress bar advances by) is the number it actually scored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install 'rolegraph[ray]')")  # ray_capped's actors

from rolegraph.errors import BudgetExceededError  # noqa: E402
from rolegraph.evaluate.ray_capped import take_chunk  # noqa: E402
from rolegraph.models.hub import CallStats  # noqa: E402


def _items(n: int) -> list:
    return [SimpleNamespace(id=f"i{k}") for k in range(n)]


def test_a_returned_chunk_adds_its_counts_and_dollars_and_fills_its_items():
    items = _items(4)
    stats = CallStats()
    stats.add_paid(0.5)  # chunks that returned before
    hub = SimpleNamespace(stats=stats)
    results: list = [None] * 4
    simulated = [False] * 4
    scores = [SimpleNamespace(item_id="i1"), SimpleNamespace(item_id="i2")]
    filled, error = take_chunk(("ok", scores, True, 5, 2, 0.25), range(0, 3), items, results, simulated, hub)
    assert (filled, error) == (2, None)  # i0 was in the chunk but not scored: not counted as done
    assert results[1] is scores[0] and results[2] is scores[1] and results[0] is None and results[3] is None
    assert simulated == [False, True, True, False]
    assert (stats.calls, stats.cached, stats.paid_usd) == (5, 2, 0.75)


def test_a_chunk_stopped_by_its_allowance_still_counts_what_it_paid_and_scored():
    items = _items(3)
    stats = CallStats()
    hub = SimpleNamespace(stats=stats)
    results: list = [None] * 3
    payload = {"message": "dollar cap: its allowance ran out", "items": [SimpleNamespace(item_id="i0")]}
    filled, error = take_chunk(("budget", payload, False, 1, 0, 0.125), range(0, 3), items, results, [False] * 3, hub)
    assert filled == 1 and isinstance(error, BudgetExceededError) and "allowance ran out" in str(error)
    assert stats.paid_usd == 0.125 and stats.calls == 1


CAP = 1.0
ITEM_USD = 0.0625  # a binary fraction: every sum below is exact


def test_a_chunk_refused_while_another_holds_part_of_the_cap_says_its_share_ran_out_not_the_cap():
    """Two chunks start at once on two workers: the second starts when no worker is idle and no chunk waits, but
    the first still holds half the cap, so the second had a share of it, not all that was left; the stop must say
    so (the search stopped before spending the whole cap), not that the cap itself ran out."""
    import asyncio

    from rolegraph.evaluate.ray_capped import IdleWorkers, run_capped
    from rolegraph.optimize.spending import SpendMeter

    stats = CallStats()
    meter = SpendMeter.start(stats, CAP)
    hub = SimpleNamespace(stats=stats, spend_guard=meter)
    items = _items(13)

    async def call(actor, allowance, rng):
        await asyncio.sleep(0.05 if rng.start == 0 else 0.0)  # the small first chunk is still running
        paid, done = 0.0, []
        for i in rng:
            if paid + ITEM_USD > allowance:
                text = f"$x spent on paid calls + up to $y for the next call of m > --max-dollars ${allowance}"
                return "budget", {"message": f"dollar cap: {text}", "items": done}, True, len(done), 0, paid, text
            paid += ITEM_USD
            done.append(SimpleNamespace(item_id=items[i].id))
        return "ok", done, True, len(done), 0, paid, None

    chunks = [range(0, 1), range(1, 13)]  # 12 x $0.0625 = $0.75 > the $0.50 the second chunk could be given
    with pytest.raises(BudgetExceededError):
        asyncio.run(run_capped(IdleWorkers(["w1", "w2"]), call, chunks, items, [None] * 13, [False] * 13, hub, None))
    assert meter.refused is not None
    assert "share of the cap ran out" in meter.refused and "had all that was left" not in meter.refused
    assert stats.paid_usd == ITEM_USD + 8 * ITEM_USD  # both chunks' dollars counted
