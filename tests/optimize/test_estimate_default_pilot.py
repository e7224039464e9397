"""The estimate's pilot for the default optimizer (`agent-reinforce`) against what its search really scores.

The estimate once knew only the GP and v1 variants' pilot (scored before the loop): for the default it planned
no pilot at all and an agent call on every iteration, while the default scores its anytime pilot as the
search's first iterations and asks the agent only once that pilot is in."""
from __future__ import annotations

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.isomorphism import Shape
from rolegraph.graphs.spec import GraphSpec
from rolegraph.optimize.agent_reinforce_race import AgentReinforce
from rolegraph.optimize.estimate import estimate_search, pilot_plan
from rolegraph.optimize.rundir import RunStore

from .helpers import run, tiny_config, tiny_space

SPLITS = ("train", "validation", "test")
AGENT = ModelSpec(id="my/agent", backend="openai", base_url="http://127.0.0.1:9/v1", context_window=4096,
                  price_in=1.0, price_out=1.0)


def _pilot_shapes(run_dir) -> tuple[set[Shape], int]:
    """(graphs, item runs) the search scored as its pilot, read from its run directory."""
    store = RunStore.open(run_dir)
    try:
        graphs, records = store.graphs(), store.records()
    finally:
        store.close()
    pilot = [r for r in records if r["source"] == "pilot"]
    return {Shape(GraphSpec.model_validate(graphs[r["graph_hash"]])) for r in pilot}, sum(r["n"] for r in pilot)


def test_the_default_optimizers_pilot_is_the_one_its_search_scores(pool, small_task, tmp_path):
    space, config = tiny_space(pool), tiny_config(iterations=5)
    sizes = {s: len(small_task.items(s)) for s in SPLITS}
    optimizer = AgentReinforce()
    optimizer.bind(space, 0)
    plan, items = pilot_plan(optimizer, space, config, sizes["train"])
    estimate = estimate_search(space, config, sizes, pilot=plan, pilot_items=items, agent=AGENT)
    result = run(pool, tmp_path / "home", small_task, AgentReinforce(), space=space, config=config,
                 out=tmp_path / "run")
    scored, pilot_runs = _pilot_shapes(tmp_path / "run")
    first = {Shape(g) for g in plan.graphs}
    # the first stage is planned exactly; the second is one of the planned pairs' mixes (which pair: the scores)
    assert first and first <= scored
    assert any(scored == first | {Shape(g) for g in mixes} for mixes in plan.mixes)
    assert items == config.batch and estimate.runs["pilot"] >= pilot_runs > 0
    # the pilot's runs are the search's first ones, not extra: the two together are the iterations' slots
    assert estimate.runs["pilot"] + estimate.runs["search"] == config.iterations * config.samples * config.batch
    # the agent is asked once the pilot is in (its initial call), then once an iteration: as the trace logged
    assert estimate.agent_calls == len(result.trace.feedback) < config.iterations + 1


def test_a_search_that_ends_inside_the_pilot_asks_the_agent_nothing(pool, small_task):
    space, config = tiny_space(pool), tiny_config(iterations=1)
    sizes = {s: len(small_task.items(s)) for s in SPLITS}
    optimizer = AgentReinforce()
    optimizer.bind(space, 0)
    plan, items = pilot_plan(optimizer, space, config, sizes["train"])
    assert len(plan.graphs) > config.samples  # the first stage alone takes more than one iteration
    estimate = estimate_search(space, config, sizes, pilot=plan, pilot_items=items, agent=AGENT)
    assert estimate.agent_calls == 0 and estimate.agent_requests_high == 0
    assert estimate.runs["pilot"] == config.samples * config.batch and estimate.runs["search"] == 0
