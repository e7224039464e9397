"""`SpendMeter` at its edges, with prices chosen so every dollar figure is exact: a call whose worst case lands
exactly on `--max-dollars` is allowed (the cap refuses only what would pass it), dollars already in flight count
against the cap as much as dollars spent (two concurrent calls must not each fit alone and pass it together), a
Ray chunk's held allowance counts too, and a search whose paid calls reached the cap exactly stops between steps."""

from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import CallStats
from rolegraph.optimize.spending import DollarCapReachedError, SpendMeter

HALF_A_DOLLAR_PER_TOKEN = 500_000.0  # dollars per 1M output tokens: each output token costs exactly $0.50
NO_PROMPT: list = []  # no prompt characters: a call's worst case is its max_tokens alone
CAP = 2.0


def spec() -> ModelSpec:
    return ModelSpec(id="my/exact", backend="openai", price_in=0.0, price_out=HALF_A_DOLLAR_PER_TOKEN)


def test_a_call_whose_worst_case_reaches_the_cap_exactly_is_allowed():
    meter = SpendMeter.start(CallStats(), max_usd=CAP)
    held = meter.reserve(spec(), NO_PROMPT, max_tokens=4)  # 4 x $0.50 = $2.00: the whole cap, not past it
    assert held == 2.0 and meter.refused is None


def test_a_call_just_past_the_cap_is_refused_and_the_refusal_counts_every_dollar_spent():
    stats = CallStats()
    meter = SpendMeter.start(stats, max_usd=CAP, before=0.25)  # $0.25 paid by an earlier session of the run
    stats.add_paid(0.25)  # and $0.25 in this one
    with pytest.raises(
        BudgetExceededError, match=r"\$0\.50 spent on paid calls .* up to \$2\.00 .* --max-dollars \$2\.00"
    ):
        meter.reserve(spec(), NO_PROMPT, max_tokens=4)  # $0.50 spent + $2.00 > $2.00


def test_dollars_in_flight_count_against_the_cap():
    meter = SpendMeter.start(CallStats(), max_usd=CAP)
    meter.reserve(spec(), NO_PROMPT, max_tokens=2)  # $1.00 in flight, not yet paid
    with pytest.raises(BudgetExceededError, match=r"\$1\.00 in flight"):
        meter.reserve(spec(), NO_PROMPT, max_tokens=4)  # $2.00 alone would fit; with the $1.00 in flight it passes


def test_released_dollars_are_free_again():
    meter = SpendMeter.start(CallStats(), max_usd=CAP)
    held = meter.reserve(spec(), NO_PROMPT, max_tokens=2)
    meter.release(held)  # the call failed: nothing paid, nothing held
    assert meter.reserve(spec(), NO_PROMPT, max_tokens=4) == 2.0


def test_an_allowance_held_for_a_ray_chunk_counts_against_the_cap():
    meter = SpendMeter.start(CallStats(), max_usd=CAP)
    meter.hold(1.5)  # a chunk running elsewhere may spend up to $1.50
    with pytest.raises(BudgetExceededError):
        meter.reserve(spec(), NO_PROMPT, max_tokens=2)  # $1.50 + $1.00 > $2.00
    meter2 = SpendMeter.start(CallStats(), max_usd=CAP)
    meter2.hold(1.5)
    meter2.release(1.5)
    assert meter2.reserve(spec(), NO_PROMPT, max_tokens=4) == 2.0


def test_a_search_whose_paid_calls_reached_the_cap_exactly_stops_between_steps():
    stats = CallStats()
    meter = SpendMeter.start(stats, max_usd=CAP, run_dir="runs/x")
    stats.add_paid(1.5)
    meter.check()  # $0.50 left: the search goes on
    stats.add_paid(0.5)  # exactly $2.00 paid: nothing left for a paid call
    with pytest.raises(DollarCapReachedError, match=r"--resume runs/x --max-dollars HIGHER"):
        meter.check()


def test_dollars_paid_before_the_meter_started_in_this_session_are_not_counted_twice():
    stats = CallStats()
    stats.add_paid(7.0)  # a hub shared with earlier work of this process, before this search started
    meter = SpendMeter.start(stats, max_usd=CAP, before=1.0)  # $1.00 paid by earlier sessions of the run
    assert meter.spent == 1.0
    assert meter.reserve(spec(), NO_PROMPT, max_tokens=2) == 1.0  # $1.00 + $1.00: the cap, allowed
