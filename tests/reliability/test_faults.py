"""Injected faults through the loopback server: 30% of requests fail (429 with Retry-After, 500, 503,
timeouts, dropped connections, garbage, truncated bodies, empty choices) and a search or an
evaluation still ends with exactly the fault-free result, no evaluation lost or counted twice. When
every request fails, the search stops with one clear line, its checkpoint intact, and resumes.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from rolegraph.errors import RolegraphError
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.io import save_graph
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.sim.faults import FAULT_KINDS, FaultConfig
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.agent_reinforce import AgentReinforce as GPAgentReinforce
from rolegraph.optimize.agent_reinforce_v1 import AgentReinforce
from rolegraph.optimize.rundir import RunStore
from rolegraph.settings import Settings

from .conftest import cli, pool_yaml
from .searching import (TASK_ARGS, WALL_FIELDS, comparable, http_hub, http_models, resume, search,
                        set_faults, tiny_config)

FAULT_RATE = 0.3
HANG_S = 30.0  # a `timeout` fault hangs longer than the client waits
SEED = 7
ITERATIONS = 3
STOP_AFTER = 2


def faults(rate: float = FAULT_RATE, kinds: list[str] | None = None, seed: int = SEED) -> FaultConfig:
    return FaultConfig(rate=rate, kinds=list(kinds or FAULT_KINDS), seed=seed, timeout_s=HANG_S, retry_after_s=0.5)


@pytest.fixture(scope="module")
def gsm():
    from rolegraph.tasks.registry import get_task

    return get_task("gsm", size=TASK_ARGS["size"])


def _stored_records(run_dir) -> list[dict]:
    store = RunStore.open(run_dir)
    try:
        return [{k: v for k, v in r.items() if k != "latency_s"} for r in store.records()]
    finally:
        store.close()


def test_search_with_30pct_faults_ends_exactly_as_without(serve, tmp_path, gsm):
    clean, faulty = serve(), serve(faults())
    results = {}
    for name, server in (("clean", clean), ("faulty", faulty)):
        pool = http_models(ModelPool.builtin(), server.base_url)
        results[name] = asyncio.run(search(pool, Settings(home=tmp_path / f"home-{name}"), gsm,
                                           out=tmp_path / f"run-{name}"))
    (a, hub_a), (b, hub_b) = results["clean"], results["faulty"]
    seen = faulty.app.state.stats
    assert set(seen.faults) == set(FAULT_KINDS), seen.faults  # every kind was met, and survived
    assert sum(seen.faults.values()) > 0.15 * seen.requests
    assert comparable(b) == comparable(a)
    assert b.evaluations == a.evaluations == sum(r.n for r in a.trace.records if r.phase != "test"
                                                 and r.phase != "single")
    # the checkpointed trace on disk holds the same evaluations, none lost, none twice
    assert _stored_records(tmp_path / "run-faulty") == _stored_records(tmp_path / "run-clean")
    assert len({r["seq"] for r in _stored_records(tmp_path / "run-faulty")}) == len(a.trace.records)
    # the same distinct calls were paid for, and no retried request was answered twice by the server
    # (paid can exceed distinct when two graphs send one identical call at once: timing, not faults)
    assert hub_b.distinct == hub_a.distinct
    assert hub_b.distinct <= hub_b.hub.stats.paid <= seen.completions
    assert any(w == 0.5 for w in hub_b.sleep.waits)  # the 429s' Retry-After was read


GRAPH = GraphSpec(name="vote3", nodes=[
    NodeSpec(id="a", role="solver", model="http/llama-3.2-1b"), NodeSpec(id="b", role="solver", model="http/llama-3.2-3b"),
    NodeSpec(id="c", role="solver", model="http/llama-3.1-8b"), NodeSpec(id="f", role="fuser", model="http/llama-3.1-8b")],
    edges=[("a", "f"), ("b", "f"), ("c", "f")])
EVAL_ITEMS = 16


def _eval(server, home, gsm, store_path):
    pool = http_models(ModelPool.builtin(), server.base_url)
    http = http_hub(pool, Settings(home=home))

    async def main():
        try:
            with ResultsStore(store_path) as store:
                return await evaluate(GRAPH, gsm, gsm.items("test", EVAL_ITEMS, 0), hub=http.hub, store=store,
                                      concurrency=8)
        finally:
            await http.aclose()

    return asyncio.run(main()), http


def test_evaluation_with_30pct_faults_ends_exactly_as_without(serve, tmp_path, gsm):
    clean, faulty = serve(), serve(faults(seed=SEED + 1))
    a, hub_a = _eval(clean, tmp_path / "ha", gsm, tmp_path / "a.sqlite")
    b, hub_b = _eval(faulty, tmp_path / "hb", gsm, tmp_path / "b.sqlite")
    assert sum(faulty.app.state.stats.faults.values()) > 0
    assert b.failures == a.failures == 0 and b.n == a.n == EVAL_ITEMS
    strip = lambda r: [it.model_dump(exclude={"latency_s", "critical_path_s", "node_usage"}) for it in r.items]  # noqa: E731
    assert strip(b) == strip(a)
    assert (b.accuracy, b.tokens, b.cost_usd) == (a.accuracy, a.tokens, a.cost_usd)
    with ResultsStore(tmp_path / "b.sqlite") as store:
        runs = store.runs()
        assert len(runs) == 1 and runs[0]["n"] == EVAL_ITEMS
        assert [it.item_id for it in store.load(runs[0]["id"]).items] == [it.item_id for it in a.items]
    assert hub_b.distinct == hub_a.distinct == EVAL_ITEMS * len(GRAPH.nodes)
    assert hub_b.hub.stats.paid <= faulty.app.state.stats.completions


def test_cli_eval_through_a_faulty_server_with_the_default_client(serve, tmp_path, monkeypatch):
    """The real CLI path (default timeout, attempts and real backoff sleeps), faults without hangs."""
    graph = save_graph(GRAPH, tmp_path / "vote3.yaml")
    outs = []
    for name, server in (("clean", serve()), ("faulty", serve(faults(0.15, [k for k in FAULT_KINDS if k != "timeout"])))):
        pool = http_models(ModelPool.builtin(), server.base_url)
        pool_file = pool_yaml(tmp_path / f"pool-{name}.yaml", [s for s in pool if s.id.startswith("http/")])
        monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / f"home-{name}"))
        run = cli(["eval", graph, "--task", "gsm", "--n", "8", "--pool", pool_file, "--json"])
        assert run.code == 0, run.err[-2000:]
        outs.append(json.loads(run.out.splitlines()[0]))
    keep = ("n", "accuracy", "ci95", "tokens", "cost_usd", "failures", "flops_units")
    assert {k: outs[1][k] for k in keep} == {k: outs[0][k] for k in keep}
    assert outs[1]["failures"] == 0


def faults_from_iteration(base: type) -> type:
    """`base` (an Agent-REINFORCE class) whose server starts failing every request once iteration
    STOP_AFTER is observed."""

    class FaultsFromIteration(base):
        server = None

        async def observe(self, iteration, evaluations, ctx):
            await super().observe(iteration, evaluations, ctx)
            if iteration == STOP_AFTER:
                set_faults(self.server, faults(1.0, [k for k in FAULT_KINDS if k != "timeout"]))  # hangs: above

    return FaultsFromIteration


def _cached_keys(home) -> set[str]:
    """The keys of every call a home's response cache holds (one row per distinct call answered)."""
    with sqlite3.connect(Settings(home=home).cache_path) as db:
        return {key for (key,) in db.execute("SELECT key FROM responses")}


@pytest.mark.parametrize("agent", [AgentReinforce, GPAgentReinforce], ids=["default", "gp"])
def test_all_requests_failing_stops_with_one_line_then_resumes_to_the_same_result(serve, tmp_path, gsm, monkeypatch,
                                                                                    agent):
    server = serve()
    pool = http_models(ModelPool.builtin(), server.base_url)
    pool_file = pool_yaml(tmp_path / "pool.yaml", [s for s in pool if s.id.startswith("http/")])
    config = tiny_config(iterations=ITERATIONS)
    # The uninterrupted run keeps a run directory too: a run directory's search ends by scoring its front on
    # paired fit and test items (optimize/rebuild.py `pair_front`), calls a search without one never makes.
    full, full_hub = asyncio.run(search(pool, Settings(home=tmp_path / "home-full"), gsm, config=config,
                                        optimizer=agent(pilot_batch=4), out=tmp_path / "run-full"))
    full_paid = full_hub.hub.stats.paid

    run_dir = tmp_path / "run"
    broken = faults_from_iteration(agent)
    broken.server = server
    with pytest.raises(RolegraphError) as caught:
        asyncio.run(search(pool, Settings(home=tmp_path / "home"), gsm, optimizer=broken(pilot_batch=4),
                           config=config, out=run_dir, attempts=3, pool_path=pool_file))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    assert "failed" in message or "fault" in message or "error" in message.lower(), message
    store = RunStore.open(run_dir)
    try:
        iteration, phase, _ = store.checkpoint()
        assert STOP_AFTER <= iteration <= ITERATIONS and phase == "search"  # (cached calls still answer)
        assert store.config()["task_args"] == TASK_ARGS
        assert store.config()["optimizer"]["name"] == agent.name
    finally:
        store.close()
    before_resume = _cached_keys(tmp_path / "home")
    assert 0 < len(before_resume) < full_paid

    set_faults(server, None)  # the endpoint is back: `rolegraph optimize --resume` finishes the search
    monkeypatch.setenv("ROLEGRAPH_HOME", str(tmp_path / "home"))
    resumed = cli(["optimize", "--resume", run_dir, "--json"])
    assert resumed.code == 0, resumed.err[-2000:]
    summary = json.loads(resumed.out.splitlines()[-1])
    want = comparable(full)
    assert (summary["best_hash"], summary["evaluations"], summary["iterations"]) == \
        (full.best_hash, full.evaluations, full.iterations)
    def decided(score: dict) -> dict:  # the test's figures, without how the run went (its calls: which session)
        return {k: v for k, v in score.items() if k not in WALL_FIELDS and k not in ("held_out", "calls")}

    assert decided(summary["test"]) == decided(json.loads(json.dumps(want["test"])))
    # Both sessions together made exactly the uninterrupted run's calls, and the resumed one paid only for the
    # calls the first session had not answered: what was paid before the faults is not paid again.
    after = _cached_keys(tmp_path / "home")
    assert after == _cached_keys(tmp_path / "home-full")
    assert summary["paid_calls"] == len(after - before_resume) < full_paid
    again, _ = asyncio.run(resume(run_dir, pool, Settings(home=tmp_path / "home"), gsm))  # the finished run
    assert comparable(again) == want
