"""Run budgets at their exact bounds (graphs/budget.py): a call may reserve up to the cap and not a token or a
dollar more; its worst case is its prompt at 3 characters a token, rounded up, plus its whole `max_tokens`, priced
input and output apart; what is spent and what other calls hold both count; the time cap stops a call at the
elapsed limit itself. `shortfall` (fan-outs and loops asking before they spawn) answers by the same rule without
raising, and a budget with any one cap set is not unlimited."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import Budget, BudgetMeter

SPEC = ModelSpec(id="test/m", backend="sim", price_in=1.0, price_out=2.0)  # $ per 1M tokens


@pytest.mark.parametrize("budget", [Budget(max_tokens=10), Budget(max_usd=1.0), Budget(max_seconds=5.0)])
def test_any_one_cap_makes_a_budget_limited(budget):
    assert not budget.unlimited
    assert BudgetMeter(budget).reserve("a", SPEC, 3, 1, 0.0) is not None  # something is held


def test_a_call_may_reserve_exactly_up_to_the_token_cap():
    meter = BudgetMeter(Budget(max_tokens=500))
    held = meter.reserve("a", SPEC, 300, 400, 0.0)  # 300 chars = 100 tokens, + 400 = 500
    assert (held.tokens, held.usd) == (500, pytest.approx((100 * 1.0 + 400 * 2.0) / 1e6))
    with pytest.raises(BudgetExceededError, match="0 spent \\+ 500 in flight \\+ up to 1 for this call"):
        meter.reserve("b", SPEC, 0, 1, 0.0)


@pytest.mark.parametrize(("chars", "max_tokens", "fits"), [(300, 400, True), (301, 400, False), (0, 501, False)])
def test_the_prompt_counts_3_characters_a_token_rounded_up_plus_all_of_max_tokens(chars, max_tokens, fits):
    meter = BudgetMeter(Budget(max_tokens=500))
    if fits:
        assert meter.reserve("a", SPEC, chars, max_tokens, 0.0) is not None
    else:
        with pytest.raises(BudgetExceededError, match="token budget exceeded"):
            meter.reserve("a", SPEC, chars, max_tokens, 0.0)


def test_spent_and_held_tokens_both_count():
    meter = BudgetMeter(Budget(max_tokens=1000))
    meter.spend(450, 0.0)
    held = meter.reserve("a", SPEC, 0, 300, 0.0)  # 450 + 300
    with pytest.raises(BudgetExceededError):
        meter.reserve("b", SPEC, 0, 251, 0.0)  # 450 + 300 + 251 > 1000
    assert meter.reserve("b", SPEC, 0, 250, 0.0) is not None  # exactly 1000
    meter.release(held)
    assert meter.reserve("c", SPEC, 0, 300, 0.0) is not None  # a's 300 released


def test_dollars_price_the_prompt_as_input_and_max_tokens_as_output():
    # 100 prompt tokens at $1/M + 1000 output tokens at $2/M = $0.0021 (priced the other way round: $0.0012)
    with pytest.raises(BudgetExceededError, match="dollar budget exceeded"):
        BudgetMeter(Budget(max_usd=0.0015)).reserve("a", SPEC, 300, 1000, 0.0)
    assert BudgetMeter(Budget(max_usd=0.0021)).reserve("a", SPEC, 300, 1000, 0.0) is not None  # exactly the cap


def test_spent_and_held_dollars_both_count():
    meter = BudgetMeter(Budget(max_usd=0.004))
    held = meter.reserve("a", SPEC, 300, 1000, 0.0)  # $0.0021 held
    with pytest.raises(BudgetExceededError, match="dollar budget exceeded"):
        meter.reserve("b", SPEC, 300, 1000, 0.0)  # 0.0042 > 0.004
    meter.release(held)
    meter.spend(0, 0.0021)  # a really cost that
    with pytest.raises(BudgetExceededError, match="dollar budget exceeded"):
        meter.reserve("b", SPEC, 300, 1000, 0.0)
    assert meter.reserve("b", SPEC, 0, 900, 0.0) is not None  # 0.0021 + 0.0018 = 0.0039


def test_the_time_cap_stops_a_call_at_the_limit_itself():
    meter = BudgetMeter(Budget(max_seconds=2.0))
    with pytest.raises(BudgetExceededError, match="time budget exceeded"):
        meter.reserve("a", SPEC, 0, 1, 2.0)
    assert meter.shortfall(0, 0.0, 2.0) == "time budget: 2.00 s of 2 s elapsed"
    assert meter.shortfall(0, 0.0, 1.99) is None


def test_shortfall_counts_spent_and_held_and_allows_exactly_the_cap():
    meter = BudgetMeter(Budget(max_tokens=1000, max_usd=0.01))
    meter.spend(300, 0.002)
    meter.hold(200, 0.003)
    assert meter.shortfall(500, 0.005, 0.0) is None  # 300 + 200 + 500 = 1000, $0.002 + 0.003 + 0.005 = 0.01
    assert meter.shortfall(501, 0.0, 0.0) == "token budget: 500 spent or held + up to 501 > 1000"
    assert meter.shortfall(0, 0.0051, 0.0).startswith("dollar budget:")


def test_release_gives_back_exactly_what_was_held():
    meter = BudgetMeter(Budget(max_tokens=100, max_usd=0.001))
    held = meter.hold(100, 0.001)
    assert meter.shortfall(1, 0.0, 0.0) is not None
    meter.release(held)
    assert meter.shortfall(100, 0.001, 0.0) is None
