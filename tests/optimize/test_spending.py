"""`max_dollars`: the search stops at its last checkpoint when its paid calls reach the cap, and a resume
with a higher cap ends exactly where an uncapped search ends, paying for no call twice (sim prices)."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import CallStats, ModelHub
from rolegraph.optimize.api import resume_async
from rolegraph.chat.spec import ModelSpec
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.spending import DollarCapReachedError, SpendMeter
from rolegraph.settings import Settings

from .helpers import resume, run, tiny_config

CAP_SHARE = 0.4  # of the uncapped search's spending: the cap is reached part-way


def test_the_meter_refuses_a_call_that_could_pass_the_cap_and_then_every_call():
    spec = ModelSpec(id="my/m", backend="openai", price_in=1.0, price_out=1.0)
    stats = CallStats(paid_usd=5.0)
    meter = SpendMeter.start(stats, max_usd=0.01, before=0.004, run_dir="runs/x")
    message = [{"role": "user", "content": "x" * 300}]  # ~100 prompt tokens at worst
    held = meter.reserve(spec, message, max_tokens=1000)  # $0.0011 at worst: fits under $0.006 left
    stats.paid_usd += 0.0011
    meter.release(held)
    assert meter.spent == pytest.approx(0.0051)
    with pytest.raises(BudgetExceededError, match="max-dollars"):
        meter.reserve(spec, message, max_tokens=5000)  # up to $0.0051 more: would pass $0.01
    with pytest.raises(BudgetExceededError):
        meter.reserve(spec, message, max_tokens=1)  # refused for good once the cap stopped a call
    with pytest.raises(DollarCapReachedError, match="search step.*--resume runs/x --max-dollars HIGHER"):
        raise meter.stop_error("search")


def test_the_refusal_shows_sub_cent_amounts_whose_sum_passes_the_cap():
    """At four decimals a $0.00004 call printed as $0.0000 and the sum looked smaller than the cap."""
    import re

    spec = ModelSpec(id="my/cheap", backend="openai", price_in=0.1, price_out=0.1)
    meter = SpendMeter.start(CallStats(), max_usd=0.0001, before=0.00009)
    with pytest.raises(BudgetExceededError) as refused:
        meter.reserve(spec, [{"role": "user", "content": "x" * 30}], max_tokens=200)
    amounts = [float(x) for x in re.findall(r"\$([0-9.e-]+)", str(refused.value))]
    spent, held, worst, cap = amounts
    assert worst > 0 and spent + held + worst > cap

def test_a_capped_search_stops_at_its_checkpoint_and_resumes_to_the_uncapped_result(pool, small_task, tmp_path):
    cfg = tiny_config(iterations=3)
    full_stats, part_stats, rest_stats = [], [], []
    full = run(pool, tmp_path / "home-a", small_task, AgentReinforce(pilot_batch=4), config=cfg,
               out=tmp_path / "run-a", hub_out=full_stats)
    assert full.paid_usd == pytest.approx(full_stats[0].paid_usd) and full.paid_usd > 0
    cap = CAP_SHARE * full.paid_usd
    capped = tiny_config(iterations=3, max_dollars=cap)
    with pytest.raises(DollarCapReachedError, match=f"--resume {tmp_path / 'run-b'} --max-dollars") as err:
        run(pool, tmp_path / "home-b", small_task, AgentReinforce(pilot_batch=4), config=capped,
            out=tmp_path / "run-b", hub_out=part_stats)
    assert "\n" not in str(err.value)
    store = RunStore.open(tmp_path / "run-b")
    assert store.checkpoint()[1] == "search"  # stopped before the end, at a checkpoint
    assert part_stats[0].paid_usd <= cap and store.paid_usd() == pytest.approx(part_stats[0].paid_usd)
    store.close()

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "home-b"))
        try:
            return await resume_async(tmp_path / "run-b", hub.settings, hub=hub, task=small_task,
                                      max_dollars=10 * full.paid_usd)
        finally:
            rest_stats.append(hub.stats)
            await hub.aclose()

    again = asyncio.run(go())
    assert again.best_hash == full.best_hash and again.test == full.test
    assert [r.model_dump() for r in again.trace.records] == [r.model_dump() for r in full.trace.records]
    assert part_stats[0].paid + rest_stats[0].paid == full_stats[0].paid
    assert again.paid_usd == pytest.approx(full.paid_usd)
    assert RunStore.open(tmp_path / "run-b").config()["search"]["max_dollars"] == 10 * full.paid_usd


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after the raise runs (the loop's `finally` is made a no-op for the store)."""


def test_a_killed_search_resumes_with_the_dollars_paid_up_to_its_last_checkpoint(pool, small_task, tmp_path,
                                                                               monkeypatch):
    """A SIGKILL skips `run_search`'s `finally`, the only place that stored the spend: the resumed meter
    started from $0 and `--max-dollars` was passed. Each checkpoint now records the spend."""
    from rolegraph.optimize import loop

    cfg = tiny_config(iterations=3)
    full = run(pool, tmp_path / "home-a", small_task, AgentReinforce(pilot_batch=4), config=cfg,
               out=tmp_path / "run-a")
    assert full.paid_usd > 0

    real_save = loop.save_checkpoint

    def save_then_die(store, ctx, optimizer, iteration, phase, final=None):
        real_save(store, ctx, optimizer, iteration, phase, final)
        if iteration == 2:
            raise _Killed

    with monkeypatch.context() as m:
        m.setattr(loop, "save_checkpoint", save_then_die)
        m.setattr(RunStore, "set_paid_usd", lambda self, dollars: None)  # the killed process never stored it
        with pytest.raises(_Killed):
            run(pool, tmp_path / "home-b", small_task, AgentReinforce(pilot_batch=4), config=cfg,
                out=tmp_path / "run-b")
    store = RunStore.open(tmp_path / "run-b")
    assert store.checkpoint()[:2] == (2, "search") and store.paid_usd() == 0.0
    store.close()
    rest = []
    again = resume(pool, tmp_path / "home-b", tmp_path / "run-b", small_task, hub_out=rest)
    assert again.best_hash == full.best_hash
    assert 0 < rest[0].paid_usd < full.paid_usd  # the resumed session paid only for the rest
    # killed right after a checkpoint, so no paid call was lost: the meter's total is the whole run's
    assert again.paid_usd == pytest.approx(full.paid_usd)


def test_the_fronts_paired_scoring_is_capped_and_its_dollars_are_stored(pool, small_task, tmp_path):
    """The routing phase (paired scores of the front on the route items) ran after the search, outside the
    cap, and its dollars never reached the run store: `paid_usd` in --json and in run.sqlite disagreed."""
    full_stats = []
    full = run(pool, tmp_path / "home-a", small_task, AgentReinforce(pilot_batch=4), config=tiny_config(),
               out=tmp_path / "run-a", hub_out=full_stats)
    search_only = run(pool, tmp_path / "home-c", small_task, AgentReinforce(pilot_batch=4),
                      config=tiny_config(route_items=0), out=tmp_path / "run-c")
    assert full.paid_usd == pytest.approx(full_stats[0].paid_usd) and full.paid_usd > search_only.paid_usd > 0
    store = RunStore.open(tmp_path / "run-a")
    assert store.paid_usd() == pytest.approx(full.paid_usd)
    store.close()
    cap = (search_only.paid_usd + full.paid_usd) / 2  # the search fits; its routing phase does not
    part = []
    with pytest.raises(DollarCapReachedError):
        run(pool, tmp_path / "home-b", small_task, AgentReinforce(pilot_batch=4),
            config=tiny_config(max_dollars=cap), out=tmp_path / "run-b", hub_out=part)
    store = RunStore.open(tmp_path / "run-b")
    assert store.checkpoint()[1] == "done" and part[0].paid_usd <= cap
    assert store.paid_usd() == pytest.approx(part[0].paid_usd)
    store.close()
