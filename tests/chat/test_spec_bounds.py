"""`ModelSpec` refuses non-finite numbers and sizes or prices no real model comes near (a typo's exponent)."""
from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from rolegraph.chat.spec import ModelSpec

BASE = {"id": "my/x", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}


@pytest.mark.parametrize("field", ["price_in", "price_out", "params_b", "timeout_s"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_floats_are_refused(field, value):
    with pytest.raises(ValidationError, match="finite"):
        ModelSpec.model_validate(BASE | {field: value})


@pytest.mark.parametrize("fields", [
    {"price_in": 1e308}, {"price_out": 1e308}, {"price_in": 2e6},  # $2 a token
    {"params_b": 1e20}, {"params_b": 2e6},
    {"layers": 10**20}, {"layers": 200_000},
    {"hidden": 10**20}, {"hidden": 20_000_000},
])
def test_absurd_sizes_and_prices_are_refused(fields):
    with pytest.raises(ValidationError, match="less than or equal"):
        ModelSpec.model_validate(BASE | fields)


def test_the_largest_real_models_still_fit():
    """Sizes and prices a bit beyond today's largest models (a couple of trillion parameters, a few hundred
    layers, hidden sizes in the tens of thousands, hundreds of dollars per million tokens) are accepted."""
    spec = ModelSpec.model_validate(
        BASE | {"params_b": 5000, "layers": 500, "hidden": 65536, "price_in": 150.0, "price_out": 600.0}
    )
    assert (spec.params_b, spec.layers, spec.hidden, spec.price_out) == (5000, 500, 65536, 600.0)
    assert spec.cost(1_000_000, 1_000_000) == pytest.approx(750.0)


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_id_is_refused(blank):
    with pytest.raises(ValidationError, match="cannot be empty"):
        ModelSpec.model_validate({"id": blank, "backend": "sim"})
