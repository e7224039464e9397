"""The estimate's high figures are never under its typical ones when real and sim models are mixed: the high
real part was the largest total of one sampled graph less the largest sim share of another, so a search on
my/qwen-7b and sim/llama-3.2-1b printed "calls ~211 (high 48)", and it could go under zero."""
from __future__ import annotations

import re

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.estimate import RunCost, _highest, estimate_search, pilot_plan
from rolegraph.optimize.space import SearchSpace

from .helpers import TINY_ROLES, tiny_config

REAL = ModelSpec(id="my/qwen-7b", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=0.15,
                 price_out=0.60, params_b=7.6, layers=28, hidden=3584, context_window=32768, max_concurrency=4)
SIZES = {"train": 100, "validation": 50, "test": 50}


def test_each_part_is_maxed_over_the_graphs_on_its_own():
    all_real = RunCost(calls=10, tokens=1000, dollars=0.5)
    all_sim = RunCost(calls=8, tokens=900, dollars=0.25, sim_calls=8, sim_tokens=900, sim_dollars=0.25)
    high = _highest([all_real, all_sim])
    assert high.real() == (10, 1000, 0.5)  # was (2, 100, 0.25): 10 calls of one graph less 8 sim calls of the other
    assert (high.sim_calls, high.sim_tokens, high.sim_dollars) == (8, 900, 0.25)


@pytest.mark.parametrize("with_pilot", [False, True])
def test_high_is_at_least_typical_for_the_real_and_the_sim_part(pool, with_pilot):
    mixed = ModelPool([*pool, REAL])
    space = SearchSpace(pool=mixed, models=(REAL.id, "sim/llama-3.2-1b"), roles=TINY_ROLES, max_nodes=4,
                        budget=18.0)
    config = tiny_config(iterations=None, max_evaluations=100, samples=2, batch=4, test_items=4,
                         validation_items=4)
    kwargs = {}
    if with_pilot:
        optimizer = AgentReinforce()
        optimizer.bind(space, 0)
        kwargs["pilot"], kwargs["pilot_items"] = pilot_plan(optimizer, space, config, SIZES["train"])
    estimate = estimate_search(space, config, SIZES, **kwargs)
    typical, most = estimate.typical, estimate.most
    assert typical.sim_calls > 0 and typical.real()[0] > 0  # the premise: both parts are there
    for part in range(3):  # calls, tokens, dollars
        assert 0 < typical.real()[part] <= most.real()[part]
    assert typical.sim_calls <= most.sim_calls
    assert typical.sim_tokens <= most.sim_tokens
    assert typical.sim_dollars <= most.sim_dollars


def test_the_dollar_figures_keep_their_significant_figures(pool):
    """A sim model's dollars of a small search read "simulated dollars ~$0.00 (high $0.01)" at two decimals."""
    mixed = ModelPool([*pool, REAL])
    space = SearchSpace(pool=mixed, models=(REAL.id, "sim/llama-3.2-1b"), roles=TINY_ROLES, max_nodes=4,
                        budget=18.0)
    estimate = estimate_search(space, tiny_config(iterations=1, test_items=4, validation_items=4), SIZES)
    text = "\n".join(estimate.lines())
    shown = re.findall(r"dollars ~\$([0-9.]+) \(high \$([0-9.]+)\)", text)
    assert len(shown) == 2  # the real endpoints' and the simulated models'
    wanted = [(estimate.typical.real()[2], estimate.most.real()[2]),
              (estimate.typical.sim_dollars, estimate.most.sim_dollars)]
    assert 0 < wanted[1][0] < 0.005  # the premise: two decimals would print the typical sim dollars as $0.00
    for (typical, high), (want_t, want_h) in zip(shown, wanted):
        assert float(typical) == pytest.approx(want_t, rel=0.005)
        assert float(high) == pytest.approx(want_h, rel=0.005)
