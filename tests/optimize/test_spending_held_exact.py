"""What the dollar meter holds for calls in flight returns to exactly zero when they have all finished, in any
order: a float += / -= ended at -2.7e-20 after calls finished out of order, and the cap's refusal then read
"+ <$0.000000001 in flight" with nothing in flight (and without its minus sign)."""
from __future__ import annotations

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.models.hub import CallStats
from rolegraph.optimize.spending import SpendMeter

MESSAGE = [{"role": "user", "content": "x" * 300}]
CALLS = [  # (input price, output price, max_tokens): worst cases whose float sum does not cancel out of order
    (0.1, 0.3, 1000),
    (0.15, 0.6, 333),
    (0.7, 2.1, 77),
]


def test_held_returns_to_zero_after_out_of_order_releases_and_the_refusal_says_none_in_flight():
    specs = [ModelSpec(id=f"my/m{i}", backend="openai", price_in=p, price_out=q) for i, (p, q, _) in enumerate(CALLS)]
    meter = SpendMeter.start(CallStats(), max_usd=0.001)
    held = [meter.reserve(spec, MESSAGE, max_tokens=n) for spec, (_, _, n) in zip(specs, CALLS)]
    leftover = 0.0
    for h in held:
        leftover += h
    for i in (1, 0, 2):
        leftover -= held[i]
    assert leftover != 0  # the premise: the float reckoning of these calls does not come back to zero
    for i in (1, 0, 2):
        meter.release(held[i])
    assert meter.held == 0
    with pytest.raises(BudgetExceededError) as refused:
        meter.reserve(specs[0], MESSAGE, max_tokens=10_000)  # $0.003 at worst: over the $0.001 cap
    assert "+ $0 in flight +" in str(refused.value)
