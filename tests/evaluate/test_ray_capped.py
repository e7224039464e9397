"""The driver's side of a dollar cap under Ray (`ray_capped.run_capped`), with stand-in workers (no Ray): the
allowances handed to chunks never add up past what is left of the cap, a chunk's refusal stops the evaluation
with an honest reason, and the dollars of chunks still running at a stop are counted."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install 'rolegraph[ray]')")  # ray_capped's actors

from rolegraph.errors import BudgetExceededError  # noqa: E402
from rolegraph.evaluate.ray_capped import IdleWorkers, run_capped  # noqa: E402
from rolegraph.models.hub import CallStats  # noqa: E402
from rolegraph.optimize.spending import SpendMeter  # noqa: E402

CAP = 1.0
ITEM_USD = 0.0625  # what one stand-in item pays (a binary fraction: the sums below are exact)
WORKERS = ["w1", "w2"]


class StandInWorkers:
    """Chunks as a worker runs them: each item pays ITEM_USD unless that would pass the chunk's allowance, where the
    chunk stops refused (as the worker's meter refuses the call). Records what the driver held at each start."""

    def __init__(self, meter: SpendMeter, items: list, delay: float = 0.01):
        self.meter, self.items, self.delay = meter, items, delay
        self.starts: list[tuple[str, float, float]] = []  # (worker, allowance, spent + held at the start)

    async def call(self, actor: str, allowance: float, rng) -> tuple:
        self.starts.append((actor, allowance, self.meter.spent + self.meter.held))
        await asyncio.sleep(self.delay)
        paid, finished = 0.0, []
        for i in rng:
            if paid + ITEM_USD > allowance:
                text = f"$x spent on paid calls + up to $y for the next call of m > --max-dollars ${allowance}"
                payload = {"message": f"dollar cap: {text}", "items": finished}
                return "budget", payload, True, len(finished), 0, paid, text
            paid += ITEM_USD
            finished.append(SimpleNamespace(item_id=self.items[i].id))
        return "ok", finished, True, len(finished), 0, paid, None


def setup(n_items: int, spent_before: float = 0.0):
    stats = CallStats()
    meter = SpendMeter.start(stats, CAP, before=spent_before)
    hub = SimpleNamespace(stats=stats, spend_guard=meter)
    items = [SimpleNamespace(id=f"i{k}") for k in range(n_items)]
    return meter, hub, items, StandInWorkers(meter, items)


def run(workers: StandInWorkers, hub, items, chunks, idle: IdleWorkers | None = None):
    results: list = [None] * len(items)
    simulated = [False] * len(items)
    idle = idle or IdleWorkers(list(WORKERS))
    asyncio.run(run_capped(idle, workers.call, chunks, items, results, simulated, hub, None))
    return results


def test_allowances_never_pass_what_is_left_and_the_last_chunk_gets_all_of_it():
    meter, hub, items, workers = setup(8, spent_before=0.5)
    chunks = [range(0, 2), range(2, 4), range(4, 6), range(6, 8)]  # 8 items x $0.0625 = $0.50 = what is left
    results = run(workers, hub, items, chunks)
    assert all(r is not None for r in results)
    assert hub.stats.paid_usd == 0.5 and meter.held == 0.0
    assert all(at_start <= CAP for _, _, at_start in workers.starts)  # spent + held allowances within the cap
    assert [a for _, a, _ in workers.starts[:2]] == [0.25, 0.25]  # two idle workers split what is left
    assert workers.starts[-1][2] == CAP  # the last chunk was given all that was neither spent nor held


def test_a_chunk_refused_by_its_share_stops_honestly_and_running_chunks_are_counted():
    meter, hub, items, workers = setup(12)
    chunks = [range(0, 12), range(12, 12)]  # 12 x $0.0625 = $0.75 > the $0.50 share of one of 2 workers
    with pytest.raises(BudgetExceededError):
        run(workers, hub, items, chunks)
    assert meter.refused is not None and "share of the cap ran out" in meter.refused
    assert ">= --max-dollars" not in meter.refused and "before spending the whole cap" in meter.refused
    assert hub.stats.paid_usd == 0.5 and meter.spent <= CAP  # its 8 paid items were counted
    assert meter.held == 0.0


def test_a_stop_counts_the_dollars_of_chunks_still_running_and_starts_no_more():
    meter, hub, items, workers = setup(20)
    fast = StandInWorkers(meter, items)

    async def call(actor, allowance, rng):  # the refused chunk returns first; the other is still running
        return await (fast.call(actor, allowance, rng) if rng.start == 0 else slow(actor, allowance, rng))

    async def slow(actor, allowance, rng):
        await asyncio.sleep(0.2)
        return await fast.call(actor, allowance, rng)

    workers.call = call  # type: ignore[method-assign]
    chunks = [range(0, 12), range(12, 14), range(14, 16)]
    with pytest.raises(BudgetExceededError):
        run(workers, hub, items, chunks)
    assert len(fast.starts) == 2  # the third chunk never started
    assert hub.stats.paid_usd == 8 * ITEM_USD + 2 * ITEM_USD  # the slow chunk's dollars too


def test_a_lone_chunk_that_runs_out_says_the_cap_itself_ran_out():
    meter, hub, items, workers = setup(30)
    with pytest.raises(BudgetExceededError):
        run(workers, hub, items, [range(0, 30)])
    assert meter.refused is not None and "had all that was left of --max-dollars $1" in meter.refused
    assert hub.stats.paid_usd == CAP


def test_a_workers_allowance_guards_paid_calls_only_not_cached_ones(tmp_path, monkeypatch):
    """On a worker the guard sits below the response cache, as on the driver's hub: a call the cache answers is
    free and made even with nothing left of the allowance; a call that must be paid is refused."""
    from rolegraph.evaluate import ray_capped
    from rolegraph.items import AnswerKey
    from rolegraph.models.cache import ResponseCache
    from rolegraph.models.pool import ModelPool
    from rolegraph.settings import Settings

    cache = ResponseCache(tmp_path / "cache.sqlite")  # stands in for the driver's cache served to the worker
    monkeypatch.setattr(ray_capped, "RemoteCache", lambda server: cache)
    setup = ray_capped._CappedSetup(ModelPool.builtin(), Settings(home=tmp_path / "home"), cache_server="server")
    model_id = "sim/llama-3.2-1b"
    setup.install({model_id})
    model = setup.hub.get(model_id)
    asked = [{"role": "user", "content": "What is 2 + 3?"}]
    key, other = AnswerKey(item_id="a", gold="5"), AnswerKey(item_id="b", gold="9")

    async def go():
        first = await model.complete(asked, answer_key=key)  # no allowance installed: paid, and stored in the cache
        setup.allowance.spend_guard = SpendMeter.start(setup.allowance.stats, 0.0)  # nothing left to spend
        again = await model.complete(asked, answer_key=key)
        with pytest.raises(BudgetExceededError, match="dollar cap"):
            await model.complete([{"role": "user", "content": "What is 4 + 5?"}], answer_key=other)
        return first, again

    try:
        first, again = asyncio.run(go())
    finally:
        cache.close()
    assert not first.cached and again.cached and again.text == first.text
    assert setup.hub.stats.paid == 1 and setup.hub.stats.cached == 1  # what the worker reports to the driver
