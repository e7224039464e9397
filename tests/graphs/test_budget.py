import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import Budget, BudgetError, BudgetMeter, estimate_prompt_tokens
from rolegraph.chat.spec import ModelSpec

SPEC = ModelSpec(id="test/m", backend="sim", price_in=1.0, price_out=2.0)  # $ per 1M tokens


def test_unlimited_budget_holds_nothing():
    meter = BudgetMeter()
    assert meter.budget.unlimited and meter.reserve("n", SPEC, 10_000, 10_000, 1e9) is None


def test_invalid_caps_are_rejected():
    with pytest.raises(BudgetError, match="field 'max_tokens' must be greater than 0, got 0"):
        Budget(max_tokens=0)
    with pytest.raises(BudgetError, match="field 'max_usd' must be greater than 0, got -1"):
        Budget(max_usd=-1)


def test_token_cap_counts_worst_case_of_the_next_call_and_in_flight_calls():
    meter = BudgetMeter(Budget(max_tokens=900))
    worst = estimate_prompt_tokens(300) + 400
    held = meter.reserve("a", SPEC, 300, 400, 0.0)
    assert held.tokens == worst
    with pytest.raises(BudgetExceededError, match="before node 'b'.*in flight"):
        meter.reserve("b", SPEC, 300, 400, 0.0)  # a's call is still in flight
    meter.release(held)
    meter.spend(120, 0.0)  # a really used 120
    second = meter.reserve("b", SPEC, 300, 400, 0.0)
    assert second is not None and meter.tokens == 120


def test_dollar_cap_uses_the_models_prices():
    meter = BudgetMeter(Budget(max_usd=0.001))
    meter.reserve("a", SPEC, 0, 400, 0.0)  # $0.0008 worst case
    with pytest.raises(BudgetExceededError, match=r"dollar budget exceeded before node 'b' \(test/m\)"):
        meter.reserve("b", SPEC, 0, 200, 0.0)


def test_time_cap_checks_elapsed_before_the_call():
    meter = BudgetMeter(Budget(max_seconds=2.0))
    assert meter.reserve("a", SPEC, 10, 10, 1.99) is not None
    with pytest.raises(BudgetExceededError, match="time budget exceeded before node 'b'"):
        meter.reserve("b", SPEC, 10, 10, 2.0)
