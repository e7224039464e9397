"""The evaluator on the real sim pool and real runtime: accuracy, determinism, skips, failures, budgets."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError, MissingKeyError
from rolegraph.evaluate.runner import _error_text, evaluate, evaluate_sync
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task
from tests.run_wall_support import framework_s, spy_on_walls

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"
N_ITEMS = 50
GSM_SIZE = 80
LONG_QUESTION_WORDS = 6000  # a prompt far above the budget that every ordinary item fits in
BUDGET_TOKENS = 4000


@pytest.fixture(scope="module")
def gsm():
    task = get_task("gsm", seed=0, size=GSM_SIZE)
    return task, task.items("all", N_ITEMS, seed=0)


def one_solver(model: str) -> GraphSpec:
    return GraphSpec.model_validate({"name": "one", "nodes": [{"id": "s", "role": "solver", "model": model}]})


def run_eval(spec, task, items, settings: Settings, pool: ModelPool | None = None, **kwargs):
    async def go():
        hub = ModelHub(pool or ModelPool.builtin(), settings)
        try:
            result = await evaluate(spec, task, items, hub=hub, progress=False, **kwargs)
            return result, hub.stats
        finally:
            await hub.aclose()

    return asyncio.run(go())


def test_sim_accuracy_is_plausible_and_independent_of_concurrency(gsm, tmp_path):
    task, items = gsm
    spec = GraphSpec.model_validate({
        "name": "vote3",
        "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-3b", "params": {"temperature": 0.7}},
                  {"id": "b", "role": "solver", "model": "sim/llama-3.2-3b", "params": {"temperature": 0.7}},
                  {"id": "c", "role": "solver", "model": "sim/llama-3.2-1b", "params": {"temperature": 0.7}},
                  {"id": "fuse", "role": "fuser", "model": "sim/llama-3.1-8b"}],
        "edges": [["a", "fuse"], ["b", "fuse"], ["c", "fuse"]]})
    nocache = Settings(home=tmp_path / "h", cache=False)
    serial, _ = run_eval(spec, task, items, nocache, concurrency=1)
    wide, _ = run_eval(spec, task, items, nocache, concurrency=16)
    assert serial.model_dump() == wide.model_dump()
    assert [it.item_id for it in serial.items] == [it.id for it in items]  # input order, not completion order
    assert serial.n == N_ITEMS and serial.failures == 0 and serial.simulated
    assert 0.2 <= serial.accuracy <= 0.9
    assert serial.ci95[0] < serial.accuracy < serial.ci95[1]
    assert serial.tokens > 0 and serial.cost_usd > 0 and serial.flops_units > 0
    assert serial.mean_latency_s > 0 and serial.p95_latency_s >= serial.mean_critical_path_s > 0
    fuse = serial.per_node["fuse"]
    assert fuse.agree_rate == 1.0 and fuse.correct_rate == pytest.approx(serial.accuracy)
    assert all(0.0 <= serial.per_node[s].correct_rate <= 1.0 for s in "abc")
    # node credit is real: each solver's rate is its own answers scored, not the output's
    assert {serial.per_node[s].correct_rate for s in "abc"} != {serial.accuracy}


def test_single_3b_solver_lands_near_its_calibration(gsm, tmp_path):
    """The sim's 3B model is calibrated to the paper's 40% on math; 50 items leave about +-14 points."""
    task, items = gsm
    result, _ = run_eval(load_graph(EXAMPLES / "single.yaml"), task, items, Settings(home=tmp_path / "h", cache=False),
                         concurrency=16)
    assert 0.2 <= result.accuracy <= 0.6


def test_cache_replays_and_results_are_stored(gsm, settings, tmp_path):
    task, items = gsm
    spec = load_graph(EXAMPLES / "single.yaml")
    few = items[:10]
    with ResultsStore(tmp_path / "results.sqlite") as store:
        first, stats1 = run_eval(spec, task, few, settings, store=store, label="first",
                                 store_settings={"seed": 0})
        second, stats2 = run_eval(spec, task, few, settings, store=store)
        assert stats1.paid == len(few) and stats2.paid == 0 and stats2.cached == len(few)
        assert second.cached_calls == second.calls == len(few) and first.cached_calls == 0
        assert _without_cache_counts(first) == _without_cache_counts(second)
        assert first.run_id and first.run_id != second.run_id
        back = store.load(first.run_id)
        assert back.model_dump() == first.model_dump()
        assert store.runs()[-1]["label"] == "first"


def _without_cache_counts(result) -> dict:
    """The result's dump without its run id and without what says which calls the cache answered."""
    data = result.model_dump(exclude={"run_id", "cached_calls"})
    for item in data["items"]:
        for usage in item["node_usage"].values():
            usage.pop("cached_calls")
    return data


def test_items_without_gold_are_skipped_and_counted(gsm, tmp_path):
    task, items = gsm
    no_gold = [Item(id="nogold-1", question="What is 2 + 2?"), Item(id="nogold-2", question="Name a prime.")]
    mixed = items[:3] + no_gold + items[3:6]
    done: list[tuple[int, int]] = []
    result, _ = run_eval(one_solver("sim/llama-3.2-1b"), task, mixed, Settings(home=tmp_path / "h", cache=False),
                         on_item=lambda d, t: done.append((d, t)))
    assert result.n == 6 and result.skipped == task.skipped + 2
    assert [it.item_id for it in result.items] == [it.id for it in items[:6]]
    assert done == [(i, 6) for i in range(1, 7)]


def test_failed_runs_are_failures_not_wrong_answers(gsm, settings):
    """A real OpenAI-compatible endpoint on loopback that refuses every request (serve-sim without the key)."""
    from rolegraph.sim.server import ServerThread, create_app

    task, items = gsm
    with ServerThread(create_app(ModelPool.builtin(), settings)) as server:
        broken = ModelSpec(id="loop/refuses", backend="openai", base_url=server.base_url, model="sim/llama-3.2-3b",
                           answer_key=False, params_b=3.21, layers=28, hidden=3072)
        pool = ModelPool([*ModelPool.builtin(), broken])
        spec = GraphSpec.model_validate({
            "name": "half-broken",
            "nodes": [{"id": "ok", "role": "solver", "model": "sim/llama-3.2-3b"},
                      {"id": "bad", "role": "solver", "model": "loop/refuses"},
                      {"id": "f", "role": "fuser", "model": "sim/llama-3.1-8b"}],
            "edges": [["ok", "f"], ["bad", "f"]]})
        # every item failed: `evaluate` raises (tests/evaluate/test_every_item_failed.py); its result, as stored
        result, _ = run_eval(spec, task, items[:6], settings, pool=pool, concurrency=3, raise_on_all_failed=False)
    assert result.n == 6 and result.failures == 6 and result.accuracy == 0.0
    assert all(it.error and "bad" in it.error for it in result.items)
    assert all(it.answer is None for it in result.items)  # never scored as a wrong answer
    assert result.per_node["f"].n == 0 and result.per_node["f"].correct_rate is None
    assert result.mean_latency_s == 0.0


def test_budget_stops_the_evaluation_and_keeps_what_was_done(gsm, tmp_path):
    task, items = gsm
    long_item = Item(id="long", question="Count the apples. " * LONG_QUESTION_WORDS, gold="1")
    batch = items[:4] + [long_item] + items[4:8]
    with ResultsStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(BudgetExceededError) as info:
            run_eval(one_solver("sim/llama-3.2-1b"), task, batch, Settings(home=tmp_path / "h", cache=False),
                     concurrency=1, budget=Budget(max_tokens=BUDGET_TOKENS), store=store)
        partial = info.value.partial
        assert partial.partial and partial.n == 4
        assert [it.item_id for it in partial.items] == [it.id for it in items[:4]]
        assert store.runs()[0]["partial"] is True
        assert store.load(partial.run_id).n == 4


def test_setup_mistakes_stop_at_once(gsm, tmp_path, monkeypatch):
    task, items = gsm
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        run_eval(one_solver("openai/gpt-4o-mini"), task, items[:3], Settings(home=tmp_path / "h"))


def test_evaluate_sync_matches_async(gsm, tmp_path):
    task, items = gsm
    settings = Settings(home=tmp_path / "h", cache=False)
    spec = one_solver("sim/llama-3.2-3b")
    hub = ModelHub(ModelPool.builtin(), settings)
    sync = evaluate_sync(spec, task, items[:5], hub=hub, progress=False, seed=3)
    asyncio.run(hub.aclose())
    again, _ = run_eval(spec, task, items[:5], settings, seed=3)
    assert sync.model_dump() == again.model_dump()


def test_per_node_stats_count_items_whose_reply_was_cut(gsm, tmp_path):
    """A node whose max_tokens is far below its reply is cut on every item; its sibling never is."""
    task, items = gsm
    spec = GraphSpec.model_validate({"name": "cut", "nodes": [
        {"id": "short", "role": "solver", "model": "sim/llama-3.2-1b", "params": {"max_tokens": 8}},
        {"id": "full", "role": "solver", "model": "sim/llama-3.2-1b"},
        {"id": "f", "role": "fuser", "model": "sim/llama-3.2-1b"}],
        "edges": [["short", "f"], ["full", "f"]]})
    result, _ = run_eval(spec, task, items[:10], Settings(home=tmp_path / "h", cache=False))
    assert result.per_node["short"].truncated == 10
    assert result.per_node["full"].truncated == 0


def latencies(item) -> dict[str, float]:
    """An evaluated item's node latencies, by node id (what finds its run among those the spy saw)."""
    return {node: use.latency_s for node, use in item.node_usage.items()}


def test_a_cached_rerun_on_a_real_server_keeps_the_latency_first_measured(llamacpp, tmp_path, monkeypatch):
    """llama.cpp's own server: the rerun is answered from the response cache (no call paid) and reports
    the latency measured when the calls were made, not the ~0 s the cache took. Two items share the
    server's one slot: a run's latency is its own calls' time, not the time it waited for the other's."""
    pool = ModelPool([*ModelPool.builtin(), llamacpp.spec("llamacpp/smollm2")])
    spec = GraphSpec.model_validate({"name": "two", "nodes": [
        {"id": "a", "role": "solver", "model": "llamacpp/smollm2", "params": {"max_tokens": 8}},
        {"id": "out", "role": "verifier", "model": "llamacpp/smollm2", "params": {"max_tokens": 8}}],
        "edges": [["a", "out"]]})
    task = get_task("arith", seed=0, size=4)
    items = task.items("all", 2, seed=0)
    hub = ModelHub(pool, Settings(home=tmp_path / "home"))
    walls = spy_on_walls(monkeypatch)

    async def twice():
        try:
            first = await evaluate(spec, task, items, hub=hub, progress=False)
            paid = hub.stats.paid
            second = await evaluate(spec, task, items, hub=hub, progress=False)
            return first, second, paid, hub.stats.paid
        finally:
            await hub.aclose()

    first, second, paid_first, paid_after = asyncio.run(twice())
    assert first.failures == second.failures == 0
    assert first.cached_calls == 0 and first.calls == 4 and paid_first == 4
    assert second.cached_calls == second.calls == 4 and paid_after == paid_first
    assert first.mean_latency_s > 0.02
    assert second.mean_latency_s == pytest.approx(first.mean_latency_s, rel=0.1, abs=0.02)
    for fresh, replayed in zip(first.items, second.items):
        calls = sum(u.latency_s for u in fresh.node_usage.values())  # a -> out: the calls' own times add up
        # its calls' time plus the framework's own (its measured wall beyond its measured a -> out spans): a wait
        # for the other item's call on the slot is in neither
        run = next(traces for traces, _ in walls if {t.id: t.latency_s for t in traces} == latencies(fresh))
        assert fresh.latency_s == pytest.approx(calls + framework_s(walls, run), abs=1e-9)
        for node in ("a", "out"):
            assert replayed.node_usage[node].latency_s == pytest.approx(
                fresh.node_usage[node].latency_s, rel=0.1, abs=0.02)


def test_a_router_is_evaluated_like_a_graph_and_stored(gsm, settings, tmp_path):
    """A router's items carry the stage that answered and the signals; FLOPs, tokens and dollars are what the
    stages that ran spent (the mean is between stage 1 alone and every stage); it stores and loads back."""
    from rolegraph.graphs.router import RouterSpec, Stage, StopRule
    from rolegraph.graphs.router_runtime import CompiledRouter

    task, items = gsm
    two = GraphSpec.model_validate({"name": "v2", "nodes": [
        {"id": "n0", "role": "solver", "model": "sim/llama-3.1-8b"},
        {"id": "n1", "role": "solver", "model": "sim/llama-3.1-8b"},
        {"id": "out", "role": "fuser", "model": "sim/llama-3.1-8b"}], "edges": [["n0", "out"], ["n1", "out"]]})
    three = GraphSpec.model_validate({**two.model_dump(), "name": "v3", "nodes": [
        *two.model_dump()["nodes"][:2], {"id": "n2", "role": "solver", "model": "sim/llama-3.1-8b"},
        {"id": "out", "role": "fuser", "model": "sim/llama-3.1-8b"}],
        "edges": [["n0", "out"], ["n1", "out"], ["n2", "out"]]})
    router = RouterSpec(name="casc", stages=[Stage(graph=two, stop=StopRule(min_agreement=1.0)), Stage(graph=three)])
    store = ResultsStore(tmp_path / "r.sqlite")
    res, _ = run_eval(router, task, items, settings, store=store)
    hub = ModelHub(ModelPool.builtin(), settings)
    flops = CompiledRouter(router, hub).stage_flops("math")
    stages = [it.stage for it in res.items]
    assert set(stages) == {1, 2}
    assert res.flops_units == pytest.approx(flops[0] + flops[1] * stages.count(2) / len(stages))
    assert all((it.agreement == 1.0) == (it.stage == 1) for it in res.items if it.stage == 1)
    assert res.per_node["s2.n2"].n == stages.count(2) and res.per_node["s1.n0"].n == len(items)
    back = store.load(res.run_id)
    assert [it.stage for it in back.items] == stages and back.flops_units == pytest.approx(res.flops_units)
    assert isinstance(store.graph(res.run_id), RouterSpec)
    store.close()
    graph_res, _ = run_eval(two, task, items, settings)
    for g_it, r_it in zip(graph_res.items, res.items):
        if r_it.stage == 1:
            assert r_it.answer == g_it.answer and r_it.agreement == g_it.agreement


def test_skipped_counts_the_items_asked_for_not_the_files_records_without_gold(tmp_path):
    """A file's records without a gold are in no split: two items scored from a file with ten such records
    skipped none of them (it said skipped=10 beside n=2)."""
    import json

    path = tmp_path / "g.jsonl"
    rows = [{"question": f"What is {i} + 1?", "answer": f"{i} + 1 = {i + 1}\n#### {i + 1}"} for i in range(20)]
    rows += [{"question": f"What is {i} + 2?", "answer": "no marker here"} for i in range(10)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = get_task("gsm8k", data=path)
    assert task.skipped == 10
    result, _ = run_eval(one_solver("sim/llama-3.2-1b"), task, task.items("test", 2),
                         Settings(home=tmp_path / "h", cache=False))
    assert result.n == 2 and result.skipped == 0


def test_a_failure_without_a_message_is_named_by_its_type():
    """An item's error is its failure's cause in `failure_line`: an exception raised with no text (a bare
    TimeoutError) must still say something, not leave 'first failure: ' empty."""
    assert _error_text(TimeoutError()) == "TimeoutError"
    assert _error_text(RuntimeError("  connection refused \n")) == "connection refused"
