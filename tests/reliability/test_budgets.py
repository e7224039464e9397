"""Hard budgets as properties: over random graphs, items, caps and node settings, no run spends more
tokens or dollars than its cap and no call starts after the time cap; an evaluation stopped by a cap
is stored as partial and re-running it pays for no call twice; a search never spends more item runs
than its evaluation budget, nor evaluates a graph over its per-item budget.
"""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError, SearchError
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.result import RunResult
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.rundir import RunStore
from rolegraph.settings import Settings

from .conftest import examples
from .searching import SIM_MODELS, space_for

PROPS = settings(max_examples=examples(25), deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ROLES = ("solver", "verifier", "fuser")
TOP_CANDIDATES, VALIDATION_ITEMS = 2, 3
RESERVE = TOP_CANDIDATES * VALIDATION_ITEMS  # item runs the final re-check keeps back


@pytest.fixture(scope="module")
def gsm():
    from rolegraph.tasks.registry import get_task

    return get_task("gsm", size=80)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """One plain sim hub: the sim stops at max_tokens as a real endpoint does (the cache makes repeated
    calls free, not budget-free: spend counts)."""
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path_factory.mktemp("home")))


@st.composite
def graphs(draw, node_max_tokens: bool = False):
    """Random DAGs of 1-6 sim nodes (edges only from lower to higher index), optionally with a per-node
    max_tokens (params) below what the node would write."""
    n = draw(st.integers(1, 6))
    nodes = []
    for i in range(n):
        params = {"max_tokens": draw(st.integers(64, 1024))} if node_max_tokens and draw(st.booleans()) else {}
        nodes.append(NodeSpec(id=f"n{i}", role=draw(st.sampled_from(ROLES)), model=draw(st.sampled_from(SIM_MODELS)),
                              params=params))
    edges = [(f"n{a}", f"n{b}") for b in range(1, n) for a in range(b) if draw(st.integers(0, 2)) == 0]
    sinks = {f"n{i}" for i in range(n)} - {s for s, _ in edges}
    edges += [(s, f"n{n - 1}") for s in sorted(sinks) if s != f"n{n - 1}"]  # one output: the last node
    return GraphSpec(name="g", nodes=nodes, edges=edges)


budgets = st.builds(Budget, max_tokens=st.one_of(st.none(), st.integers(1, 12_000)),
                    max_usd=st.one_of(st.none(), st.floats(1e-7, 5e-3)),
                    max_seconds=st.one_of(st.none(), st.floats(0.05, 60.0)))


def _check_within(run: RunResult, budget: Budget) -> None:
    if budget.max_tokens is not None:
        assert run.tokens <= budget.max_tokens, (run.tokens, budget)
    if budget.max_usd is not None:
        assert run.cost_usd <= budget.max_usd + 1e-12, (run.cost_usd, budget)
    if budget.max_seconds is not None:  # the time cap is checked before each call (modelled sim time)
        for node in run.nodes:
            if node.calls:
                assert node.start_s < budget.max_seconds, (node, budget)


def _run_within(hub, gsm, spec, budget, index, seed) -> None:
    item = gsm.items("train", None, 0)[index]
    try:
        run = asyncio.run(run_graph(spec, item, hub, budget=budget, seed=seed, answer_kind=gsm.answer_kind))
    except BudgetExceededError as exc:
        assert isinstance(exc.partial, RunResult) and exc.partial.error
        assert "\n" not in str(exc) and "budget" in str(exc)
        _check_within(exc.partial, budget)
    else:
        _check_within(run, budget)


@PROPS
@given(spec=graphs(node_max_tokens=True), budget=budgets, index=st.integers(0, 19), seed=st.integers(0, 3))
def test_no_run_spends_more_than_its_caps(hub, gsm, spec, budget, index, seed):
    _run_within(hub, gsm, spec, budget, index, seed)


@pytest.mark.parametrize("spec, index", [
    (GraphSpec(name="short", nodes=[NodeSpec(id="a", role="solver", model=SIM_MODELS[0],
                                             params={"max_tokens": 32})]), 0),
    (GraphSpec(name="fan", nodes=[NodeSpec(id=f"n{i}", role="solver", model=SIM_MODELS[0]) for i in range(3)],
               edges=[("n0", "n1"), ("n0", "n2"), ("n1", "n2")]), 3),  # found by the long run: role defaults
])
def test_sim_runs_stay_within_their_caps_when_a_node_would_write_past_its_max_tokens(hub, gsm, spec, index):
    """Regressions: the sim once ignored max_tokens (a node with a small params.max_tokens, a node restating
    long inputs past its role's default), so a run overshot its cap before the after-call check stopped it."""
    item = gsm.items("train", None, 0)[index]
    free = asyncio.run(run_graph(spec, item, hub, answer_kind=gsm.answer_kind))
    roles = RoleRegistry.default()
    for node in free.nodes:  # every call stayed within its node's max_tokens
        limit = spec.node(node.id).params.get("max_tokens", roles.get(node.role).max_tokens)
        assert node.calls and node.tokens_out <= limit * node.calls, node
    if spec.name == "short":  # cut before its final line, the reply carries no answer
        assert free.answer is None and free.nodes[0].tokens_out == 32
    for cap in (free.tokens - 1, free.tokens // 2, 1):
        _run_within(hub, gsm, spec, Budget(max_tokens=cap), index, 0)
        _run_within(hub, gsm, spec, Budget(max_usd=free.cost_usd * cap / free.tokens), index, 0)


def _decided(item) -> dict:
    """An item's score without which of its calls the response cache answered (a resume replays some)."""
    data = item.model_dump()
    for usage in data["node_usage"].values():
        usage.pop("cached_calls")
    return data


def test_a_capped_evaluation_is_stored_partial_and_resumes_without_paying_twice(gsm, tmp_path):
    spec = GraphSpec(name="vote", nodes=[NodeSpec(id="a", role="solver", model=SIM_MODELS[0]),
                                         NodeSpec(id="b", role="solver", model=SIM_MODELS[1]),
                                         NodeSpec(id="f", role="fuser", model=SIM_MODELS[2])],
                     edges=[("a", "f"), ("b", "f")])
    items = gsm.items("test", 16, 0)
    pool = ModelPool.builtin()

    def run_eval(home, budget=None, store_path=None):
        hub = ModelHub(pool, Settings(home=home))

        async def main():
            store = ResultsStore(store_path) if store_path else None
            try:
                return await evaluate(spec, gsm, items, hub=hub, budget=budget, store=store, concurrency=4)
            finally:
                if store:
                    store.close()
                await hub.aclose()

        return asyncio.run(main()), hub.stats

    full, full_stats = run_eval(tmp_path / "fresh")
    per_run = max(it.tokens for it in full.items)
    tight = Budget(max_tokens=per_run - 1)  # the heaviest item cannot finish
    with pytest.raises(BudgetExceededError) as info:
        run_eval(tmp_path / "home", tight, tmp_path / "results.sqlite")
    partial = info.value.partial
    assert partial.partial and partial.n < len(items) and partial.run_id
    with ResultsStore(tmp_path / "results.sqlite") as store:
        stored = store.runs()
        assert len(stored) == 1 and stored[0]["partial"] and stored[0]["n"] == partial.n
    again, again_stats = run_eval(tmp_path / "home", None, tmp_path / "results.sqlite")
    assert [_decided(it) for it in again.items] == [_decided(it) for it in full.items]
    assert again_stats.cached > 0
    # every call the capped evaluation paid for is answered from the cache: total paid = one full run
    hub_first = ModelHub(pool, Settings(home=tmp_path / "count"))
    assert again_stats.paid + _paid_before_cap(spec, gsm, items, tight, hub_first) == full_stats.paid


def _paid_before_cap(spec, gsm, items, budget, hub) -> int:
    async def main():
        try:
            await evaluate(spec, gsm, items, hub=hub, budget=budget, concurrency=4)
        except BudgetExceededError:
            pass
        finally:
            await hub.aclose()

    asyncio.run(main())
    return hub.stats.paid


@settings(max_examples=examples(4), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(max_evaluations=st.integers(20, 60), samples=st.integers(1, 3), batch=st.integers(2, 5),
       optimizer=st.sampled_from(["random", "reinforce", "tpe", "agent-reinforce"]), budget=st.floats(4.0, 20.0))
def test_a_search_never_spends_more_than_its_evaluation_budget(gsm, tmp_path_factory, max_evaluations, samples,
                                                               batch, optimizer, budget):
    # every budget drawn leaves room for one graph on one batch beyond the final re-check's reserve (2 x 3
    # items), so the search must run and finish; a budget too small to search at all is tested below
    assert max_evaluations - RESERVE >= batch
    _search_within(gsm, tmp_path_factory, max_evaluations, samples, batch, optimizer, budget)


def test_agent_reinforce_pilot_stays_within_the_evaluation_budget(gsm, tmp_path_factory):
    _search_within(gsm, tmp_path_factory, 20, 1, 4, "agent-reinforce", 7.0)


@pytest.mark.parametrize("optimizer", ["random", "agent-reinforce"])
def test_a_budget_too_small_to_search_at_all_says_so_in_one_line(gsm, tmp_path_factory, optimizer):
    """Nothing left beyond the final re-check's reserve (2 candidates x 3 validation items): no graph can
    be scored, and the search stops with one line instead of reporting a choice it never measured."""
    with pytest.raises(SearchError) as info:
        _search_within(gsm, tmp_path_factory, RESERVE, 2, 3, optimizer, 7.0)
    assert "\n" not in str(info.value) and "evaluated no graph" in str(info.value)


def _search_within(gsm, tmp_path_factory, max_evaluations, samples, batch, optimizer, budget) -> None:
    pool = ModelPool.builtin()
    space = space_for(pool, SIM_MODELS, budget=budget)
    config = SearchConfig(iterations=None, max_evaluations=max_evaluations, samples=samples, batch=batch,
                          validation_items=VALIDATION_ITEMS, test_items=3, top_candidates=TOP_CANDIDATES,
                          compare_singles=False)

    run_dir = tmp_path_factory.mktemp("search") / "run"

    async def main():
        hub = ModelHub(pool, Settings(home=tmp_path_factory.mktemp("home")))
        try:
            return await optimize_async(gsm, space, make_optimizer(optimizer), hub=hub, config=config,
                                        out=run_dir)
        finally:
            await hub.aclose()

    result = asyncio.run(main())
    assert result.evaluations <= max_evaluations
    charged = [r for r in result.trace.records if r.phase in ("pilot", "search", "validation")]
    assert sum(r.n for r in charged) == result.evaluations
    store = RunStore.open(run_dir)
    try:
        graphs = store.graphs()
    finally:
        store.close()
    for ghash in {r.graph_hash for r in charged}:  # every graph it paid to score was within the per-item budget
        assert space.fits(GraphSpec.model_validate(graphs[ghash])), ghash
