"""Requests abandoned at their `timeout_s` reach an evaluation's result, its store and the tables a user reads: the
hub counted them (`models/timeouts.py`), but `eval`'s table, `eval --json` and `rolegraph results` said nothing, and
a Ray worker's count never reached the driver. On the loopback server of tests/models/test_timed_out_attempts.py,
which answers each distinct request slower than `timeout_s` the first time and at once after that: each item's call
is abandoned once and answered by its retry."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pytest

from rolegraph.evaluate import ray_actors
from rolegraph.evaluate.ray_actors import ItemWorker, _Setup
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.cache import ResponseCache
from rolegraph.models.hub import CallStats, ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.models.timeouts import TimedOutWarning
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from rolegraph.tasks.registry import get_task
from tests.models.fake_servers import SlowFirstTime
from tests.models.test_timed_out_attempts import MODEL, PRICE_IN, PRICE_OUT, SLOW_S, TIMEOUT_S, _spec

MAX_TOKENS = 200  # the node's: each abandoned request may be billed this much output
ITEMS = 2
WORST_LOW = ITEMS * MAX_TOKENS * PRICE_OUT / 1e6  # their output alone
WORST_HIGH = WORST_LOW + ITEMS * 2000 * PRICE_IN / 1e6  # and a prompt of at most 2,000 tokens each
NOTE = "2 request(s) timed out and were abandoned: the endpoint may bill them (up to $"


def _graph() -> GraphSpec:
    return GraphSpec.model_validate({"name": "one", "output": "out", "edges": [], "nodes": [
        {"id": "out", "role": "solver", "model": MODEL, "params": {"max_tokens": MAX_TOKENS}}]})


def _items():
    task = get_task("arith", seed=0)
    return task, task.items("test", n=ITEMS)


def test_an_evaluation_keeps_its_own_timed_out_requests_and_the_store_keeps_them(tmp_path):
    server = SlowFirstTime(SLOW_S)
    task, items = _items()
    with ServerThread(server.app) as srv, warnings.catch_warnings():
        warnings.simplefilter("ignore", TimedOutWarning)
        hub = ModelHub(ModelPool([_spec(srv.base_url)]), Settings(home=tmp_path / "home", cache=False))
        with ResultsStore(tmp_path / "r.sqlite") as store:

            async def twice():
                first = await evaluate(_graph(), task, items, hub=hub, progress=False, store=store)
                again = await evaluate(_graph(), task, items, hub=hub, progress=False, store=store)  # answered at once
                await hub.aclose()
                return first, again

            first, again = asyncio.run(twice())
            back, back_again = store.load(first.run_id), store.load(again.run_id)
            listed = {r["id"]: r for r in store.runs()}
    assert len(server.bodies) == 3 * ITEMS  # each item: abandoned, retried; then once more, answered at once
    assert first.timed_out_attempts == ITEMS and WORST_LOW <= first.timed_out_usd <= WORST_HIGH
    assert again.timed_out_attempts == 0 and again.timed_out_usd == 0.0  # its own, not the hub's running count
    assert hub.stats.timed_out_attempts == ITEMS
    assert first.summary()["timed_out_attempts"] == ITEMS and first.summary()["timed_out_usd"] == first.timed_out_usd
    assert (back.timed_out_attempts, back.timed_out_usd) == (ITEMS, first.timed_out_usd)
    assert (back_again.timed_out_attempts, back_again.timed_out_usd) == (0, 0.0)
    assert listed[first.run_id]["timed_out_attempts"] == ITEMS and listed[again.run_id]["timed_out_attempts"] == 0


def _pool_file(tmp_path, base_url: str):
    path = tmp_path / "pool.yaml"
    path.write_text(
        "models:\n"
        f"  - {{id: {MODEL}, backend: openai, base_url: \"{base_url}\", model: slow, params_b: 0.135,\n"
        f"     layers: 30, hidden: 576, price_in: {PRICE_IN}, price_out: {PRICE_OUT}, context_window: 4096,\n"
        f"     timeout_s: {TIMEOUT_S}, max_retries: 2, max_concurrency: 2}}\n")
    return path


def _rolegraph(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"ROLEGRAPH_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("ROLEGRAPH_POOL", None)
    return subprocess.run([sys.executable, "-m", "rolegraph", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_eval_and_results_show_the_timed_out_requests(tmp_path):
    server = SlowFirstTime(SLOW_S)
    graph = tmp_path / "one.yaml"
    graph.write_text(_graph().model_dump_json())
    store = tmp_path / "r.sqlite"
    with ServerThread(server.app) as srv:
        pool = _pool_file(tmp_path, srv.base_url)
        table = _rolegraph(tmp_path, "eval", str(graph), "--task", "arith", "--n", str(ITEMS), "--pool", str(pool),
                           "--store", str(store), "--no-cache")
        as_json = _rolegraph(tmp_path, "eval", str(graph), "--task", "arith", "--n", str(ITEMS), "--pool",
                             str(pool), "--store", str(store), "--no-cache", "--json")
    assert table.returncode == 0, table.stderr[-2000:]
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    assert len(server.bodies) == 3 * ITEMS  # the second command's requests were answered at once
    notes = [ln for ln in table.stdout.splitlines() if "timed out and were abandoned" in ln]
    assert notes == [notes[0]] and notes[0].startswith("note: graph 'one': " + NOTE), table.stdout
    assert notes[0].endswith("at the pool's prices); not in tokens or cost")
    assert "requests timed out (abandoned)" in table.stdout
    assert json.loads(as_json.stdout)["timed_out_attempts"] == 0  # nothing timed out in this one
    with ResultsStore(store) as opened:
        first = opened.runs()[-1]["id"]
    shown = _rolegraph(tmp_path, "results", first, "--store", str(store))
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "requests timed out (abandoned)" in shown.stdout and ("note: graph 'one': " + NOTE) in shown.stdout
    dumped = json.loads(_rolegraph(tmp_path, "results", first, "--store", str(store), "--json").stdout)
    assert dumped["timed_out_attempts"] == ITEMS and WORST_LOW <= dumped["timed_out_usd"] <= WORST_HIGH


def _worker_run(tmp_path, monkeypatch, srv, capped: bool) -> tuple:
    """One chunk of `ITEMS` items through a Ray item worker's own code (no Ray: the driver's cache is a local one,
    as tests/evaluate/test_ray_capped.py stands it in)."""
    from rolegraph.evaluate import ray_capped
    from rolegraph.optimize.spending import SpendMeter

    cache = ResponseCache(tmp_path / "cache.sqlite")
    monkeypatch.setattr(ray_actors, "RemoteCache", lambda server: cache)
    monkeypatch.setattr(ray_capped, "RemoteCache", lambda server: cache)
    pool, settings = ModelPool([_spec(srv.base_url)]), Settings(home=tmp_path / "home")
    worker: ItemWorker = ray_capped.CappedItemWorker(lambda s, t: None) if capped else ItemWorker(lambda s, t: None)
    setup = (ray_capped._CappedSetup if capped else _Setup)(pool, settings, "server")
    task, items = _items()
    ref = SimpleNamespace(hex=lambda: "task")
    worker._setups["k"], worker._tasks[("k", "task")] = setup, (task, None)
    args = ("k", [], _graph().model_dump_json(), [ref], items, None, 2, 0, None)
    try:
        out = worker.run_capped(SpendMeter, 10.0, *args) if capped else worker.run(*args)  # type: ignore[attr-defined]
    finally:
        cache.close()
        worker.loop.run_until_complete(setup.hub.aclose())
    return tuple(out[:8])


@pytest.mark.parametrize("capped", [False, True])
def test_a_ray_workers_chunk_returns_its_timed_out_requests_and_the_driver_adds_them(tmp_path, monkeypatch, capped):
    from rolegraph.evaluate.ray_capped import take_chunk

    server = SlowFirstTime(SLOW_S)
    with ServerThread(server.app) as srv, warnings.catch_warnings():
        warnings.simplefilter("ignore", TimedOutWarning)
        chunk = _worker_run(tmp_path, monkeypatch, srv, capped)
    kind, _, _, calls, _, _, timed_out, timed_out_usd = chunk
    assert kind == "ok" and calls == ITEMS and len(server.bodies) == 2 * ITEMS
    assert timed_out == {MODEL: ITEMS} and WORST_LOW <= timed_out_usd <= WORST_HIGH
    hub = SimpleNamespace(stats=CallStats(timed_out={MODEL: 1, "other": 3}, timed_out_usd=0.5))
    _, items = _items()
    results: list = [None] * ITEMS
    take_chunk(chunk, range(ITEMS), items, results, [False] * ITEMS, hub)  # type: ignore[arg-type]
    assert hub.stats.timed_out == {MODEL: 1 + ITEMS, "other": 3}
    assert hub.stats.timed_out_usd == pytest.approx(0.5 + timed_out_usd)
    assert all(r is not None for r in results)
