"""The estimate printed before a search: its plan of item runs against what a search really spends."""
from __future__ import annotations

import pytest

from rolegraph.models.pool import ModelPool
from rolegraph.chat.spec import ModelSpec
from rolegraph.models.timings import LatencyRates
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.estimate import estimate_search, needs_estimate, pilot_plan
from rolegraph.optimize.space import SearchSpace

from .helpers import TINY_ROLES, run, tiny_config, tiny_space

SPLITS = ("train", "validation", "test")


def test_the_plan_matches_what_the_search_spends_phase_by_phase(pool, small_task, tmp_path):
    space, config = tiny_space(pool), tiny_config(iterations=3)
    sizes = {s: len(small_task.items(s)) for s in SPLITS}
    optimizer = AgentReinforce(pilot_batch=4)
    optimizer.bind(space, 0)
    pilot, pilot_items = pilot_plan(optimizer, space, config, sizes["train"])
    estimate = estimate_search(space, config, sizes, pilot=pilot, pilot_items=pilot_items)
    result = run(pool, tmp_path / "home", small_task, AgentReinforce(pilot_batch=4), space=space, config=config)
    spent = {phase: sum(r.n for r in result.trace.records if r.phase == phase)
             for phase in ("pilot", "search", "validation", "test", "single")}
    plan = estimate.runs
    assert plan["search"] == config.iterations * config.samples * config.batch
    assert 0 < spent["search"] <= plan["search"]  # isomorphic copies in one batch are scored once
    assert len(space.models) * pilot_items <= spent["pilot"] <= plan["pilot"]
    assert spent["validation"] <= plan["re-check"] == config.reserve
    assert spent["test"] == plan["test"] == config.test_items
    assert spent["single"] == plan["single models"] == len(space.models) * config.test_items
    dollars = sum(r.dollars * r.n for r in result.trace.records)
    assert estimate.typical.dollars / 10 < dollars <= estimate.most.dollars
    assert estimate.typical.calls <= estimate.most.calls and estimate.typical.dollars <= estimate.most.dollars
    assert not needs_estimate(space)  # sim only: nothing is printed before a sim search


def test_time_is_unknown_until_a_real_model_is_measured(pool):
    real = ModelSpec(id="my/model", backend="openai", base_url="http://127.0.0.1:9/v1", price_in=1.0, price_out=4.0,
                     params_b=1.24, layers=16, hidden=2048, max_concurrency=2)
    mixed = ModelPool([*pool, real])
    models = ("my/model", "sim/llama-3.2-1b")
    sizes = {"train": 100, "validation": 50, "test": 50}
    config = tiny_config(iterations=2)
    unmeasured = SearchSpace(pool=mixed, models=models, roles=TINY_ROLES, max_nodes=3, budget=18.0)
    assert needs_estimate(unmeasured) and needs_estimate(tiny_space(pool), agent_model="openai/gpt-4o-mini")
    text = "\n".join(estimate_search(unmeasured, config, sizes).lines())
    assert "time: unknown - nothing measured yet for my/model" in text and "dollars ~$" in text
    rates = LatencyRates(overhead_s=0.3, s_per_prompt_token=0.001, s_per_output_token=0.01, calls=12)
    measured = SearchSpace(pool=mixed, models=models, roles=TINY_ROLES, max_nodes=3, budget=18.0,
                           latency_rates={"my/model": rates})
    estimate = estimate_search(measured, config, sizes)
    assert "time ~" in "\n".join(estimate.lines()) and not estimate.unmeasured
    # the busiest model's call-seconds over its parallel calls: my/model serves 2 at once
    one_call = rates.seconds(measured.profile.prompt_tokens, measured.profile.output_tokens)
    assert estimate.wall_seconds(estimate.typical) >= one_call * config.test_items / real.max_concurrency
    with_agent = estimate_search(measured, config, sizes, agent=real)
    assert with_agent.agent_calls == config.iterations + 1
    assert with_agent.typical.dollars == pytest.approx(
        estimate.typical.dollars + with_agent.agent_calls * real.cost(8192, 0))  # no context_window in the entry: the documented 8192


def test_the_plan_counts_the_routing_phase_a_run_directory_adds(pool, small_task, tmp_path):
    """With a run directory the search ends by scoring the chosen graph, the front and the single models on
    `route_items` fit items (optimize/paired.py): the estimate left that phase out and a real search paid
    far more calls than its high figure."""
    from rolegraph.evaluate.store import ResultsStore
    from rolegraph.optimize.paired import FIT, PAIRED_SET, results_path

    space, config = tiny_space(pool), tiny_config(iterations=2, route_items=12)
    sizes = {s: len(small_task.items(s)) for s in SPLITS}
    estimate = estimate_search(space, config, sizes)
    stats = []
    run(pool, tmp_path / "home", small_task, "random", space=space, config=config, out=tmp_path / "run",
        hub_out=stats)
    with ResultsStore(results_path(tmp_path / "run")) as store:
        fit_runs = sum(p.n for p in store.paired(PAIRED_SET, FIT))
    singles = len(space.models)
    assert estimate.runs["routing"] == 12 * (1 + singles)  # the chosen graph and each single model
    assert 12 * singles <= fit_runs <= estimate.runs["routing"] + estimate.routing_extra * 12
    assert stats[0].calls - stats[0].cached <= estimate.most.calls  # every call paid, routing included
    assert "routing 48" in "\n".join(estimate.lines())
    no_routing = estimate_search(space, tiny_config(iterations=2, route_items=0), sizes)
    assert no_routing.runs["routing"] == 0 and no_routing.routing_extra == 0
    assert no_routing.most.calls < estimate.most.calls
