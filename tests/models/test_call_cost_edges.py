"""`call_cost`, the dollars a paid call adds to the hub's `paid_usd` (what `--max-dollars`, the ledger and the report
count): the endpoint's own bill when it sent one, else both the prompt's and the reply's tokens at the pool's
prices. Prices are chosen so every figure is exact."""

from __future__ import annotations

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Usage
from rolegraph.models.in_flight import call_cost

SPEC = ModelSpec(id="my/priced", backend="openai", price_in=250_000.0, price_out=500_000.0)  # $0.25 / $0.50 a token


def test_a_call_without_a_bill_costs_its_prompt_and_its_reply_at_the_pool_prices():
    out = Completion(text="ok", model_id=SPEC.id, usage=Usage(input_tokens=4, output_tokens=2))
    assert call_cost(SPEC, out) == 4 * 0.25 + 2 * 0.50


def test_a_reply_alone_is_not_free():
    out = Completion(text="ok", model_id=SPEC.id, usage=Usage(input_tokens=0, output_tokens=3))
    assert call_cost(SPEC, out) == 1.5


def test_the_endpoints_own_bill_is_what_the_call_cost():
    out = Completion(text="ok", model_id=SPEC.id, usage=Usage(input_tokens=4, output_tokens=2), cost_usd=0.125)
    assert call_cost(SPEC, out) == 0.125
