"""A dollar-cap stop lets the real calls already admitted under the cap finish: the endpoint bills them whether
or not the search reads the replies, so they are counted in `paid_usd` and cached, and `--resume` replays them
free. Before, the stop cancelled them: the probe's llama.cpp server finished both ($0.0582), run.sqlite said $0,
the cache held nothing and the resume sent both byte-identical requests again ($1.08195 stored against $1.14015
served). Checked here against a slow loopback server's own books (what it served), not rolegraph's counts."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async, resume_async
from rolegraph.optimize.rundir import RunStore
from rolegraph.optimize.space import SearchSpace
from rolegraph.optimize.spending import DollarCapReachedError
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread
from tests.models.slow_server import PRICE_IN, PRICE_OUT, SlowBilling

from .helpers import TINY_MODELS, TINY_ROLES, tiny_config

CAP_SHARE = 0.4  # of the uncapped search's bill: the cap stops it part-way, with calls in flight
DELAY_S = 0.15  # per reply: long enough that a step has calls in flight when one is refused


@pytest.fixture
def slow():
    server = SlowBilling(delay_s=DELAY_S)
    with ServerThread(server.app) as thread:
        yield server, thread.base_url


def _space(pool: ModelPool, base_url: str) -> SearchSpace:
    """The tiny space's models as real endpoints on the slow server (their sizes kept, so the budget fits)."""
    twins = [pool.get(m).model_copy(update={"id": "llc/" + m.split("/", 1)[1], "backend": "openai",
                                            "base_url": base_url, "model": m, "answer_key": False,
                                            "price_in": PRICE_IN, "price_out": PRICE_OUT})
             for m in TINY_MODELS]
    real = ModelPool(list(pool) + twins)
    return SearchSpace(pool=real, models=tuple(t.id for t in twins), roles=TINY_ROLES, max_nodes=3, budget=18.0)


def _search(space, home, task, out, **config):
    async def main():
        hub = ModelHub(space.pool, Settings(home=home, cache=True))
        try:
            return await optimize_async(task, space, make_optimizer("random"), hub=hub,
                                        config=tiny_config(route_items=0, **config), out=out,
                                        task_args={"name": "gsm", "size": 80})
        finally:
            await hub.aclose()

    return asyncio.run(main())


def _resume(space, home, task, run_dir, max_dollars):
    async def main():
        hub = ModelHub(space.pool, Settings(home=home, cache=True))
        try:
            return await resume_async(run_dir, hub.settings, hub=hub, task=task, max_dollars=max_dollars)
        finally:
            await hub.aclose()

    return asyncio.run(main())


def _stored_paid(run_dir) -> float:
    store = RunStore.open(run_dir)
    try:
        return store.paid_usd()
    finally:
        store.close()


def _keys(bodies: list[dict]) -> list[str]:
    return [json.dumps(b, sort_keys=True) for b in bodies]


def test_a_cap_stop_counts_and_caches_the_calls_in_flight_and_the_resume_sends_none_again(
        pool, small_task, tmp_path, slow):
    server, base_url = slow
    space = _space(pool, base_url)
    full = _search(space, tmp_path / "home-a", small_task, tmp_path / "run-a")
    server.settled()
    full_bill = server.billed()
    assert len(set(_keys(server.served))) == len(server.served)  # each request is sent once (the cache)
    assert full_bill > 0 and _stored_paid(tmp_path / "run-a") == pytest.approx(full_bill, rel=1e-12)
    start = len(server.served)

    with pytest.raises(DollarCapReachedError) as stop:
        _search(space, tmp_path / "home-b", small_task, tmp_path / "run-b", max_dollars=CAP_SHARE * full_bill)
    in_flight = float(re.search(r"\+ \$([0-9.e-]+) in flight", str(stop.value)).group(1))
    assert in_flight > 0  # the refusal came while calls of the step were in flight
    server.settled()
    capped = start
    first = server.served[capped:]
    assert first, "the capped session paid for nothing"
    # every reply the server finished for the capped session is in its stored total (none left uncounted)
    assert _stored_paid(tmp_path / "run-b") == pytest.approx(server.billed(capped), rel=1e-12)

    resumed_from = len(server.served)
    again = _resume(space, tmp_path / "home-b", small_task, tmp_path / "run-b", max_dollars=10 * full_bill)
    server.settled()
    second = server.served[resumed_from:]
    assert not set(_keys(first)) & set(_keys(second))  # the resume sent no request the capped session had sent
    assert len(set(_keys(first + second))) == len(first + second)
    assert again.best_hash == full.best_hash
    # the run's stored total is what the server billed over both sessions, and the uncapped run's total
    assert _stored_paid(tmp_path / "run-b") == pytest.approx(server.billed(capped), rel=1e-12)
    assert _stored_paid(tmp_path / "run-b") == pytest.approx(full_bill, rel=1e-12)
