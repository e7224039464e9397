"""The dollar-cap messages print money as the reports do ("$0.0000751"), never in scientific notation
("$7.51e-05"), which a reader comparing the sum with the cap cannot read at a glance."""
from __future__ import annotations

import re

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import CallStats
from rolegraph.optimize.spending import DollarCapReachedError, SpendMeter

AMOUNT = re.compile(r"\$[0-9][0-9.]*")


def test_the_refusal_of_a_sub_cent_call_has_no_scientific_notation():
    spec = ModelSpec(id="my/cheap", backend="openai", price_in=0.1, price_out=0.1)
    meter = SpendMeter.start(CallStats(), max_usd=0.0001, before=7.51e-05)
    with pytest.raises(BudgetExceededError) as refused:
        meter.reserve(spec, [{"role": "user", "content": "x" * 30}], max_tokens=300)
    said = str(refused.value)
    assert "e-0" not in said
    assert said.startswith("dollar cap: $0.0000751 spent on paid calls + $0 in flight + up to $0.0000")
    assert said.endswith("> --max-dollars $0.0001")
    assert len(AMOUNT.findall(said)) == 4


def test_the_stop_between_steps_keeps_sub_cent_spending_readable():
    meter = SpendMeter.start(CallStats(), max_usd=0.00001, before=0.00002)
    with pytest.raises(DollarCapReachedError) as stopped:
        meter.check()
    said = str(stopped.value)
    assert "$0.00002 spent on paid calls >= --max-dollars $0.00001" in said  # was "$0.0000 ... $1e-05"
    assert "e-0" not in said
